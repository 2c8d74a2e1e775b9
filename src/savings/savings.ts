/**
 * The one savings formula of headroom-ts: what compression saved on a request, in dollars a
 * user can check against the bill, and the two savings percentages with their bases. Every
 * figure anywhere (`/stats`, `/stats-history`, `/metrics`, OTEL, the dashboard, `wrap`'s
 * summary, the demo, the SDK client) comes from here: through the accounting capability for the proxy, directly for the SDK. Stated with a worked example
 * in docs/observability.md ("Savings that match the bill").
 *
 * The saving of a request is counterfactual minus actual:
 *
 * - actual: what the provider billed, from the usage it returned (uncached input, cache
 *   reads, 5-minute and 1-hour cache writes, output), every upstream call priced on its own;
 * - counterfactual: what it would have billed for the client's uncompressed request given the
 *   cache state that request would have had. The saved tokens are added back where they sit
 *   (`SavedPlacement`, reported by the compression stage): saved in replayed history that the provider read from
 *   its cache are cache reads (the uncompressed history would have been cached the same way);
 *   saved in content under a breakpoint that was not read are cache writes (5 m / 1 h, by the
 *   breakpoint); the rest uncached input. Saved tokens are the compressor's count (the
 *   model's own vocabulary for OpenAI models, a calibrated estimate for Claude);
 * - minus the retrieval rounds compression caused: every follow-up round the proxy made to
 *   answer `headroom_retrieve` (its input, and the output of the rounds that only called the
 *   tool), or, for a request whose new content only answers the client's own
 *   `headroom_retrieve` calls, that request's whole input;
 * - minus a compression-caused cache bust: the previous request's cached prefix that this one
 *   had to write again because headroom-ts rewrote it (`continuity.ts`), priced as the
 *   difference between what those tokens cost and what reading them would have cost.
 *
 * The net can be negative (compression cost more than it saved); it is reported as it is.
 */
import { costOf, type ModelPrice, ratesAt, tokenCost } from '../providers/pricing.js';
import type { TokenUsage } from '../providers/types.js';
import type { CacheContinuity } from './continuity.js';
import type { SavedByCache, SavedPlacement } from './placement.js';
import { round2 } from '../util/round.js';

export interface SavingsBreakdown {
  /** Saved tokens priced at the counterfactual request's rates (before deductions). */
  compressionUsd: number;
  /** Cost of the retrieval rounds (or retrieval request) compression caused. */
  retrievalUsd: number;
  /** Cost of a compression-caused prompt-cache bust. */
  cacheBustUsd: number;
  /** compressionUsd - retrievalUsd - cacheBustUsd. */
  netUsd: number;
  /** What the provider billed (null without usage). */
  actualUsd: number | null;
  /** actualUsd + netUsd: what it would have billed without headroom-ts (null without usage). */
  counterfactualUsd: number | null;
  /** Saved tokens (compressor's count) of content compressed afresh / replayed from an earlier turn. */
  freshSaved: number;
  replayedSaved: number;
  /** Share of the cacheable replayed savings priced as cache reads. */
  replayedReadShare: number;
}

const zeroBuckets = (): SavedByCache => ({ write1h: 0, write5m: 0, auto: 0, none: 0 });
const total = (b: SavedByCache) => b.write1h + b.write5m + b.auto + b.none;
const scaled = (b: SavedByCache, f: number): SavedByCache => ({ write1h: b.write1h * f, write5m: b.write5m * f, auto: b.auto * f, none: b.none * f });

type Usage = Pick<TokenUsage, 'input' | 'output' | 'uncached' | 'cacheRead' | 'cacheWrite' | 'cacheWrite5m' | 'cacheWrite1h'>;

function usage(uncached: number, read: number, w5m: number, w1h: number): Usage {
  return { input: uncached + read + w5m + w1h, output: 0, uncached, cacheRead: read, cacheWrite: w5m + w1h, cacheWrite5m: w5m, cacheWrite1h: w1h };
}

