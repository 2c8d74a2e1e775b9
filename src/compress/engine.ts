/**
 * The request-level engine: finds the slots of a request body, replays earlier decisions for
 * content it has seen before, compresses the live zone afresh (gates, routing, token gate),
 * and splices the new strings into the original bytes. Pure: no I/O, no ambient clock, no
 * randomness; the caller may inject a clock (timings, time budget) and a replay lookup.
 *
 * Prefix stability: every decision taken for a slot, compressed or not, is returned in
 * `replayWrites` (content hash -> compressed text or null). When the client resends that
 * content in a later turn, the same decision is replayed, byte for byte, so the provider's
 * cached prefix keeps matching.
 *
 * Cold history (history slots without a decision: the proxy never saw them live) is decided
 * at first sight. What a provider's prompt cache may hold (`Slot.cacheable`: Anthropic
 * history at or before the request's last `cache_control` breakpoint) is left as it is;
 * everything else (Anthropic history after the last breakpoint, or all of it without one;
 * OpenAI history) is compressed like the live zone, after it. Either way the decision is
 * recorded, so every later turn forwards the same bytes whatever other conversations decide.
 */
import { contextWindowFor } from './context-window.js';
import { detectContent } from './detect.js';
import { contentHash } from './hash.js';
import { decodeString, type JNode, scanJson } from './json-scan.js';
import { distinctErrorKeywords, parseQuery, type Query } from './lexical.js';
import { findMarkers, hasMarker } from './markers.js';
import { type CompressSettings, isExcludedTool } from './options.js';
import { anthropicShape } from './request/anthropic.js';
import { chatShape } from './request/openai-chat.js';
import { geminiShape } from './request/gemini.js';
import { responsesShape } from './request/responses.js';
import { type ApiShape, queryFrom, RETRIEVE_TOOL_RE, type RequestShape, type Slot } from './request/slots.js';
import { routeText } from './router.js';
import { clearParseCache } from './transforms/json-values.js';
import { applySplices, jsonStringBytes, type Splice } from './splice.js';
import { type CountAllowance, countJsonBody, countMemo, countRawMemo, type TokenCounter, tokenCounterFor } from './tokens.js';
import type { TransformContext } from './types.js';
import { round3 } from '../util/round.js';

/** A decision replayed for content seen before: the compressed text, or null (left as is). */
export interface ReplayDecision {
  compressed: string | null;
}

export interface ReplayLookup {
  get(key: string): ReplayDecision | undefined;
}

/** The original of a lossy cut, keyed by the hash its markers carry. */
export interface CcrEntry {
  hash: string;
  original: string;
  toolName: string | null;
  originalItems: number;
  keptItems: number;
  unit: string;
  transforms: string[];
  /** Produced by replaying an earlier decision (the original is re-offered to the store). */
  replayed: boolean;
  /** Tokens of the original and of the text forwarded in its place (the request's counter). */
  originalTokens: number;
  compressedTokens: number;
}

export type SlotOutcome = 'compressed' | 'replayed' | 'unchanged';

export interface SlotReport {
  messageIndex: number;
  role: Slot['role'];
  kind: Slot['kind'];
  live: boolean;
  toolName: string | null;
  chars: number;
  outcome: SlotOutcome;
  /** Why a slot was left unchanged (`below_floor`, `pinned`, `excluded_tool`, `not_smaller`...). */
  reason: string | null;
  transforms: string[];
  tokensBefore: number;
  tokensAfter: number;
}

export interface EngineInput {
  body: Buffer;
  api: ApiShape;
  model: string | null;
  settings: CompressSettings;
  /**
   * `live`: the proxy (the newest turn is compressed, history is replayed, cold history is
   * decided once at first sight). `all`: every message (library).
   */
  scope: 'live' | 'all';
  replay?: ReplayLookup;
  /** Milliseconds, monotonic; enables timings and the budget. */
  clock?: () => number;
  /** Clock value after which no further slot is compressed afresh. */
  deadline?: number;
  /** Overrides the question used for relevance (default: the user's latest text). */
  query?: string | null;
  /**
   * The model's context window (Headroom's `model_limit`; default: from the price table).
   * When the request fills most of it, smaller lossy gains are accepted.
   */
  contextWindow?: number | null;
}

