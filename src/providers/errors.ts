/**
 * Error envelopes in each provider's own shape, so official SDKs raise their usual error
 * classes for errors headroom-ts produces (bad input, upstream down, budget, rate limit).
 */
import type { ErrorType } from './types.js';
import { sseFrame } from './sse.js';
import type { ErrorShapes } from './types.js';

function anthropicType(status: number, type: ErrorType): string {
  if (type === 'budget_exceeded') return 'budget_exceeded';
  if (type === 'body_too_large' || status === 413) return 'request_too_large';
  if (type === 'body_timeout') return 'timeout_error';
  if (type === 'upstream_timeout' || status === 504) return 'timeout_error';
  if (type === 'upstream_overloaded' || type === 'shutdown' || status === 529) return 'overloaded_error';
  switch (status) {
    case 400:
    case 415:
    case 422:
      return 'invalid_request_error';
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 429:
      return 'rate_limit_error';
    default:
      return 'api_error';
  }
}

export const anthropicErrors: ErrorShapes = {
  errorBody(status, type, message) {
    return JSON.stringify({ type: 'error', error: { type: anthropicType(status, type), message } });
  },
  streamErrorFrame(type, message) {
    const status = type === 'upstream_timeout' ? 504 : type === 'upstream_overloaded' ? 529 : 500;
    return sseFrame('error', JSON.stringify({ type: 'error', error: { type: anthropicType(status, type), message } }));
  },
};

function openaiType(status: number, type: ErrorType): { type: string; code: string | null } {
  if (type === 'budget_exceeded') return { type: 'budget_exceeded', code: 'budget_exceeded' };
  if (type === 'rate_limited') return { type: 'rate_limit_error', code: 'rate_limit_exceeded' };
  if (type === 'body_too_large') return { type: 'invalid_request_error', code: 'request_too_large' };
  if (type === 'body_timeout') return { type: 'invalid_request_error', code: 'request_timeout' };
  if (type === 'upstream_timeout') return { type: 'server_error', code: 'upstream_timeout' };
  if (type === 'upstream_connect') return { type: 'server_error', code: 'upstream_unavailable' };
  if (type === 'upstream_stream') return { type: 'server_error', code: 'upstream_stream_error' };
  if (type === 'shutdown') return { type: 'server_error', code: 'server_shutting_down' };
  if (status === 401) return { type: 'authentication_error', code: 'invalid_api_key' };
  if (status === 404) return { type: 'invalid_request_error', code: 'not_found' };
  if (status >= 400 && status < 500) return { type: 'invalid_request_error', code: null };
  return { type: 'server_error', code: null };
}

export const openaiErrors: ErrorShapes = {
  errorBody(status, type, message) {
    const t = openaiType(status, type);
    return JSON.stringify({ error: { message, type: t.type, param: null, code: t.code } });
  },
  streamErrorFrame(type, message) {
    const t = openaiType(500, type);
    return sseFrame(null, JSON.stringify({ error: { message, type: t.type, param: null, code: t.code } }));
  },
};

/** Responses API streams report errors as an `error` event. */
export const openaiResponsesErrors: ErrorShapes = {
  errorBody: openaiErrors.errorBody,
  streamErrorFrame(type, message) {
    const t = openaiType(500, type);
    // Top-level fields follow the Responses event shape; `error` makes the official SDK raise APIError.
    const error = { message, type: t.type, param: null, code: t.code };
    return sseFrame('error', JSON.stringify({ type: 'error', code: t.code ?? t.type, message, param: null, error }));
  },
};
