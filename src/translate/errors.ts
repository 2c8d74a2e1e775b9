/**
 * Errors in the client's own shape. An upstream error body (OpenAI `{error:{message,type,code}}`,
 * Anthropic `{type:"error",error:{type,message}}`, or anything else) is answered in the format
 * the client speaks, with the upstream's HTTP status kept, so each official SDK raises its usual
 * error class (the SDKs pick the class by status).
 */
import { sseFrame } from '../providers/sse.js';
import type { ApiFormat } from './types.js';
import { isObj } from './util.js';

export interface UpstreamError {
  message: string;
  /** The upstream's own error type or code, when it gave one. */
  type: string | null;
}

export interface ErrorReply {
  status: number;
  body: string;
}

/** Reads whatever error body an upstream sent. */
export function parseUpstreamError(status: number, body: string | Buffer | unknown): UpstreamError {
  let v: unknown = body;
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    const text = body.toString().slice(0, 64 * 1024);
    try {
      v = JSON.parse(text);
    } catch {
      return { message: text.trim() || `upstream answered HTTP ${status}`, type: null };
    }
  }
  if (isObj(v)) {
    const e = isObj(v.error) ? v.error : null;
    if (e) {
      const type = typeof e.type === 'string' ? e.type : typeof e.code === 'string' ? e.code : null;
      return { message: typeof e.message === 'string' ? e.message : JSON.stringify(e), type };
    }
    if (typeof v.error === 'string') return { message: v.error, type: null };
    if (typeof v.message === 'string') return { message: v.message, type: typeof v.type === 'string' ? v.type : null };
    if (v.detail !== undefined) return { message: typeof v.detail === 'string' ? v.detail : JSON.stringify(v.detail), type: null };
  }
  return { message: `upstream answered HTTP ${status}`, type: null };
}

export function anthropicErrorType(status: number): string {
  if (status === 400 || status === 415 || status === 422) return 'invalid_request_error';
  if (status === 401) return 'authentication_error';
  if (status === 402) return 'billing_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 413) return 'request_too_large';
  if (status === 429) return 'rate_limit_error';
  if (status === 504) return 'timeout_error';
  if (status === 503 || status === 529) return 'overloaded_error';
  return status >= 400 && status < 500 ? 'invalid_request_error' : 'api_error';
}

export function openAIErrorType(status: number): { type: string; code: string | null } {
  if (status === 401) return { type: 'invalid_request_error', code: 'invalid_api_key' };
  if (status === 404) return { type: 'invalid_request_error', code: 'model_not_found' };
  if (status === 429) return { type: 'rate_limit_error', code: 'rate_limit_exceeded' };
  if (status >= 400 && status < 500) return { type: 'invalid_request_error', code: null };
  return { type: 'server_error', code: null };
}

export function anthropicErrorBody(status: number, message: string): string {
  return JSON.stringify({ type: 'error', error: { type: anthropicErrorType(status), message } });
}

export function openAIErrorBody(status: number, message: string, code?: string | null): string {
  const t = openAIErrorType(status);
  return JSON.stringify({ error: { message, type: t.type, param: null, code: code ?? t.code } });
}

/** An upstream error in the client's shape; the status is the upstream's. */
export function translateError(status: number, body: string | Buffer | unknown, client: ApiFormat): ErrorReply {
  const e = parseUpstreamError(status, body);
  const s = status >= 400 && status <= 599 ? status : 502;
  if (client === 'anthropic') return { status: s, body: anthropicErrorBody(s, e.message) };
  // OpenAI clients see the upstream's own type as the code (e.g. overloaded_error)
  return { status: s, body: openAIErrorBody(s, e.message, e.type ?? undefined) };
}

/** A mid-stream error event in the client's stream format (HTTP status already sent). */
export function streamErrorFrame(client: ApiFormat, message: string, status = 500): string {
  if (client === 'anthropic') return sseFrame('error', JSON.stringify({ type: 'error', error: { type: anthropicErrorType(status), message } }));
  const t = openAIErrorType(status);
  return sseFrame(null, JSON.stringify({ error: { message, type: t.type, param: null, code: t.code } }));
}