export interface EngineResult {
  /** The new body, or null when nothing changed (forward the original bytes). */
  body: Buffer | null;
  tokensBefore: number;
  tokensAfter: number;
  tokensSaved: number;
  /** Tokens of the live zone as the client sent it. */
  newInputTokens: number;
  /** One entry per changed slot (transform tags; `replay` for replayed slots). */
  transforms: string[];
  /** Tokens saved per transform tag (a slot's saving is split between its tags). */
  savedByTransform: Record<string, number>;
  timingsMs: Record<string, number>;
  ccr: CcrEntry[];
  replayWrites: { key: string; compressed: string | null }[];
  slots: SlotReport[];
  budgetExceeded: boolean;
  tokenizer: string;
  /** Pieces of the request whose tokens were estimated rather than counted (beyond the counting allowance or the deadline). */
  tokensEstimated: number;
}

/** Texts shorter than this are never compressed and need no replay record. */
export const FLOOR_CHARS = 512;
/**
 * Texts above this size (about a million tokens, the largest context window offered) cannot
 * fit any model anyway: they are forwarded as they are rather than spend the time budget.
 */
export const MAX_SLOT_CHARS = 4 * 1024 * 1024;
/**
 * Characters of new (not yet remembered) content one request tokenizes with a BPE vocabulary
 * to count its tokens (JSON-heavy text tokenizes at about 0.3 M characters/s: 0.2 s); content
 * beyond it, or past the deadline, is estimated.
 */
export const BPE_COUNT_CHARS = 64 * 1024;
/** Short error-bearing tool outputs keep every error line/row: only lossless compaction and cuts of the rest. */
const ERROR_PROTECT_CHARS = 8000;
const ANALYSIS_RE =
  /\b(?:analy[sz]e|review|audit|inspect|security|vulnerab\w*|bugs?|issues?|problems?|explain|understand|how does|what does|debug|fix|errors?|wrong|broken|refactor|improve|optimi[sz]e|clean up)\b/i;

/** Each message/input item, and each other top-level value, of a request body. */
function topLevelPieces(root: JNode): JNode[] {
  if (root.t !== 'o') return [root];
  const out: JNode[] = [];
  root.keys.forEach((k, i) => {
    const v = root.vals[i] as JNode;
    if ((k === 'messages' || k === 'input' || k === 'contents') && v.t === 'a') out.push(...v.items);
    else out.push(v);
  });
  return out;
}

export function requestShape(buf: Buffer, root: JNode, api: ApiShape, allLive: boolean, includeSystem: boolean): RequestShape {
  if (api === 'messages') return anthropicShape(buf, root, allLive, includeSystem);
  if (api === 'chat') return chatShape(buf, root, allLive, includeSystem);
  if (api === 'gemini') return geminiShape(buf, root, allLive, includeSystem);
  return responsesShape(buf, root, allLive, includeSystem);
}

/**
 * The question used for relevance: the user's latest text, and the first one (the task the
 * session was started with) when they differ. Agents follow a task with turns such as "based
 * on all this, what do you recommend?", which name nothing the tool outputs could match.
 */
function withTask(buf: Buffer, shape: RequestShape): string {
  const first = shape.slots.find((s) => s.role === 'user' && s.kind === 'text' && s.node.e - s.node.s <= 8000);
  if (!first) return shape.queryText;
  const task = queryFrom(decodeString(buf, first.node));
  if (!task || shape.queryText.includes(task)) return shape.queryText;
  return shape.queryText ? `${task}\n${shape.queryText}` : task;
}

interface Gate {
  reason: string | null;
  /**
   * A short error-bearing tool output: lossless compaction, and lossy cuts that keep every
   * error (two distinct error words); lossless compaction only (flagged `is_error`).
   */
  errors?: 'keep_all' | 'lossless' | null;
}

