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

function canonical(v: unknown, out: string[], top: boolean): void {
  if (v === null || typeof v !== 'object') {
    out.push(v === undefined ? 'null' : JSON.stringify(v));
    return;
  }
  if (Array.isArray(v)) {
    out.push('[');
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out.push(',');
      canonical(v[i], out, false);
    }
    out.push(']');
    return;
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  out.push('{');
  let first = true;
  for (const k of keys) {
    if (k === 'cache_control' || (top && IGNORED_TOP_LEVEL.has(k)) || o[k] === undefined) continue;
    if (!first) out.push(',');
    first = false;
    out.push(JSON.stringify(k), ':');
    canonical(o[k], out, false);
  }
  out.push('}');
}

/** The canonical text of a body (exported for tests). */
export function canonicalBody(body: Record<string, unknown>): string {
  const out: string[] = [];
  canonical(body, out, true);
  return out.join('');
}

export function cacheKey(path: string, apiKeyHash: string | null, headers: IncomingHttpHeaders, body: Record<string, unknown>): string {
  const h = createHash('sha256');
  h.update(path).update('\u0000').update(apiKeyHash ?? '-');
  for (const name of KEY_HEADERS) {
    const v = headers[name];
    h.update('\u0000').update(v === undefined ? '' : Array.isArray(v) ? v.join(',') : v);
  }
  h.update('\u0000').update(canonicalBody(body));
  return h.digest('hex');
}
