/**
 * The retrieval endpoints, with Headroom's shapes (the `headroom-ai` SDK calls them):
 *
 * - `POST /v1/retrieve` `{hash, query?}` and `GET /v1/retrieve/:hash[?query=]`: the original
 *   (`original_content` is always the whole original; with a query, `search` adds the lines or
 *   rows that mention it). 400 `{"detail":"hash required"}`, 404 `{"detail":"<why>"}`.
 * - `POST /v1/retrieve/tool_call` `{tool_call, provider}`: runs a `headroom_retrieve` call and
 *   returns a provider-shaped tool result (a miss is a 200 with `success: false`).
 * - `GET /v1/retrieve/stats`: the store's figures and the 20 most recent retrievals.
 *
 * Loopback-only unless a proxy token is configured (`admin` access).
 */
import { readBody, sendJson } from '../../core/http.js';
import type { Router, RouteRequest } from '../../core/router.js';
import type { CcrStore, Lookup } from '../../originals/store.js';
import { answerRetrieve, missDetail, RETRIEVE_TOOL_NAME } from './tool.js';

const MAX_BODY = 1024 * 1024;
const HEX = /^[0-9a-f]+$/i;
const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

type Miss = Extract<Lookup, { status: 'missing' | 'expired' }>;

async function jsonBody(r: RouteRequest): Promise<{ ok: true; value: Record<string, unknown> } | { ok: false; status: number; detail: string }> {
  const result = await readBody(r.req, MAX_BODY);
  if (result.kind === 'aborted') return { ok: false, status: 400, detail: 'request aborted' };
  if (result.kind === 'too_large') return { ok: false, status: 413, detail: `Request body exceeds ${MAX_BODY} bytes` };
  let v: unknown;
  try {
    v = result.body.length ? JSON.parse(result.body.toString('utf8')) : {};
  } catch (err) {
    return { ok: false, status: 400, detail: `Invalid JSON body: ${(err as Error).message}` };
  }
  if (!isObj(v)) return { ok: false, status: 400, detail: 'Request body must be a JSON object' };
  return { ok: true, value: v };
}

function retrieve(store: CcrStore, r: RouteRequest, hash: unknown, query: unknown): void {
  if (typeof hash !== 'string' || !hash.trim()) return sendJson(r.res, 400, { detail: 'hash required' });
  const q = typeof query === 'string' && query.trim() ? query.trim() : null;
  // `original_content` is always the whole original (Headroom's shape); a query adds `search`
  const a = answerRetrieve(store, { hash, query: q }, 'api');
  if (a.lookup.status !== 'available') return sendJson(r.res, 404, { detail: missDetail(a.lookup, store.ttlSeconds) });
  const e = a.lookup.entry;
  const out: Record<string, unknown> = {
    hash: e.hash,
    original_content: e.original,
    original_tokens: e.originalTokens,
    original_item_count: e.originalItems,
    compressed_item_count: e.keptItems,
    tool_name: e.toolName,
    retrieval_count: e.retrievals,
    unit: e.unit,
    transforms: e.transforms,
  };
  if (q && a.search) out.search = { query: q, matched: a.search.matched, total: a.search.total, unit: a.search.unit, text: a.text };
  sendJson(r.res, 200, out);
}

interface ToolCallParts {
  id: string;
  name: unknown;
  args: unknown;
}

function toolCallParts(call: Record<string, unknown>, provider: string): ToolCallParts {
  const id = typeof call.id === 'string' ? call.id : '';
  if (provider === 'openai') {
    const fn = isObj(call.function) ? call.function : {};
    let args: unknown = {};
    if (typeof fn.arguments === 'string') {
      try {
        args = JSON.parse(fn.arguments);
      } catch {
        args = {};
      }
    } else if (isObj(fn.arguments)) args = fn.arguments;
    return { id, name: fn.name, args };
  }
  if (provider === 'google') {
    const fc = isObj(call.functionCall) ? call.functionCall : {};
    return { id, name: fc.name, args: fc.args };
  }
  if (provider === 'anthropic') return { id, name: call.name, args: call.input };
  return { id, name: call.name, args: call.input ?? call.args };
}

