/**
 * Everything `/stats` and `/metrics` report for this process since start or `/stats/reset`,
 * fed only by outcomes (one `record()` per outcome, from the stats sink).
 *
 * Counting rules:
 * - every outcome counts in `requests.total` and `requests.by_kind` (proxied requests,
 *   `/v1/compress` calls and hook calls), except unauthenticated rejections;
 * - `failed` counts as Headroom does (`isProxyFailure`: the proxy could not get an answer from
 *   the upstream); `errors` counts every unsuccessful request but client aborts, rate limits and
 *   budget refusals;
 * - latency and overhead describe proxied requests; TTFB streamed proxied requests only (as
 *   Headroom: a non-streaming response's first byte is its whole body);
 * - `/v1/compress` and hook outcomes count their savings (tokens and dollars at the named
 *   model's input price) and their compressed size as input; they carry no provider spend.
 */
import { isCountedError, isProxyFailure, isTransformTiming, type RequestOutcome } from '../../../core/outcome.js';
import { localIso } from '../request-record.js';
import { type Accounting, accountingOf } from '../accounting.js';
import { AgentUsage } from './agent-usage.js';
import { CostTracker } from './cost-tracker.js';
import { PrefixCacheStats } from './prefix-cache.js';
import { KeyedTimings, SampleStats } from './samples.js';
import type {} from '../../routing/api.js';

const MAX_MODELS = 500;
/** Distinct requested models, routed providers and routes kept by name (others under `other`). */
export const MAX_ROUTED = 64;
export const MAX_STACKS = 32;
const SAVINGS_HISTORY = 500;
const RECENT = 100;

export type UncompressedReason = 'prefix_frozen' | 'too_small' | 'passthrough' | 'no_compressible_content';

const inc = (m: Map<string, number>, k: string, by = 1) => m.set(k, (m.get(k) ?? 0) + by);

/** Adds to a map, sending new keys beyond `cap` to `other`. */
function incCapped(m: Map<string, number>, k: string, cap: number, by = 1): void {
  if (!m.has(k) && m.size >= cap) k = 'other';
  inc(m, k, by);
}

export class ProcessStats {
  resetAt = Date.now();
  total = 0;
  cached = 0;
  rateLimited = 0;
  failed = 0;
  errors = 0;
  aborted = 0;
  apiRequests = 0;
  readonly byProvider = new Map<string, number>();
  readonly byModel = new Map<string, number>();
  readonly byStack = new Map<string, number>();
  readonly byKind = new Map<string, number>();
  readonly byStatus = new Map<string, number>();
  /** The provider that answered (routing's, else the route's), the model the client asked for, and `requested -> provider:model`. */
  readonly byRoutedProvider = new Map<string, number>();
  readonly byRequestedModel = new Map<string, number>();
  readonly byRoute = new Map<string, number>();
  /** Requests answered by a fallback target. */
  fellBack = 0;

  inputTokens = 0;
  outputTokens = 0;
  tokensSaved = 0;
  attemptedTokens = 0;
  newInputTokens = 0;
  savedWithNewInput = 0;
  /** Tokens of originals handed back to the model through headroom_retrieve. */
  retrievedTokens = 0;
  cacheReadTokens = 0;
  cacheWriteTokens = 0;

  readonly latency = new SampleStats();
  readonly overhead = new SampleStats();
  readonly ttfb = new SampleStats();
  readonly transforms = new KeyedTimings();
  readonly stages = new KeyedTimings();
  readonly compressionsByStrategy = new Map<string, number>();
  readonly tokensSavedByStrategy = new Map<string, number>();
  readonly wasteSignals = new Map<string, number>();
  /** [epoch ms, cumulative tokens saved] per request (formatted when read). */
  private savingsPoints: [number, number][] = [];

  requestsCompressed = 0;
  compressionPctSum = 0;
  bestCompressionPct = 0;
  bestDetail = '';
  readonly uncompressed = new Map<UncompressedReason, number>();

  readonly cost = new CostTracker();
  readonly prefixCache = new PrefixCacheStats();
  readonly agents = new AgentUsage();
  /** The most recent outcomes (records are built when read). */
  recent: RequestOutcome[] = [];

  reset(): void {
    this.resetAt = Date.now();
    this.total = this.cached = this.rateLimited = this.failed = this.errors = this.aborted = this.apiRequests = 0;
    this.fellBack = 0;
    for (const m of [this.byProvider, this.byModel, this.byStack, this.byKind, this.byStatus, this.byRoutedProvider, this.byRequestedModel, this.byRoute, this.compressionsByStrategy, this.tokensSavedByStrategy, this.wasteSignals]) m.clear();
    this.inputTokens = this.outputTokens = this.tokensSaved = this.attemptedTokens = this.newInputTokens = this.savedWithNewInput = this.retrievedTokens = 0;
    this.cacheReadTokens = this.cacheWriteTokens = 0;
    for (const s of [this.latency, this.overhead, this.ttfb]) s.reset();
    this.transforms.byKey.clear();
    this.stages.byKey.clear();
    this.savingsPoints = [];
    this.requestsCompressed = this.compressionPctSum = this.bestCompressionPct = 0;
    this.bestDetail = '';
    this.uncompressed.clear();
    this.cost.reset();
    this.prefixCache.reset();
    this.agents.reset();
  }

