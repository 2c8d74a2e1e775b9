/**
 * Gemini errors (`{"error":{"code":400,"message","status":"INVALID_ARGUMENT"}}`) in the
 * client's shape, the upstream's HTTP status kept (the SDKs pick their error class by it);
 * OpenAI clients see Gemini's `status` as the error code.
 */
import { anthropicErrorBody, openAIErrorBody, type ErrorReply, parseUpstreamError } from '../errors.js';
import type { ApiFormat } from '../types.js';
import { isObj } from '../util.js';

export function parseGeminiError(status: number, body: string | Buffer | unknown): { message: string; status: string | null } {
  let v: unknown = body;
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    try {
      v = JSON.parse(body.toString().slice(0, 64 * 1024));
    } catch {
      return { message: parseUpstreamError(status, body).message, status: null };
    }
  }
  // an error inside a JSON-array stream arrives as a one-element array
  if (Array.isArray(v) && v.length > 0) v = v[0];
  if (isObj(v) && isObj(v.error)) {
    const e = v.error;
    return { message: typeof e.message === 'string' ? e.message : JSON.stringify(e), status: typeof e.status === 'string' ? e.status : null };
  }
  return { message: parseUpstreamError(status, v).message, status: null };
}

export function geminiErrorToClient(status: number, body: string | Buffer | unknown, client: ApiFormat): ErrorReply {
  const e = parseGeminiError(status, body);
  const s = status >= 400 && status <= 599 ? status : 502;
  if (client === 'anthropic') return { status: s, body: anthropicErrorBody(s, e.message) };
  return { status: s, body: openAIErrorBody(s, e.message, e.status ?? undefined) };
}