function toolCall(store: CcrStore, r: RouteRequest, body: Record<string, unknown>): void {
  const provider = typeof body.provider === 'string' ? body.provider : 'anthropic';
  const call = body.tool_call;
  const invalid = () => sendJson(r.res, 400, { detail: 'Invalid tool call or not a headroom_retrieve call' });
  if (!isObj(call)) return invalid();
  const { id, name, args } = toolCallParts(call, provider);
  const hash = isObj(args) ? args.hash : undefined;
  if (name !== RETRIEVE_TOOL_NAME || typeof hash !== 'string' || (hash.length !== 12 && hash.length !== 24) || !HEX.test(hash)) return invalid();
  const query = isObj(args) && typeof args.query === 'string' ? args.query : null;
  const a = answerRetrieve(store, { hash, query }, 'api');
  let data: Record<string, unknown>;
  if (a.lookup.status === 'available') {
    const e = a.lookup.entry;
    data = { hash: e.hash, original_content: query ? a.text : e.original, original_item_count: e.originalItems, compressed_item_count: e.keptItems };
    if (query) data.query = query;
  } else {
    const miss: Miss = a.lookup;
    data = { error: missDetail(miss, store.ttlSeconds), hash: miss.hash, status: miss.status, ttl_seconds: store.ttlSeconds };
  }
  const content = JSON.stringify(data, null, 2);
  const toolResult =
    provider === 'anthropic'
      ? { type: 'tool_result', tool_use_id: id, content }
      : provider === 'openai'
        ? { role: 'tool', tool_call_id: id, content }
        : { tool_call_id: id, content };
  sendJson(r.res, 200, { tool_result: toolResult, success: !('error' in data), data });
}

function stats(store: CcrStore, r: RouteRequest): void {
  const s = store.stats();
  sendJson(r.res, 200, {
    store: {
      entry_count: s.entries,
      max_entries: s.maxEntries,
      default_ttl_seconds: s.ttlSeconds,
      total_original_tokens: s.originalTokens,
      total_compressed_tokens: s.compressedTokens,
      total_retrievals: s.retrievals,
      event_count: s.retrievals,
      backend: { backend_type: s.backend, entry_count: s.entries, bytes_used: s.bytes, max_bytes: s.maxBytes, ...(s.path ? { db_path: s.path } : {}) },
      hits: s.hits,
      misses: s.misses,
      expired: s.expired,
      evictions: s.evictions,
      last_error: s.lastError,
    },
    recent_retrievals: store.recentRetrievals().map((e) => ({
      hash: e.hash,
      query: e.query,
      items_retrieved: e.itemsRetrieved,
      total_items: e.totalItems,
      tool_name: e.toolName,
      retrieval_type: e.retrievalType,
      via: e.via,
      timestamp: new Date(e.at).toISOString(),
    })),
  });
}

export function registerRetrieveRoutes(router: Router, store: CcrStore): void {
  router
    .add('GET', '/v1/retrieve/stats', (r) => stats(store, r), 'admin')
    .add('POST', '/v1/retrieve/tool_call', async (r) => {
      const b = await jsonBody(r);
      if (!b.ok) return sendJson(r.res, b.status, { detail: b.detail });
      const call = isObj(b.value.tool_call) ? b.value.tool_call : null;
      const args = call ? toolCallParts(call, typeof b.value.provider === 'string' ? b.value.provider : 'anthropic').args : null;
      if (store.prefetch && isObj(args)) await store.prefetch([args.hash]);
      toolCall(store, r, b.value);
    }, 'admin')
    .add('POST', '/v1/retrieve', async (r) => {
      const b = await jsonBody(r);
      if (!b.ok) return sendJson(r.res, b.status, { detail: b.detail });
      if (store.prefetch) await store.prefetch([b.value.hash]);
      retrieve(store, r, b.value.hash, b.value.query);
    }, 'admin')
    .add('GET', '/v1/retrieve/:hash', async (r) => {
      // an original another instance stored is fetched from the shared store first
      if (store.prefetch) await store.prefetch([r.params.hash]);
      retrieve(store, r, r.params.hash, r.query.get('query'));
    }, 'admin');
}
