/**
 * Model prices, from the price data bundled with `@pydantic/genai-prices` (offline: the
 * package's remote update is never enabled), and the cost of a request's token usage.
 *
 * - `priceFor(provider, model)` resolves a model once and caches it (10 minutes, so
 *   date-bound prices take effect): input, output, cache read, cache write (5 m and 1 h)
 *   per million tokens, long-context tiers and the context window.
 * - A model the data does not know gets the documented fallback price of its provider
 *   (`FALLBACK_RATES`) and `fallback: true`; callers flag it. It is never priced at $0.
 * - `costOf(usage, price)` prices a normalised `TokenUsage`: uncached input, cache reads,
 *   cache writes by TTL, and output, with the tier chosen by the request's prompt size.
 */
import { calcPrice, type ModelPrice as GenaiModelPrice, type TieredPrices } from '@pydantic/genai-prices';
import type { ProviderId, TokenUsage } from './types.js';

/** USD per million tokens. */
export interface PriceRates {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
}

export interface ModelPrice extends PriceRates {
  provider: ProviderId;
  /** The model name as requested/reported. */
  requestedModel: string | null;
  /** The price-data model id it matched, or null for a fallback price. */
  matchedModel: string | null;
  contextWindow: number | null;
  /** True when the model is unknown and the provider's fallback rates apply. */
  fallback: boolean;
  /** Long-context tiers: when a request's prompt exceeds `aboveInputTokens`, these rates apply to all of it. */
  tiers: { aboveInputTokens: number; rates: PriceRates }[];
}

/**
 * Fallback rates (USD per million tokens) for models the price data does not know:
 * Anthropic (and Claude on Bedrock and Vertex) at Claude Sonnet list prices, OpenAI at GPT-4o
 * list prices, anything else at the Anthropic rates. Figures using them are flagged (`fallback: true`).
 */
export const FALLBACK_RATES: Record<ProviderId, PriceRates> = {
  anthropic: { input: 3, output: 15, cacheRead: 0.3, cacheWrite5m: 3.75, cacheWrite1h: 6 },
  openai: { input: 2.5, output: 10, cacheRead: 1.25, cacheWrite5m: 2.5, cacheWrite1h: 2.5 },
  'aws.bedrock': { input: 3, output: 15, cacheRead: 0.3, cacheWrite5m: 3.75, cacheWrite1h: 6 },
  'gcp.vertex_ai': { input: 3, output: 15, cacheRead: 0.3, cacheWrite5m: 3.75, cacheWrite1h: 6 },
  'azure.ai.openai': { input: 2.5, output: 10, cacheRead: 1.25, cacheWrite5m: 2.5, cacheWrite1h: 2.5 },
  // Gemini 2.5 Pro list prices
  'gcp.gemini': { input: 1.25, output: 10, cacheRead: 0.125, cacheWrite5m: 1.25, cacheWrite1h: 1.25 },
  unknown: { input: 3, output: 15, cacheRead: 0.3, cacheWrite5m: 3.75, cacheWrite1h: 6 },
};


/** Where prices come from (shown in /stats). */
export const PRICE_SOURCE = '@pydantic/genai-prices (bundled data, offline)';

const CACHE_TTL_MS = 10 * 60_000;
const MAX_CACHED = 2048;
const cache = new Map<string, { price: ModelPrice; at: number }>();

type RawPrice = number | TieredPrices | undefined;

const baseOf = (p: RawPrice): number | undefined => (p === undefined ? undefined : typeof p === 'number' ? p : p.base);

function ratesFrom(mp: GenaiModelPrice, pick: (p: RawPrice) => number | undefined): PriceRates {
  const input = pick(mp.input_mtok) ?? 0;
  const cacheWrite5m = pick(mp.cache_write_mtok) ?? input;
  return {
    input,
    output: pick(mp.output_mtok) ?? 0,
    cacheRead: pick(mp.cache_read_mtok) ?? input,
    cacheWrite5m,
    cacheWrite1h: pick(mp.cache_write_1h_mtok) ?? cacheWrite5m,
  };
}

function tiersFrom(mp: GenaiModelPrice): ModelPrice['tiers'] {
  const starts = new Set<number>();
  for (const key of ['input_mtok', 'output_mtok', 'cache_read_mtok', 'cache_write_mtok', 'cache_write_1h_mtok']) {
    const p = mp[key];
    if (p !== undefined && typeof p !== 'number') for (const t of p.tiers) starts.add(t.start);
  }
  return [...starts].sort((a, b) => a - b).map((start) => ({
    aboveInputTokens: start,
    rates: ratesFrom(mp, (p) => {
      if (p === undefined || typeof p === 'number') return p;
      let price = p.base;
      for (const t of p.tiers) if (start >= t.start) price = t.price;
      return price;
    }),
  }));
}

/**
 * The price data's provider ids for ours, in the order tried: a cloud platform's own price
 * where the data has one, else the model maker's (Azure OpenAI -> OpenAI).
 */
