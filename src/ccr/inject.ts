/**
 * Adding `headroom_retrieve` to a forwarded request. The tool is added when the request shows
 * a marker whose original the store holds, and from then on to every request of the same
 * conversation (sticky), so the tools array never flips back and busts the prompt cache.
 * The definition bytes are fixed (`TOOL_BYTES`), appended at the end of `tools`; every other
 * byte of the body is kept as received.
 *
 * A conversation is identified by `x-headroom-session-id` when the client sends one, else by
 * the provider, API key hash, system prompt / instructions and the first two items of the
 * conversation as forwarded (stable from turn to turn: history is replayed byte for byte).
 */
import { createHash } from 'node:crypto';
import { findMarkers } from '../compress/markers.js';
import { RETRIEVE_TOOL_RE } from '../compress/request/slots.js';
import type { Exchange } from '../proxy/exchange.js';
import { appendField, appendToArray, applySplices, arrayItems, type Range, topLevel } from './body.js';
import type { CcrStore } from './store.js';
import { TOOL_BYTES, type ToolFormat } from './tool.js';

export type InjectDecision =
  | { kind: 'none' }
  /** The client brings its own retrieve tool: it answers the calls itself. */
  | { kind: 'client_tool' }
  | { kind: 'inject'; body: Buffer; reason: 'marker' | 'sticky'; markers: number };

const FORMAT: Partial<Record<string, ToolFormat>> = { messages: 'anthropic', count_tokens: 'anthropic', chat: 'chat', responses: 'responses' };
const MARKER_PROBE = Buffer.from('[headroom: ');

function toolName(t: unknown): string | null {
  if (!t || typeof t !== 'object') return null;
  const o = t as Record<string, unknown>;
  if (typeof o.name === 'string') return o.name;
  const fn = o.function as Record<string, unknown> | undefined;
  return fn && typeof fn.name === 'string' ? fn.name : null;
}

/** The client's own tools include a retrieve tool (ours by name, or an MCP-prefixed one). */
export function clientHasRetrieveTool(json: Record<string, unknown>): boolean {
  const tools = json.tools;
  if (!Array.isArray(tools)) return false;
  return tools.some((t) => {
    const n = toolName(t);
    return n !== null && RETRIEVE_TOOL_RE.test(n);
  });
}

/** Distinct hashes of our markers in the body whose originals the store holds. */
export function heldMarkerHashes(body: Buffer, store: CcrStore): string[] {
  if (body.indexOf(MARKER_PROBE) === -1) return [];
  const seen = new Set<string>();
  for (const m of findMarkers(body.toString('utf8'))) if (!seen.has(m.hash) && store.has(m.hash)) seen.add(m.hash);
  return [...seen];
}

export function conversationKey(ex: Exchange, body: Buffer): string | null {
  const h = createHash('sha256');
  h.update(`${ex.route.provider}\u0000${ex.route.api === 'count_tokens' ? 'messages' : ex.route.api}\u0000${ex.info.apiKeyHash ?? ''}\u0000`);
  const session = ex.info.tags['session-id'];
  if (session) return h.update(`session\u0000${session}`).digest('hex').slice(0, 32);
  const top = topLevel(body);
  if (!top) return null;
  const items = top.keys.get(ex.route.api === 'responses' ? 'input' : 'messages');
  if (!items) return null;
  for (const k of ['system', 'instructions']) {
    const r = top.keys.get(k);
    if (r) h.update(body.subarray(r.s, r.e));
    h.update('\u0000');
  }
  const first: Range[] = body[items.s] === 0x5b ? arrayItems(body, items, 2) : [items];
  for (const r of first) h.update(body.subarray(r.s, r.e)).update('\u0000');
  return h.digest('hex').slice(0, 32);
}

/** Appends the tool definition for `format` to the body's `tools` (creating it when absent). */
export function withRetrieveTool(body: Buffer, format: ToolFormat): Buffer | null {
  const top = topLevel(body);
  if (!top) return null;
  const tool = TOOL_BYTES[format];
  const r = top.keys.get('tools');
  if (!r) return applySplices(body, [appendField(body, top, 'tools', Buffer.concat([Buffer.from('['), tool, Buffer.from(']')]))]);
  if (body[r.s] === 0x5b) return applySplices(body, [appendToArray(body, r, [tool])]);
  if (body.toString('utf8', r.s, r.e) === 'null') return applySplices(body, [{ start: r.s, end: r.e, bytes: Buffer.concat([Buffer.from('['), tool, Buffer.from(']')]) }]);
  return null;
}

/**
 * Decides whether `body` (what will be forwarded, decoded) gets the tool. `remember` marks the
 * conversation sticky (false for count_tokens, which only mirrors what a request would send).
 */
export function decideInjection(ex: Exchange, body: Buffer, store: CcrStore, remember: boolean): InjectDecision {
  const json = ex.json;
  const format = FORMAT[ex.route.api];
  if (!json || !format) return { kind: 'none' };
  if (clientHasRetrieveTool(json)) return { kind: 'client_tool' };
  // several choices per request cannot be continued as one answer
  if (typeof json.n === 'number' && json.n > 1) return { kind: 'none' };
  const held = heldMarkerHashes(body, store);
  const key = held.length > 0 || store.hasSticky ? conversationKey(ex, body) : null;
  const sticky = key !== null && store.isSticky(key);
  if (held.length === 0 && !sticky) return { kind: 'none' };
  const out = withRetrieveTool(body, format);
  if (!out) return { kind: 'none' };
  if (remember && key !== null) store.markSticky(key);
  return { kind: 'inject', body: out, reason: held.length > 0 ? 'marker' : 'sticky', markers: held.length };
}