function gate(text: string, key: string, slot: Slot, s: CompressSettings, counter: TokenCounter, analysis: () => boolean, kind: ReturnType<typeof detectContent>): Gate & { tokens: number } {
  const no = (reason: string, tokens = 0) => ({ reason, tokens });
  if (text.length > MAX_SLOT_CHARS) return no('too_large');
  if (hasMarker(text)) return no('pinned');
  if (slot.toolName && RETRIEVE_TOOL_RE.test(slot.toolName)) return no('retrieve_result');
  if (isExcludedTool(slot.toolName, s.excludeTools)) return no('excluded_tool');
  if (slot.role === 'user' && !s.compressUserMessages) return no('user_message');
  if (slot.role === 'system' && !s.compressSystemMessages) return no('system_message');
  const tokens = countMemo(counter, key, text);
  if (tokens < s.minTokensToCompress) return no('below_min_tokens', tokens);
  const short = slot.role === 'tool' && text.length <= ERROR_PROTECT_CHARS;
  const errors = !short ? null : slot.isError ? 'lossless' : distinctErrorKeywords(text) >= 2 ? 'keep_all' : null;
  if (kind === 'code') {
    if (slot.messagesFromEnd <= s.protectRecent) return no('recent_code', tokens);
    if (s.protectAnalysisContext && analysis()) return no('analysis_context', tokens);
    return no('code', tokens);
  }
  return { reason: null, tokens, errors };
}

export function compressRequest(input: EngineInput): EngineResult {
  try {
    return compressRequestInner(input);
  } finally {
    clearParseCache();
  }
}