  record(o: RequestOutcome): Accounting | null {
    const a = accountingOf(o);
    if (!a.counted) return null;
    this.total++;
    inc(this.byKind, o.kind);
    inc(this.byProvider, a.provider);
    incCapped(this.byModel, a.model, MAX_MODELS);
    if (o.kind === 'proxy' && o.requestedModel !== null) {
      const r = o.ext.routing;
      incCapped(this.byRoutedProvider, r?.provider ?? a.provider, MAX_ROUTED);
      incCapped(this.byRequestedModel, o.requestedModel, MAX_ROUTED);
      if (r) {
        incCapped(this.byRoute, `${r.requestedModel} -> ${r.provider}:${r.model}`, MAX_ROUTED);
        if (r.via === 'fallback') this.fellBack++;
      }
    }
    if (o.stack && (this.byStack.has(o.stack) || this.byStack.size < MAX_STACKS)) inc(this.byStack, o.stack);
    inc(this.byStatus, o.status === 499 ? 'aborted:client_abort' : String(o.status));
    if (o.api !== 'count_tokens') this.apiRequests++;
    if (a.cached) this.cached++;
    if (o.errorType === 'rate_limited') this.rateLimited++;
    else if (o.errorType === 'client_abort') this.aborted++;
    if (isProxyFailure(o)) this.failed++;
    if (isCountedError(o)) this.errors++;

    this.inputTokens += a.inputTokens;
    this.outputTokens += a.outputTokens;
    this.tokensSaved += a.tokensSaved;
    this.attemptedTokens += a.attemptedTokens;
    this.cacheReadTokens += a.cacheReadTokens;
    this.cacheWriteTokens += a.cacheWriteTokens;
    this.retrievedTokens += a.retrievedTokens;
    if (a.newInputTokens > 0) {
      this.newInputTokens += a.newInputTokens;
      // only what compressing the new content saved: replayed history is not new input
      this.savedWithNewInput += a.freshSavedTokens;
    }

    if (o.kind === 'proxy') {
      this.latency.add(o.timing.totalMs);
      if (o.timing.overheadMs > 0) this.overhead.add(o.timing.overheadMs);
      if (o.stream && o.timing.ttfbMs !== null && o.timing.ttfbMs > 0) this.ttfb.add(o.timing.ttfbMs);
      for (const stage in o.timing.stagesMs) this.stages.add(`${o.path}\u0000${stage}`, o.timing.stagesMs[stage] ?? 0);
    }
    const c = o.compression;
    for (const t in c.timingsMs) if (isTransformTiming(t)) this.transforms.add(t, c.timingsMs[t] ?? 0);
    this.recordStrategies(o, a);
    if (c.wasteSignals) for (const s in c.wasteSignals) incCapped(this.wasteSignals, s, 64, c.wasteSignals[s] ?? 0);
    this.categorise(o, a);

    this.savingsPoints.push([o.endedAt, this.tokensSaved]);
    if (this.savingsPoints.length >= SAVINGS_HISTORY * 2) this.savingsPoints = this.savingsPoints.slice(-SAVINGS_HISTORY);
    this.cost.record(a);
    this.prefixCache.record(o, a);
    this.agents.record(o, a);
    // keep recent outcomes without their (possibly large) --log-messages bodies
    this.recent.push(o.messages ? { ...o, messages: undefined } : o);
    if (this.recent.length > RECENT * 2) this.recent = this.recent.slice(-RECENT);
    return a;
  }

  private recordStrategies(o: RequestOutcome, a: Accounting): void {
    const tags = o.compression.transforms;
    if (tags.length === 0) return;
    const distinct = [...new Set(tags)];
    const attributed = o.compression.savedByTransform;
    const share = Math.floor(a.tokensSaved / distinct.length);
    let rest = a.tokensSaved - share * distinct.length;
    for (const t of distinct) {
      incCapped(this.compressionsByStrategy, t, 128);
      let saved = attributed ? (attributed[t] ?? 0) : share;
      if (!attributed && rest > 0) {
        saved++;
        rest--;
      }
      incCapped(this.tokensSavedByStrategy, t, 128, saved);
    }
  }

  private categorise(o: RequestOutcome, a: Accounting): void {
    if (o.api === 'count_tokens' || a.model.includes('count_tokens')) {
      inc(this.uncompressed, 'passthrough');
      return;
    }
    if (a.tokensSaved > 0) {
      this.requestsCompressed++;
      const p = (a.tokensSaved / a.tokensBefore) * 100;
      this.compressionPctSum += p;
      if (p > this.bestCompressionPct) {
        this.bestCompressionPct = p;
        this.bestDetail = `${a.tokensBefore.toLocaleString('en-US')} → ${a.inputTokens.toLocaleString('en-US')} tokens`;
      }
      return;
    }
    if (a.tokensBefore <= 0) return;
    const t = o.compression.transforms;
    if (t.length === 0) inc(this.uncompressed, 'prefix_frozen');
    else if (t.every((x) => x.includes('excluded') || x.includes('protected'))) inc(this.uncompressed, 'no_compressible_content');
    else if (a.tokensBefore < 500) inc(this.uncompressed, 'too_small');
    else inc(this.uncompressed, 'prefix_frozen');
  }

  /** The model with the most requests (excluding `unknown`), or `unknown`. */
  primaryModel(): string {
    let best = 'unknown';
    let n = 0;
    for (const [m, c] of this.byModel) {
      if (m !== 'unknown' && c > n) {
        best = m;
        n = c;
      }
    }
    return best;
  }

  /** Headroom's `savings_history`: the last `n` `[local ISO time, cumulative tokens saved]` pairs. */
  savingsHistory(n: number): [string, number][] {
    return this.savingsPoints.slice(-Math.min(n, SAVINGS_HISTORY)).map(([t, v]) => [localIso(t), v]);
  }

  recentOutcomes(n: number): RequestOutcome[] {
    return this.recent.slice(-n);
  }
}
