/**
 * The figures of one outcome, computed once (memoised per outcome object) and shared by every
 * sink that needs them: the process stats, the durable store, metrics, OTEL, the log file,
 * budgets. All dollar figures of headroom-ts come from here, priced by `providers/pricing.ts`;
 * the savings formula is `savings.ts`; the conversation's cache state comes with the outcome
 * (`cache-continuity.ts`, a funnel annotator, sets `ext.cacheContinuity`).
 */
import { type CostBreakdown, costOf, type ModelPrice, priceFor } from '../../providers/pricing.js';
import type { RequestOutcome, TokenUsage } from '../../core/outcome.js';
import { type CacheContinuity, NO_CONTINUITY } from '../../savings/continuity.js';
import { type SavingsBreakdown, type SavingsInput, savingsOf } from '../../savings/savings.js';
// the outcome extensions read here: ext.ccr and ext.placement are declared by these (ext.cacheContinuity by ./api.ts)
import type {} from '../ccr/api.js';
import type {} from '../compression/api.js';
import type {} from '../routing/api.js';

/** Routed to a cloud platform's own API: priced at that platform's price (`gcp.gemini`: Google's). */
const PRICE_BY_FORMAT: Partial<Record<string, RequestOutcome['provider']>> = { gemini: 'gcp.gemini', azure: 'azure.ai.openai' };

export interface Accounting {
  /** False for outcomes kept out of the figures (unauthenticated callers). */
  counted: boolean;
  provider: string;
  /** Reported model, else requested, else `unknown`. */
  model: string;
  /**
   * Prompt tokens after compression: the provider-reported input when the response carried
   * usage, else the compressor's count of what was (or, for /v1/compress and hooks, will be) sent.
   */
  inputTokens: number;
  outputTokens: number;
  tokensSaved: number;
  /** inputTokens + tokensSaved: what would have been sent without headroom-ts. */
  tokensBefore: number;
  /** Tokens first seen this turn (0 when the compressor did not report it). */
  newInputTokens: number;
  /** Prompt tokens compression was attempted on (proxied: input + saved; none for passthrough routes). */
  attemptedTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  cacheWrite5mTokens: number;
  cacheWrite1hTokens: number;
  uncachedTokens: number;
  price: ModelPrice;
  /** Provider-billed cost from usage; null when the response carried no usage. */
  cost: CostBreakdown | null;
  inputCostUsd: number;
  outputCostUsd: number;
  /**
   * Net dollars compression saved on this request (`savings.ts`): the uncompressed request at
   * the rates it would have been billed, minus what was billed, minus retrieval rounds and
   * compression-caused cache busts. Can be negative.
   */
  compressionSavingsUsd: number;
  /** The parts of compressionSavingsUsd. */
  savings: SavingsBreakdown;
  /** Tokens saved by compressing this turn's new content (the new-input numerator). */
  freshSavedTokens: number;
  /** Tokens of original content handed back to the model through headroom_retrieve. */
  retrievedTokens: number;
  /** What the conversation's prompt cache did (Anthropic; misses and compression-caused busts). */
  continuity: CacheContinuity;
  cacheSavingsUsd: number;
  cacheWritePremiumUsd: number;
  /** Tokens were priced with the fallback price of an unknown model. */
  fallbackPriced: boolean;
  /** Served from a cache (headroom-ts's response cache, or a provider prompt-cache read). */
  cached: boolean;
}

/** What the savings formula reads of an outcome. */
export const savingsInputOf = (o: RequestOutcome): SavingsInput => ({
  providerCall: o.kind === 'proxy',
  ok: o.ok,
  usage: o.usage,
  tokensAfter: o.compression.tokensAfter,
  placement: o.ext.placement,
  roundUsage: o.ext.ccr?.roundUsage,
});

const memo = new WeakMap<RequestOutcome, Accounting>();

/**
 * What the provider billed: each upstream call priced on its own (a long-context tier is
 * chosen per call), summed; `u` alone when the proxy made no retrieval rounds.
 */
function costOfCalls(u: TokenUsage, rounds: TokenUsage[] | undefined, price: ModelPrice): CostBreakdown {
  if (!rounds || rounds.length < 2) return costOf(u, price);
  const parts = rounds.map((r) => costOf(r, price));
  const sum = (k: Exclude<keyof CostBreakdown, 'rates'>) => parts.reduce((a, c) => a + c[k], 0);
  return {
    uncachedUsd: sum('uncachedUsd'), cacheReadUsd: sum('cacheReadUsd'), cacheWriteUsd: sum('cacheWriteUsd'), inputUsd: sum('inputUsd'),
    outputUsd: sum('outputUsd'), totalUsd: sum('totalUsd'), cacheReadSavingsUsd: sum('cacheReadSavingsUsd'),
    cacheWritePremiumUsd: sum('cacheWritePremiumUsd'), rates: (parts[0] as CostBreakdown).rates,
  };
}

/** The model name figures are keyed by. */
export const modelOf = (o: RequestOutcome): string => o.model ?? o.requestedModel ?? 'unknown';

export function accountingOf(o: RequestOutcome): Accounting {
  const hit = memo.get(o);
  if (hit) return hit;
  const a = compute(o);
  memo.set(o, a);
  return a;
}

function compute(o: RequestOutcome): Accounting {
  const u = o.usage;
  const c = o.compression;
  const model = modelOf(o);
  const routedFormat = o.ext.routing?.format;
  const price = priceFor((routedFormat && PRICE_BY_FORMAT[routedFormat]) || o.provider, o.model ?? o.requestedModel);
  const tokensSaved = Math.max(0, c.tokensSaved);
  const inputTokens = u ? u.input : Math.max(0, c.tokensAfter);
  const cost = u ? costOfCalls(u, o.ext.ccr?.roundUsage, price) : null;
  const continuity = o.ext.cacheContinuity ?? NO_CONTINUITY;
  const savings = savingsOf(savingsInputOf(o), tokensSaved, price, continuity);
  const outputTokens = u?.output ?? 0;
  const passthrough = o.api === 'models' || o.api === 'passthrough' || o.api === 'count_tokens';
  return {
    counted: o.errorType !== 'unauthorized',
    provider: o.provider,
    model,
    inputTokens,
    outputTokens,
    tokensSaved,
    tokensBefore: inputTokens + tokensSaved,
    newInputTokens: Math.max(0, c.newInputTokens),
    attemptedTokens: passthrough ? 0 : inputTokens + tokensSaved,
    cacheReadTokens: u?.cacheRead ?? 0,
    cacheWriteTokens: u?.cacheWrite ?? 0,
    cacheWrite5mTokens: u?.cacheWrite5m ?? 0,
    cacheWrite1hTokens: u?.cacheWrite1h ?? 0,
    uncachedTokens: u?.uncached ?? 0,
    price,
    cost,
    inputCostUsd: cost?.inputUsd ?? 0,
    outputCostUsd: cost?.outputUsd ?? 0,
    compressionSavingsUsd: savings.netUsd,
    savings,
    freshSavedTokens: savings.freshSaved,
    retrievedTokens: o.ext.ccr?.tokensRetrieved ?? 0,
    continuity,
    cacheSavingsUsd: cost?.cacheReadSavingsUsd ?? 0,
    cacheWritePremiumUsd: cost?.cacheWritePremiumUsd ?? 0,
    fallbackPriced: price.fallback && (inputTokens + outputTokens + tokensSaved > 0),
    cached: o.cached || (u?.cacheRead ?? 0) > 0,
  };
}
