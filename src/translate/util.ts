/** Small readers for untyped JSON bodies, and the error a translation raises on bad input. */
export type Json = Record<string, unknown>;

export const isObj = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
export const asArr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const asStr = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const asNum = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
export const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);

/** A request that has no faithful counterpart in the other format: answered 400 in the client's shape. */
export class TranslationError extends Error {
  override readonly name = 'TranslationError';
  readonly status = 400;
}

/** Arguments text -> the object Anthropic wants; text that is not a JSON object is kept under `raw_arguments`. */
export function parseArguments(text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  try {
    const v: unknown = JSON.parse(text);
    if (isObj(v)) return v;
  } catch {
    // fall through
  }
  return { raw_arguments: text };
}

/** Marks an Anthropic `is_error` tool result in OpenAI's tool message, which has no such field. */
export const TOOL_ERROR_PREFIX = '[tool error] ';

let seq = 0;
/** An id for an item the upstream gave none (unique within the process). */
export function makeId(prefix: string): string {
  seq = (seq + 1) % 0x1000000;
  return `${prefix}${Date.now().toString(36)}${seq.toString(36).padStart(5, '0')}${Math.random().toString(36).slice(2, 10)}`;
}
