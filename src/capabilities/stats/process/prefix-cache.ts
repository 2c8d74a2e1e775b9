/**
 * Provider prompt-cache accounting (`/stats.prefix_cache` and the cache metric families):
 * read/write/uncached tokens, observed TTL buckets (Anthropic 5m/1h writes), hit rates,
 * dollar savings at the model's real prices, provider cache busts, and miss attribution.
 *
 * Misses and compression-caused busts (Anthropic) come from `cache-continuity.ts` through the
 * outcome's accounting, so `/stats` and the savings figures judge a request the same way.
 */
import type { RequestOutcome } from '../../../core/outcome.js';
import type { Accounting } from '../accounting.js';
import type { MissReason } from '../cache-continuity.js';
import type { CacheFigures, MissCounts, PrefixCache, ProviderCache } from '../schema.js';
import { round1, round4 } from '../../../util/round.js';

export type { MissReason };

export interface ProviderCacheCounters {
  cacheRead: number;
  cacheWrite: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
  write5mRequests: number;
  write1hRequests: number;
  uncached: number;
  requests: number;
  hitRequests: number;
  bustCount: number;
  bustWriteTokens: number;
  savingsUsd: number;
  writePremiumUsd: number;
}

const zero = (): ProviderCacheCounters => ({
  cacheRead: 0, cacheWrite: 0, cacheWrite5m: 0, cacheWrite1h: 0, write5mRequests: 0, write1hRequests: 0,
  uncached: 0, requests: 0, hitRequests: 0, bustCount: 0, bustWriteTokens: 0, savingsUsd: 0, writePremiumUsd: 0,
});

const MAX_MODELS = 10_000;

/** Descriptions of the provider's cache pricing (observational labels). */
const PROVIDER_LABELS: Record<string, { label: string; readDiscount: string; writePremium: string }> = {
  anthropic: { label: 'Anthropic prompt caching (explicit cache_control)', readDiscount: '90%', writePremium: '25%' },
  openai: { label: 'OpenAI automatic prompt caching', readDiscount: '50%', writePremium: 'none' },
};

const pct = (a: number, b: number) => (b > 0 ? round1((a / b) * 100) : 0);

export const ATTRIBUTION_TEXT =
  'Provider prompt-cache figures are observed from provider-reported usage (cache reads, cache writes and their TTL buckets); ' +
  'they do not configure TTLs or show remaining expiry. Dollar figures use each model\'s real input, cache-read and cache-write prices. ' +
  'Misses are attributed per conversation: ttl_expiry (gap longer than the cache TTL), prefix_change (prefix rewritten), unknown.';

export class PrefixCacheStats {
  readonly byProvider = new Map<string, ProviderCacheCounters>();
  readonly misses = new Map<string, Record<MissReason, number>>();
  compressionBusts = 0;
  tokensLostToBusts = 0;
  tokensSavedByCompression = 0;
  /** Models whose first cache observation was seen (cold start is not a bust). */
  private readonly seenModels = new Set<string>();

  reset(): void {
    this.byProvider.clear();
    this.misses.clear();
    this.compressionBusts = 0;
    this.tokensLostToBusts = 0;
    this.tokensSavedByCompression = 0;
    this.seenModels.clear();
  }

  /** Whether any cache read or write was observed (the provider cache metric families appear then). */
  get anyObserved(): boolean {
    for (const c of this.byProvider.values()) if (c.cacheRead > 0 || c.cacheWrite > 0) return true;
    return false;
  }

  record(o: RequestOutcome, a: Accounting): void {
    this.tokensSavedByCompression += a.tokensSaved;
    const u = o.usage;
    if (!u || !o.ok) return;
    const provider = a.provider;
    const read = u.cacheRead;
    const write = u.cacheWrite;
    // Anthropic caches only what the request marks; OpenAI (also on Azure) and Gemini cache every prompt automatically.
    const automatic = provider === 'openai' || provider === 'azure.ai.openai' || provider === 'gcp.gemini';
    const observed = automatic ? u.input > 0 : read > 0 || write > 0;
    if (observed) {
      let c = this.byProvider.get(provider);
      if (!c) {
        c = zero();
        this.byProvider.set(provider, c);
      }
      c.cacheRead += read;
      c.cacheWrite += write;
      c.cacheWrite5m += u.cacheWrite5m;
      c.cacheWrite1h += u.cacheWrite1h;
      if (u.cacheWrite5m > 0) c.write5mRequests++;
      if (u.cacheWrite1h > 0) c.write1hRequests++;
      c.uncached += u.uncached;
      c.requests++;
      if (read > 0) c.hitRequests++;
      c.savingsUsd += a.cacheSavingsUsd;
      c.writePremiumUsd += Math.max(0, a.cacheWritePremiumUsd);
      if (provider === 'anthropic' && (read > 0 || write > 0)) {
        const modelKey = `${provider}\u0000${a.model}`;
        if (!this.seenModels.has(modelKey)) {
          if (this.seenModels.size < MAX_MODELS) this.seenModels.add(modelKey);
        } else if (write > 0.5 * (read + write)) {
          c.bustCount++;
          c.bustWriteTokens += write;
        }
      }
    }
    const k = a.continuity;
    if (k.miss) {
      let m = this.misses.get(provider);
      if (!m) {
        m = { ttl_expiry: 0, prefix_change: 0, unknown: 0 };
        this.misses.set(provider, m);
      }
      m[k.miss]++;
    }
    if (k.compressionBust) {
      this.compressionBusts++;
      this.tokensLostToBusts += k.tokensLost;
    }
  }