/** What the formula needs to know about a request (a proxied outcome, or an SDK call). */
export interface SavingsInput {
  /** The request went to a provider (a proxied request, a wrapped SDK call), as opposed to `/v1/compress` or a hook. */
  providerCall: boolean;
  ok: boolean;
  /** Provider-reported usage, every round summed. */
  usage: TokenUsage | null;
  /** The compressor's count of the request as forwarded. */
  tokensAfter: number;
  placement?: SavedPlacement | undefined;
  /** Usage of each upstream round when the proxy made retrieval rounds. */
  roundUsage?: TokenUsage[] | undefined;
}

/**
 * The placement of a request's saved tokens, scaled to `tokensSaved`. Without one (the
 * `/v1/compress` API, hooks), everything saved is new content that no cache would have held.
 */
function placementOf(o: SavingsInput, tokensSaved: number): { fresh: SavedByCache; replayed: SavedByCache; retrieveTurn: boolean } {
  const p: SavedPlacement | undefined = o.placement;
  if (!p) return { fresh: { ...zeroBuckets(), none: tokensSaved }, replayed: zeroBuckets(), retrieveTurn: false };
  const sum = total(p.fresh) + total(p.replayed);
  const f = sum > 0 ? tokensSaved / sum : 0;
  return { fresh: scaled(p.fresh, f), replayed: scaled(p.replayed, f), retrieveTurn: p.retrieveTurn };
}

/** The savings of one outcome: `tokensSaved` as the compressor counted them, `continuity` what its conversation's cache did. */
export function savingsOf(o: SavingsInput, tokensSaved: number, price: ModelPrice, continuity: CacheContinuity): SavingsBreakdown {
  const p = placementOf(o, tokensSaved);
  const freshSaved = total(p.fresh);
  const replayedSaved = total(p.replayed);
  const u = o.usage;
  const rounds = o.roundUsage && o.roundUsage.length > 1 ? o.roundUsage : null;
  const u0: Usage | null = rounds ? (rounds[0] as TokenUsage) : u;
  // one object shape for every result (built in one literal: faster than spreading a base)
  const result = (compressionUsd: number, retrievalUsd: number, cacheBustUsd: number, netUsd: number, actualUsd: number | null, counterfactualUsd: number | null, replayedReadShare: number): SavingsBreakdown => ({
    freshSaved, replayedSaved, retrievalUsd, cacheBustUsd, compressionUsd, netUsd, actualUsd, counterfactualUsd, replayedReadShare,
  });

  if (!u0 || !u) {
    // No provider usage. A failed proxied request was not billed: nothing saved. Otherwise the
    // cache state is unknown: replayed content under a cache is priced as read, fresh content
    // by its breakpoint (written) or at the input rate.
    if (o.providerCall && !o.ok) return result(0, 0, 0, 0, null, null, 0);
    const r = ratesAt(price, Math.max(0, o.tokensAfter) + tokensSaved);
    const cacheable = p.replayed.write1h + p.replayed.write5m + p.replayed.auto;
    const usd =
      tokenCost(cacheable, r.cacheRead) + tokenCost(p.replayed.none + p.fresh.none + p.fresh.auto, r.input) +
      tokenCost(p.fresh.write5m, r.cacheWrite5m) + tokenCost(p.fresh.write1h, r.cacheWrite1h);
    return result(usd, 0, 0, usd, null, null, 1);
  }

  const first = costOf(u0, price);
  const actual = rounds ? rounds.reduce((a, r, i) => a + (i === 0 ? first : costOf(r, price)).totalUsd, 0) : costOf(u, price).totalUsd;

  // retrieval rounds the proxy made: their input, and the output of every round but the last
  // (those only called headroom_retrieve; the last one is the answer the client would have had anyway)
  let retrievalUsd = 0;
  if (rounds) {
    rounds.forEach((r, i) => {
      const c = i === 0 ? first : costOf(r, price);
      if (i > 0) retrievalUsd += c.inputUsd;
      if (i < rounds.length - 1) retrievalUsd += c.outputUsd;
    });
  }
  if (p.retrieveTurn) {
    // the request answers the client's own headroom_retrieve calls: without compression it would not exist
    retrievalUsd += first.inputUsd;
    const net = -retrievalUsd;
    return result(0, retrievalUsd, 0, net, actual, actual + net, 0);
  }

  // Which replayed savings would have been cache reads: all of them when the provider read the
  // conversation's cached prefix back (or would have, but for a compression-caused bust); none
  // when it read nothing; in proportion when it read part of the previous request's prefix.
  const read = u0.cacheRead;
  let share = 1;
  if (continuity.compressionBust) share = 1;
  else if (read <= 0) share = 0;
  else if (continuity.expected !== null && continuity.expected > 0 && read < continuity.expected) share = read / continuity.expected;

  const rep = p.replayed;
  const fr = p.fresh;
  const w1hActual = Math.min(u0.cacheWrite1h, u0.cacheWrite);
  const w5mActual = u0.cacheWrite - w1hActual;
  const cfRead = read + share * (rep.write1h + rep.write5m + rep.auto);
  const cf1h = w1hActual + fr.write1h + (1 - share) * rep.write1h;
  const cf5m = w5mActual + fr.write5m + (1 - share) * rep.write5m;
  const cfUncached = u0.uncached + fr.none + fr.auto + rep.none + (1 - share) * rep.auto;
  const cf = costOf(usage(cfUncached, cfRead, cf5m, cf1h), price);
  const compressionUsd = Math.max(0, cf.inputUsd - first.inputUsd);

  // a compression-caused bust: the lost prefix (the start of what was written: 1-hour entries
  // come first, then 5-minute ones, then uncached input) would have been read
  let cacheBustUsd = 0;
  if (continuity.compressionBust && continuity.tokensLost > 0) {
    let lost = continuity.tokensLost;
    const l1h = Math.min(lost, w1hActual);
    lost -= l1h;
    const l5m = Math.min(lost, w5mActual);
    lost -= l5m;
    const lu = Math.min(lost, u0.uncached);
    const cfBust = costOf(usage(cfUncached - lu, cfRead + l1h + l5m + lu, cf5m - l5m, cf1h - l1h), price);
    cacheBustUsd = Math.max(0, cf.inputUsd - cfBust.inputUsd);
  }

  const net = compressionUsd - retrievalUsd - cacheBustUsd;
  return result(compressionUsd, retrievalUsd, cacheBustUsd, net, actual, actual + net, share);
}


