/**
 * Events headroom-ts itself sends on a Responses WebSocket: errors, in the shape the upstream
 * uses for them (`{"type":"error","status":..,"error":{type,code,message,param}}`, with the
 * code and message repeated at the top level as the HTTP stream's error event has them).
 */
import { openaiErrors } from '../../providers/errors.js';
import type { ErrorType } from '../../core/outcome.js';

export function errorEvent(status: number, type: ErrorType, message: string): string {
  const { error } = JSON.parse(openaiErrors.errorBody(status, type, message)) as { error: { type: string; code: string | null; message: string; param: null } };
  return JSON.stringify({ type: 'error', status, code: error.code ?? error.type, message, param: null, error });
}

/** A close code we may send (1005/1006/1015 are reserved for "none received"/"abnormal"/TLS). */
export function sendableCode(code: number | undefined, fallback: number): number {
  if (code === undefined) return fallback;
  if (code === 1000 || (code >= 1001 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999)) return code;
  return fallback;
}

/** A close reason fits in a control frame (123 bytes). */
export function closeReason(text: string): string {
  let s = text;
  while (Buffer.byteLength(s) > 123) s = s.slice(0, -1);
  return s;
}
