/**
 * Adding `headroom_retrieve` to a forwarded request, so every marker the model reads can be
 * redeemed, without a conversation's tools array ever changing between its turns (tools come
 * first in the provider's cached prefix: one changed byte there and the whole prefix is
 * written again).
 *
 * The decision depends only on the request itself, never on what other requests did:
 *
 * - A request that brings tools of its own (a non-empty `tools` array) is offered the tool,
 *   whether or not it shows a marker. Tool outputs, the content compression cuts, only come
 *   with such requests, and an agent sends the same tools on every turn, so its forwarded
 *   tools array is the same on every turn too: from the first request on, before any cut.
 * - A request without tools gets it only when the forwarded body shows one of our markers (a
 *   cut of user text with `--compress-user-messages`, or a `tool` message sent without tools).
 *   The marker stays in the conversation's history, so the tool stays from then on; such a
 *   conversation pays one cache write at its first marker.
 * - Not added: the client defines its own `headroom_retrieve` (or an MCP-prefixed one), or
 *   the request asks for several choices (`n > 1`), which cannot be continued as one answer.
 *
 * No conversation is identified, remembered or told apart from another, so two conversations
 * that share their first messages cannot leak a tool into each other. The definition bytes are
 * fixed (`TOOL_BYTES`), appended at the end of `tools`; every other byte is kept as received.
 */
import { findMarkers } from '../../compress/markers.js';
import { RETRIEVE_TOOL_RE } from '../../compress/request/slots.js';
import type { Exchange } from '../proxy/api.js';
import { appendField, appendToArray, applySplices, topLevel } from '../../providers/body.js';
import type { CcrStore } from '../../originals/store.js';
import { TOOL_BYTES, type ToolFormat } from './tool.js';

export type InjectDecision =
  | { kind: 'none' }
  /** The client brings its own retrieve tool: it answers the calls itself. */
  | { kind: 'client_tool' }
  /** `marker`: the request shows a marker the store holds; `offered`: it carries none. */
  | { kind: 'inject'; body: Buffer; reason: 'marker' | 'offered'; markers: number };

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

/** The client sends tools of its own: the tool is offered on every such request. */
export function clientHasTools(json: Record<string, unknown>): boolean {
  return Array.isArray(json.tools) && json.tools.length > 0;
}

/** Distinct hashes of our markers in the body. */
export function markerHashes(body: Buffer): string[] {
  if (body.indexOf(MARKER_PROBE) === -1) return [];
  return [...new Set(findMarkers(body.toString('utf8')).map((m) => m.hash))];
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

/** Decides whether `body` (what will be forwarded, decoded) gets the tool. */
export function decideInjection(ex: Exchange, body: Buffer, store: CcrStore): InjectDecision {
  const json = ex.json;
  const format = FORMAT[ex.route.api];
  if (!json || !format) return { kind: 'none' };
  if (clientHasRetrieveTool(json)) return { kind: 'client_tool' };
  // several choices per request cannot be continued as one answer
  if (typeof json.n === 'number' && json.n > 1) return { kind: 'none' };
  const markers = markerHashes(body);
  if (!clientHasTools(json) && markers.length === 0) return { kind: 'none' };
  const held = markers.filter((h) => store.has(h));
  const out = withRetrieveTool(body, format);
  if (!out) return { kind: 'none' };
  return { kind: 'inject', body: out, reason: held.length > 0 ? 'marker' : 'offered', markers: held.length };
}