/**
 * Whole-wire savings percentage: saved / (sent + saved), the share of every input token that
 * would have been sent. Within 0-100 by construction (both terms are counts >= 0).
 */
export function wholeWirePercent(saved: number, sent: number): number {
  const s = Math.max(0, saved);
  const d = s + Math.max(0, sent);
  return d > 0 ? round2((s / d) * 100) : 0;
}

/**
 * New-input savings percentage: tokens saved by compressing this turn's new content /
 * tokens of that new content as sent. The numerator counts only fresh compression (replayed
 * history is not new input); the denominator is at least the compressed texts' own tokens, so
 * the figure is within 0-100. null when no request reported new input.
 */
export function newInputPercent(freshSaved: number, newInput: number): number | null {
  if (newInput <= 0) return null;
  return round2((Math.max(0, freshSaved) / newInput) * 100);
}

/**
 * Spend savings percentage: dollars saved / what the requests would have cost without
 * headroom-ts (spend + saved). 0 when compression cost more than it saved (the negative
 * dollar figure says by how much).
 */
export function spendSavedPercent(savedUsd: number, spendUsd: number): number {
  const without = spendUsd + savedUsd;
  if (savedUsd <= 0 || without <= 0) return 0;
  return Math.round((savedUsd / without) * 1000) / 10;
}

/** The formula in one sentence (`/stats.dollar_figures.savings_formula`). */
export const SAVINGS_FORMULA =
  'saved = what the provider would have billed for the uncompressed request (saved tokens added back as cache reads when they sit in ' +
  'replayed history the provider read from its cache, as 5m/1h cache writes when under a breakpoint, else as uncached input) ' +
  '- what it billed for round 0 ' +
  '- the retrieval rounds compression caused (their input, and the output of rounds that only called headroom_retrieve) ' +
  '- a compression-caused cache bust (the lost cached prefix at its write price minus its read price). Can be negative.';
