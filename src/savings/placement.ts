/**
 * Where a request's saved tokens sit, for pricing them as the provider would have billed the
 * uncompressed request (`CompressionSummary.placement`; the proxy's compression stage and the
 * SDK's wrapped clients build it, `savings.ts` prices it). Built from the engine's per-slot
 * results (which slots were compressed afresh, which were replayed from an earlier turn's
 * decision, and how many tokens each saved) and the request's own cache breakpoints:
 *
 * - fresh vs replayed comes from the replay map, never from which messages are assumed live;
 * - Anthropic: a slot is under the nearest `cache_control` breakpoint at or after its message
 *   (1-hour TTL if any 1-hour breakpoint is at or after it, else 5 minutes); after the last
 *   breakpoint it is never cached. Breakpoints are read at message granularity;
 * - OpenAI Chat and Responses cache every prompt automatically (`auto`).
 *
 * It also flags retrieval turns (every live tool result answers a `headroom_retrieve` call)
 * and fingerprints the conversation (system prompt and first two messages) so the prompt
 * cache can be followed from turn to turn.
 */
import { createHash } from 'node:crypto';
import type { SlotReport } from '../compress/engine.js';
import { RETRIEVE_TOOL_RE, type ApiShape } from '../compress/request/slots.js';

/**
 * Tokens saved in one part of a request, by the prompt cache that would have held them in the
 * uncompressed request: under an Anthropic `cache_control` breakpoint (the nearest one at or
 * after them: a 1-hour TTL if any 1-hour breakpoint covers them, else 5 minutes), in an
 * automatically cached prompt (OpenAI), or after the last breakpoint (never cached).
 */
export interface SavedByCache {
  write1h: number;
  write5m: number;
  auto: number;
  none: number;
}

/** Where a request's saved tokens sit, reported by the compression stage from the engine's slot results. */
export interface SavedPlacement {
  /** Saved by compressing content first seen in this request (the live zone). */
  fresh: SavedByCache;
  /** Saved by replaying an earlier request's decision on resent history. */
  replayed: SavedByCache;
  /** Tokens, before compression, of the live-zone texts compressed afresh (the new-input numerator's basis). */
  freshBefore: number;
  /**
   * Every live tool result answers a `headroom_retrieve` call the client's own tool made: the
   * whole request exists only because compression cut something (a retrieval turn).
   */
  retrieveTurn: boolean;
  /** Fingerprint of the conversation (system prompt and first messages), to follow its prompt cache from turn to turn; null when the body has none. */
  conversation: string | null;
}


type Json = Record<string, unknown>;

export const emptyByCache = (): SavedByCache => ({ write1h: 0, write5m: 0, auto: 0, none: 0 });

const isObj = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** TTL of a `cache_control` value, or null when there is none. */
function ttlOf(block: unknown): '5m' | '1h' | null {
  if (!isObj(block)) return null;
  const cc = block.cache_control;
  if (!isObj(cc)) return null;
  return cc.ttl === '1h' ? '1h' : '5m';
}

/** Whether a content block (or a part of a tool result's content) carries a breakpoint, and its TTL (1h wins). */
function blockTtl(block: unknown): '5m' | '1h' | null {
  let ttl = ttlOf(block);
  if (isObj(block) && Array.isArray(block.content)) {
    for (const part of block.content) {
      const t = ttlOf(part);
      if (t === '1h' || (t === '5m' && ttl === null)) ttl = t;
    }
  }
  return ttl;
}

/** The last message index carrying a 1-hour and a 5-minute breakpoint (-1: system, -2: tools, -Infinity: none). */
function breakpoints(json: Json): { last1h: number; last5m: number } {
  let last1h = Number.NEGATIVE_INFINITY;
  let last5m = Number.NEGATIVE_INFINITY;
  const mark = (ttl: '5m' | '1h' | null, index: number) => {
    if (ttl === '1h') last1h = Math.max(last1h, index);
    else if (ttl === '5m') last5m = Math.max(last5m, index);
  };
  if (Array.isArray(json.tools)) for (const t of json.tools) mark(ttlOf(t), -2);
  if (Array.isArray(json.system)) for (const b of json.system) mark(ttlOf(b), -1);
  if (Array.isArray(json.messages)) {
    json.messages.forEach((m, i) => {
      const content = isObj(m) ? m.content : undefined;
      if (Array.isArray(content)) for (const b of content) mark(blockTtl(b), i);
    });
  }
  return { last1h, last5m };
}

/** A fingerprint of the conversation: its system prompt / instructions and first two messages, as the client sent them. */
export function conversationFingerprint(json: Json, api: ApiShape): string | null {
  const items = api === 'responses' ? json.input : api === 'gemini' ? json.contents : json.messages;
  const first = Array.isArray(items) ? items.slice(0, 2) : typeof items === 'string' ? [items] : [];
  if (first.length === 0) return null;
  const h = createHash('sha256');
  h.update(JSON.stringify(json.system ?? json.instructions ?? json.systemInstruction ?? null) ?? '');
  h.update('\u0000');
  h.update(JSON.stringify(first) ?? '');
  return h.digest('hex').slice(0, 24);
}

export function savedPlacement(api: ApiShape, json: Json, slots: readonly SlotReport[]): SavedPlacement {
  const fresh = emptyByCache();
  const replayed = emptyByCache();
  let freshBefore = 0;
  let liveResults = 0;
  let liveRetrieveResults = 0;
  const bp = api === 'messages' ? breakpoints(json) : null;
  const bucket = (messageIndex: number): keyof SavedByCache => {
    if (!bp) return 'auto';
    if (messageIndex <= bp.last1h) return 'write1h';
    if (messageIndex <= bp.last5m) return 'write5m';
    return 'none';
  };
  for (const s of slots) {
    if (s.live && s.kind === 'tool_result') {
      liveResults++;
      if (s.toolName && RETRIEVE_TOOL_RE.test(s.toolName)) liveRetrieveResults++;
    }
    if (s.outcome === 'unchanged') continue;
    const saved = Math.max(0, s.tokensBefore - s.tokensAfter);
    const at = bucket(s.messageIndex);
    // history compressed at first sight (the proxy never saw it): after the last breakpoint it
    // was never cached; under automatic caching the provider may have held it as sent, so it
    // is priced like replayed history (read when the provider read the request's prefix back)
    const asReplayed = s.outcome === 'replayed' || (!s.live && at === 'auto');
    (asReplayed ? replayed : fresh)[at] += saved;
    if (s.outcome === 'compressed' && !asReplayed) freshBefore += s.tokensBefore;
  }
  return {
    fresh,
    replayed,
    freshBefore,
    retrieveTurn: liveResults > 0 && liveRetrieveResults === liveResults,
    conversation: conversationFingerprint(json, api),
  };
}