  private static ttlBlocks(c: ProviderCacheCounters, always: boolean): Pick<CacheFigures, 'observed_ttl_buckets' | 'observed_ttl_mix'> {
    const out: Pick<CacheFigures, 'observed_ttl_buckets' | 'observed_ttl_mix'> = {
      observed_ttl_buckets: {
        '5m': { tokens: c.cacheWrite5m, requests: c.write5mRequests },
        '1h': { tokens: c.cacheWrite1h, requests: c.write1hRequests },
      },
    };
    const total = c.cacheWrite5m + c.cacheWrite1h;
    if (total > 0 || always) {
      out.observed_ttl_mix = {
        '5m_pct': pct(c.cacheWrite5m, total),
        '1h_pct': pct(c.cacheWrite1h, total),
        active_buckets: [...(c.cacheWrite5m > 0 ? ['5m'] : []), ...(c.cacheWrite1h > 0 ? ['1h'] : [])],
      };
    }
    return out;
  }

  private static counters(c: ProviderCacheCounters): Omit<CacheFigures, 'savings_usd' | 'write_premium_usd' | 'net_savings_usd' | 'observed_ttl_buckets' | 'observed_ttl_mix'> {
    return {
      cache_read_tokens: c.cacheRead,
      cache_write_tokens: c.cacheWrite,
      cache_write_5m_tokens: c.cacheWrite5m,
      cache_write_1h_tokens: c.cacheWrite1h,
      cache_write_5m_requests: c.write5mRequests,
      cache_write_1h_requests: c.write1hRequests,
      uncached_input_tokens: c.uncached,
      requests: c.requests,
      hit_requests: c.hitRequests,
      hit_rate: pct(c.cacheRead, c.cacheRead + c.cacheWrite + c.uncached),
      request_hit_rate: pct(c.hitRequests, c.requests),
      bust_count: c.bustCount,
      bust_write_tokens: c.bustWriteTokens,
    };
  }

  totals(): ProviderCacheCounters {
    const t = zero();
    for (const c of this.byProvider.values()) for (const k of Object.keys(t) as (keyof ProviderCacheCounters)[]) t[k] += c[k];
    return t;
  }

  /** Net dollar effect of provider caching (process scope): read savings minus write premiums. */
  netSavingsUsd(): number {
    const t = this.totals();
    return t.savingsUsd - t.writePremiumUsd;
  }

  payload(prefixFreeze: unknown): PrefixCache {
    const byProvider: Record<string, ProviderCache> = {};
    for (const [p, c] of [...this.byProvider].sort(([a], [b]) => a.localeCompare(b))) {
      const labels = PROVIDER_LABELS[p] ?? PROVIDER_LABELS.anthropic!;
      byProvider[p] = {
        ...PrefixCacheStats.counters(c),
        read_discount: labels.readDiscount,
        write_premium: labels.writePremium,
        savings_usd: round4(c.savingsUsd),
        write_premium_usd: round4(c.writePremiumUsd),
        net_savings_usd: round4(c.savingsUsd - c.writePremiumUsd),
        label: labels.label,
        ...PrefixCacheStats.ttlBlocks(c, false),
      };
    }
    const t = this.totals();
    const missTotals = { ttl_expiry: 0, prefix_change: 0, unknown: 0 };
    const missBy: Record<string, MissCounts> = {};
    for (const [p, m] of this.misses) {
      missTotals.ttl_expiry += m.ttl_expiry;
      missTotals.prefix_change += m.prefix_change;
      missTotals.unknown += m.unknown;
      missBy[p] = { ...m, total: m.ttl_expiry + m.prefix_change + m.unknown };
    }
    const attributed = missTotals.ttl_expiry + missTotals.prefix_change;
    return {
      by_provider: byProvider,
      totals: {
        ...PrefixCacheStats.counters(t),
        savings_usd: round4(t.savingsUsd),
        write_premium_usd: round4(t.writePremiumUsd),
        net_savings_usd: round4(t.savingsUsd - t.writePremiumUsd),
        ...PrefixCacheStats.ttlBlocks(t, true),
      },
      miss_attribution: {
        totals: {
          ...missTotals,
          total: attributed + missTotals.unknown,
          ttl_expiry_pct: pct(missTotals.ttl_expiry, attributed),
          prefix_change_pct: pct(missTotals.prefix_change, attributed),
        },
        by_provider: missBy,
      },
      prefix_freeze: prefixFreeze,
      compression_vs_cache: {
        tokens_saved_by_compression: this.tokensSavedByCompression,
        tokens_lost_to_cache_bust: this.tokensLostToBusts,
        cache_bust_count: this.compressionBusts,
        net_tokens: this.tokensSavedByCompression - this.tokensLostToBusts,
      },
      attribution: ATTRIBUTION_TEXT,
    };
  }
}
