/**
 * The response-cache key: SHA-256 over a canonical form of what the client sent.
 * - Every body field counts (model, messages, system, tools, tool_choice, temperature, top_p,
 *   top_k, max_tokens, stop sequences, thinking, response_format, seed, ...), with object
 *   keys sorted, so new API fields are never silently ignored.
 * - `cache_control` is removed wherever it appears (it changes provider billing, not the
 *   answer), and so are top-level fields that only label or route a request: `metadata`,
 *   `user`, `safety_identifier`, `prompt_cache_key`, `prompt_cache_retention`, `stream`,
 *   `stream_options`.
 * - The route, the caller's API-key hash and the `anthropic-version` / `anthropic-beta` /
 *   `openai-beta` headers are part of the key: one caller never receives a response cached
 *   for another key.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

const IGNORED_TOP_LEVEL = new Set(['metadata', 'user', 'safety_identifier', 'prompt_cache_key', 'prompt_cache_retention', 'stream', 'stream_options']);
const KEY_HEADERS = ['anthropic-version', 'anthropic-beta', 'openai-beta'] as const;
/** Strings at least this long are written raw with a length prefix instead of JSON-escaped. */
const RAW_STRING = 256;
const BATCH = 8192;

interface Sink {
  update(s: string): unknown;
}

/**
 * Writes the canonical form in batches: small pieces are joined, long strings (tool output,
 * logs) go to the sink as they are, length-prefixed (`s<length>:`), so they are neither
 * escaped nor copied. Short strings are JSON strings (they start with `"`), so the two forms
 * cannot be confused.
 */
class Writer {
  private parts: string[] = [];
  private size = 0;

  constructor(private readonly sink: Sink) {}

  put(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= BATCH) this.flush();
  }

  str(s: string): void {
    if (s.length < RAW_STRING) {
      this.put(JSON.stringify(s));
      return;
    }
    this.put(`s${s.length}:`);
    this.flush();
    this.sink.update(s);
  }

  flush(): void {
    if (this.parts.length === 0) return;
    this.sink.update(this.parts.length === 1 ? (this.parts[0] as string) : this.parts.join(''));
    this.parts = [];
    this.size = 0;
  }
}

function canonical(v: unknown, w: Writer, top: boolean): void {
  if (typeof v === 'string') {
    w.str(v);
    return;
  }
  if (v === null || typeof v !== 'object') {
    w.put(v === undefined ? 'null' : String(JSON.stringify(v)));
    return;
  }
  if (Array.isArray(v)) {
    w.put('[');
    for (let i = 0; i < v.length; i++) {
      if (i > 0) w.put(',');
      canonical(v[i], w, false);
    }
    w.put(']');
    return;
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  w.put('{');
  let first = true;
  for (const k of keys) {
    if (k === 'cache_control' || (top && IGNORED_TOP_LEVEL.has(k)) || o[k] === undefined) continue;
    if (!first) w.put(',');
    first = false;
    w.put(JSON.stringify(k));
    w.put(':');
    canonical(o[k], w, false);
  }
  w.put('}');
}

/** The canonical text of a body (tests, diagnostics). */
export function canonicalBody(body: Record<string, unknown>): string {
  const out: string[] = [];
  const w = new Writer({ update: (s: string) => out.push(s) });
  canonical(body, w, true);
  w.flush();
  return out.join('');
}

export function cacheKey(path: string, apiKeyHash: string | null, headers: IncomingHttpHeaders, body: Record<string, unknown>): string {
  const h = createHash('sha256');
  h.update(path).update('\u0000').update(apiKeyHash ?? '-');
  for (const name of KEY_HEADERS) {
    const v = headers[name];
    h.update('\u0000').update(v === undefined ? '' : Array.isArray(v) ? v.join(',') : v);
  }
  h.update('\u0000');
  const w = new Writer(h);
  canonical(body, w, true);
  w.flush();
  return h.digest('hex');
}