const PRICE_PROVIDERS: Record<ProviderId, readonly string[]> = {
  anthropic: ['anthropic'],
  openai: ['openai'],
  'azure.ai.openai': ['azure', 'openai'],
  'gcp.gemini': ['google'],
  'aws.bedrock': ['aws', 'anthropic'],
  'gcp.vertex_ai': ['google', 'anthropic'],
  unknown: [],
};

function lookupAt(providerId: string | null, model: string): ReturnType<typeof calcPrice> {
  const opts = providerId === null ? {} : { providerId };
  let r = calcPrice({ input_tokens: 1 }, model, opts);
  if (!r && model.includes('/')) r = calcPrice({ input_tokens: 1 }, model.slice(model.lastIndexOf('/') + 1), opts);
  return r;
}

function lookup(provider: ProviderId, model: string): ReturnType<typeof calcPrice> {
  const ids = PRICE_PROVIDERS[provider] ?? [];
  if (ids.length === 0) return lookupAt(null, model);
  for (const id of ids) {
    const r = lookupAt(id, model);
    if (r) return r;
  }
  return null;
}

function resolve(provider: ProviderId, model: string | null): ModelPrice {
  let r: ReturnType<typeof calcPrice> = null;
  if (model) {
    try {
      r = lookup(provider, model);
    } catch {
      r = null;
    }
  }
  if (!r) {
    return { ...FALLBACK_RATES[provider], provider, requestedModel: model, matchedModel: null, contextWindow: null, fallback: true, tiers: [] };
  }
  const mp = r.model_price;
  return {
    ...ratesFrom(mp, baseOf),
    provider,
    requestedModel: model,
    matchedModel: r.model.id,
    contextWindow: r.model.context_window ?? null,
    fallback: false,
    tiers: tiersFrom(mp),
  };
}

/** The price of a provider's model (cached). Unknown models get the flagged fallback price. */
export function priceFor(provider: ProviderId, model: string | null, now = Date.now()): ModelPrice {
  const key = `${provider}\u0000${model ?? ''}`;
  const hit = cache.get(key);
  if (hit && now - hit.at < CACHE_TTL_MS) return hit.price;
  const price = resolve(provider, model);
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(key, { price, at: now });
  return price;
}

/** The rates that apply to a request whose prompt has `inputTokens` tokens. */
export function ratesAt(price: ModelPrice, inputTokens: number): PriceRates {
  let rates: PriceRates = price;
  for (const t of price.tiers) if (inputTokens > t.aboveInputTokens) rates = t.rates;
  return rates;
}

/** USD for `tokens` at `perMTok` USD per million. */
export const tokenCost = (tokens: number, perMTok: number): number => (tokens > 0 ? (tokens * perMTok) / 1e6 : 0);

export interface CostBreakdown {
  /** Uncached prompt tokens at the input price. */
  uncachedUsd: number;
  cacheReadUsd: number;
  cacheWriteUsd: number;
  /** All prompt-side spend: uncached + cache reads + cache writes. */
  inputUsd: number;
  outputUsd: number;
  totalUsd: number;
  /** What the cache reads would have cost at the input price, minus what they cost. */
  cacheReadSavingsUsd: number;
  /** What cache writes cost above the input price. */
  cacheWritePremiumUsd: number;
  /** The rates used (tier applied). */
  rates: PriceRates;
}

export type UsageForCost = Pick<TokenUsage, 'input' | 'output' | 'uncached' | 'cacheRead' | 'cacheWrite' | 'cacheWrite5m' | 'cacheWrite1h'>;

/** Prices a normalised usage. Cache writes without a TTL split are priced as 5-minute writes. */
export function costOf(usage: UsageForCost, price: ModelPrice): CostBreakdown {
  const rates = ratesAt(price, usage.input);
  const w1h = Math.min(usage.cacheWrite1h, usage.cacheWrite);
  const w5m = usage.cacheWrite - w1h;
  const uncachedUsd = tokenCost(usage.uncached, rates.input);
  const cacheReadUsd = tokenCost(usage.cacheRead, rates.cacheRead);
  const cacheWriteUsd = tokenCost(w5m, rates.cacheWrite5m) + tokenCost(w1h, rates.cacheWrite1h);
  const inputUsd = uncachedUsd + cacheReadUsd + cacheWriteUsd;
  const outputUsd = tokenCost(usage.output, rates.output);
  return {
    uncachedUsd,
    cacheReadUsd,
    cacheWriteUsd,
    inputUsd,
    outputUsd,
    totalUsd: inputUsd + outputUsd,
    cacheReadSavingsUsd: tokenCost(usage.cacheRead, rates.input) - cacheReadUsd,
    cacheWritePremiumUsd: cacheWriteUsd - tokenCost(usage.cacheWrite, rates.input),
    rates,
  };
}

/** Empties the price cache (tests). */
export function clearPriceCache(): void {
  cache.clear();
}