function compressRequestInner(input: EngineInput): EngineResult {
  const { body: buf, settings: s, clock } = input;
  const counter = tokenCounterFor(input.model);
  const timings: Record<string, number> = {};
  const time = <T>(name: string, fn: () => T): T => {
    if (!clock) return fn();
    const t0 = clock();
    try {
      return fn();
    } finally {
      timings[name] = round3(((timings[name] ?? 0) + clock() - t0));
    }
  };
  const expired = () => clock !== undefined && input.deadline !== undefined && clock() > input.deadline;

  const root = time('_scan', () => scanJson(buf));
  const window = input.contextWindow === undefined ? contextWindowFor(input.model) : input.contextWindow;
  // Without a known window the pressure is neutral (0.5), as in Headroom. A coarse size
  // estimate is enough to tell whether the request fills most of the window.
  const pressure = window ? Math.min(1, buf.length / 3.5 / window) : 0.5;
  const lossyLimit = pressure >= 0.8 ? 0.9 : 0.75;
  const shape = requestShape(buf, root, input.api, input.scope === 'all', input.scope === 'all' && s.compressSystemMessages);
  // the question and whether it asks for analysis: worked out once, and only when a slot
  // reaches the gate (most requests have none: every text below the floor)
  let queryText: string | null = null;
  const question = () => (queryText ??= input.query ?? withTask(buf, shape));
  let analysisAsked: boolean | null = null;
  const analysis = () => (analysisAsked ??= ANALYSIS_RE.test(question()));
  // parsed once, and only when a slot is actually compressed
  let parsedQuery: Query | null = null;

  const splices: Splice[] = [];
  const reports: SlotReport[] = [];
  const ccr: CcrEntry[] = [];
  const writes: { key: string; compressed: string | null }[] = [];
  const local = new Map<string, ReplayDecision>();
  const transforms: string[] = [];
  let saved = 0;
  let budgetExceeded = false;

  const apply = (slot: Slot, text: string, key: string, compressed: string, tags: string[], outcome: SlotOutcome, report: SlotReport, replayed: boolean, meta?: { originalItems: number; keptItems: number; unit: string; lossy: boolean }) => {
    const before = report.tokensBefore || countMemo(counter, key, text);
    const after = countMemo(counter, contentHash(compressed), compressed);
    splices.push({ start: slot.node.s, end: slot.node.e, bytes: jsonStringBytes(compressed) });
    report.outcome = outcome;
    report.transforms = tags;
    report.tokensBefore = before;
    report.tokensAfter = after;
    saved += before - after;
    transforms.push(...tags);
    const lossy = meta ? meta.lossy : findMarkers(compressed).length > 0;
    if (lossy) {
      ccr.push({
        hash: key,
        original: text,
        toolName: slot.toolName,
        originalItems: meta?.originalItems ?? 0,
        keptItems: meta?.keptItems ?? 0,
        unit: meta?.unit ?? '',
        transforms: tags,
        replayed,
        originalTokens: before,
        compressedTokens: after,
      });
    }
  };

  const record = (key: string, compressed: string | null) => {
    local.set(key, { compressed });
    writes.push({ key, compressed });
  };
  const replayKnown = (slot: Slot, text: string, key: string, known: ReplayDecision, report: SlotReport) => {
    if (known.compressed !== null && known.compressed !== text) apply(slot, text, key, known.compressed, ['replay'], 'replayed', report, true);
    else report.reason = 'replayed_unchanged';
  };
  /** Compresses a slot afresh (gates, routing, token gate) and records the decision. */
  const fresh = (slot: Slot, text: string, key: string, report: SlotReport) => {
    if (expired()) {
      budgetExceeded = true;
      report.reason = 'budget_exceeded';
      record(key, null);
      return;
    }
    const kind = time('_detect', () => detectContent(text));
    const g = time('_gate', () => gate(text, key, slot, s, counter, analysis, kind));
    report.tokensBefore = g.tokens;
    if (g.reason) {
      report.reason = g.reason;
      record(key, null);
      return;
    }
    parsedQuery ??= parseQuery(question());
    const ctx: TransformContext = { query: parsedQuery, targetRatio: s.targetRatio, maxItems: s.maxItems, hash: key, expired, keepAllErrors: g.errors != null, losslessOnly: g.errors === 'lossless' };
    const t0 = clock?.();
    const routed = routeText(text, ctx, kind);
    if (clock && t0 !== undefined) {
      const name = routed?.transforms.join('+') || `${kind}_none`;
      timings[name] = round3(((timings[name] ?? 0) + clock() - t0));
    }
    if (expired()) {
      budgetExceeded = true;
      report.reason = 'budget_exceeded';
      record(key, null);
      return;
    }
    if (!routed || !routed.text.trim() || (g.errors === 'lossless' && routed.lossy)) {
      report.reason = g.errors === 'lossless' ? 'error_output' : routed ? 'empty_output' : `no_gain_${kind}`;
      record(key, null);
      return;
    }
    // remembered: `apply` counts the same text again
    const after = countMemo(counter, contentHash(routed.text), routed.text);
    const limit = routed.lossy ? lossyLimit : 0.9;
    if (after > g.tokens * limit) {
      report.reason = g.errors === 'lossless' ? 'error_output' : 'not_smaller';
      record(key, null);
      return;
    }
    report.tokensBefore = g.tokens;
    apply(slot, text, key, routed.text, routed.transforms, 'compressed', report, false, routed);
    record(key, routed.text);
  };

  // Cold history: history slots with no decision yet (the proxy never saw them: the
  // conversation started elsewhere, or their decision expired). Taken after the live zone, so
  // the newest turn has the time budget first.
  const cold: { slot: Slot; text: string; key: string; report: SlotReport }[] = [];
  for (const slot of shape.slots) {
    const report: SlotReport = {
      messageIndex: slot.messageIndex, role: slot.role, kind: slot.kind, live: slot.live, toolName: slot.toolName,
      chars: 0, outcome: 'unchanged', reason: null, transforms: [], tokensBefore: 0, tokensAfter: 0,
    };
    reports.push(report);
    // a literal's byte length bounds its decoded length: short ones need no decoding
    if (slot.node.e - slot.node.s - 2 < FLOOR_CHARS) {
      report.chars = slot.node.e - slot.node.s - 2;
      report.reason = 'below_floor';
      continue;
    }
    const text = decodeString(buf, slot.node);
    report.chars = text.length;
    if (text.length < FLOOR_CHARS) {
      report.reason = 'below_floor';
      continue;
    }
    const key = time('_replay', () => contentHash(text));
    const known = local.get(key) ?? input.replay?.get(key);
    if (known) {
      replayKnown(slot, text, key, known, report);
      continue;
    }
    if (slot.live) {
      fresh(slot, text, key, report);
      continue;
    }
    if (slot.cacheable) {
      // the provider may hold it as sent: left as it is, and recorded so that another
      // conversation compressing the same content never changes this one's history
      report.reason = 'cached_history';
      record(key, null);
      continue;
    }
    cold.push({ slot, text, key, report });
  }
  // no provider cache can hold cold history that is not `cacheable`: it is compressed at
  // first sight like the live zone, and its decision replayed on every later turn
  for (const { slot, text, key, report } of cold) {
    const known = local.get(key);
    if (known) replayKnown(slot, text, key, known, report);
    else fresh(slot, text, key, report);
  }

  // Tokens of the request: each message (and each other top-level field) is counted once and
  // remembered by the hash of its bytes, so resent history costs a hash, not a count. Pieces
  // holding a changed slot are counted without it; changed slots count on their own text,
  // so tokensSaved is exact per slot and never exceeds tokensBefore.
  const sorted = [...splices].sort((a, b) => a.start - b.start);
  // BPE counting of what compression did not touch stays within the time budget: new content
  // is tokenized up to BPE_COUNT_CHARS (and never past the deadline), the rest is estimated
  const allowance: CountAllowance = { chars: BPE_COUNT_CHARS, estimated: 0, ...(clock ? { clock } : {}), ...(input.deadline !== undefined ? { deadline: input.deadline } : {}) };
  const pieceTokens = (n: JNode): number => {
    const inside = sorted.filter((sp) => sp.start >= n.s && sp.end <= n.e);
    if (!inside.length) return countRawMemo(counter, buf, n.s, n.e, allowance);
    let text = '';
    let at = n.s;
    for (const sp of inside) {
      text += buf.toString('utf8', at, sp.start);
      at = sp.end;
    }
    return countJsonBody(counter, text + buf.toString('utf8', at, n.e));
  };
  const rest = time('_tokens', () => {
    // BPE counting is slow: count per piece, remembered; the estimator is fast: count the body once (sampled)
    if (counter.name !== 'estimate') return topLevelPieces(root).reduce((a, n) => a + pieceTokens(n), 0);
    return pieceTokens(root);
  });
  let changedBefore = 0;
  for (const r of reports) if (r.outcome !== 'unchanged') changedBefore += r.tokensBefore;
  const tokensBefore = rest + changedBefore;
  // New input: the live messages as sent. Texts the gate already counted are not tokenized
  // again (a 1 MB output costs a sampled BPE count each time): their counts are added to the
  // count of the rest of their message.
  const counted: { s: number; e: number; tokens: number }[] = [];
  shape.slots.forEach((slot, i) => {
    const t = (reports[i] as SlotReport).tokensBefore;
    if (t > 0) counted.push({ s: slot.node.s, e: slot.node.e, tokens: t });
  });
  let newInputTokens = 0;
  for (const node of shape.liveNodes) {
    const inside = counted.filter((c) => c.s >= node.s && c.e <= node.e);
    if (!inside.length) {
      newInputTokens += countRawMemo(counter, buf, node.s, node.e, allowance);
      continue;
    }
    let text = '';
    let at = node.s;
    for (const c of inside) {
      text += buf.toString('utf8', at, c.s);
      newInputTokens += c.tokens;
      at = c.e;
    }
    newInputTokens += countJsonBody(counter, text + buf.toString('utf8', at, node.e));
  }
  const body = splices.length ? applySplices(buf, splices) : null;
  const tokensSaved = Math.max(0, saved);
  const savedByTransform: Record<string, number> = {};
  for (const r of reports) {
    if (r.outcome === 'unchanged' || r.transforms.length === 0) continue;
    const share = (r.tokensBefore - r.tokensAfter) / r.transforms.length;
    for (const t of r.transforms) savedByTransform[t] = (savedByTransform[t] ?? 0) + share;
  }
  for (const t in savedByTransform) savedByTransform[t] = Math.round(savedByTransform[t] as number);
  return {
    body,
    tokensBefore,
    tokensAfter: tokensBefore - tokensSaved,
    tokensSaved,
    newInputTokens,
    transforms,
    savedByTransform,
    timingsMs: timings,
    ccr,
    replayWrites: writes,
    slots: reports,
    budgetExceeded,
    tokenizer: counter.name,
    tokensEstimated: allowance.estimated,
  };
}
