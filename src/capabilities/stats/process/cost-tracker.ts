/**
 * Per-model spend and savings of this process since start (or /stats/reset): the source of
 * `/stats.cost` and `/stats.summary.cost`. Every figure comes from `accountingOf()`; the
 * savings are net (`savings.ts`) and `savings_breakdown` shows their parts.
 */
import type { Accounting } from '../accounting.js';
import type { Cost, ModelCost as ModelCostJson, SavingsBreakdown } from '../schema.js';
import { round4, round6 } from '../../../util/round.js';

export interface ModelCost {
  provider: string;
  requests: number;
  tokensSaved: number;
  tokensSent: number;
  outputTokens: number;
  cacheRead: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
  uncached: number;
  inputCostUsd: number;
  outputCostUsd: number;
  /** Net (`savings.ts`): compression - retrieval - cache busts. */
  compressionSavingsUsd: number;
  grossSavingsUsd: number;
  retrievalUsd: number;
  cacheBustUsd: number;
  fallbackPriced: boolean;
  matchedModel: string | null;
}

export interface CostTotals {
  tokensSaved: number;
  tokensSent: number;
  inputCostUsd: number;
  outputCostUsd: number;
  compressionSavingsUsd: number;
  grossSavingsUsd: number;
  retrievalUsd: number;
  cacheBustUsd: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
}

const MAX_MODELS = 500;

export class CostTracker {
  readonly byModel = new Map<string, ModelCost>();

  reset(): void {
    this.byModel.clear();
  }

  record(a: Accounting): void {
    let key = a.model;
    let m = this.byModel.get(key);
    if (!m) {
      if (this.byModel.size >= MAX_MODELS) key = 'other';
      m = this.byModel.get(key);
      if (!m) {
        m = {
          provider: a.provider, requests: 0, tokensSaved: 0, tokensSent: 0, outputTokens: 0, cacheRead: 0, cacheWrite5m: 0,
          cacheWrite1h: 0, uncached: 0, inputCostUsd: 0, outputCostUsd: 0, compressionSavingsUsd: 0, grossSavingsUsd: 0, retrievalUsd: 0,
          cacheBustUsd: 0, fallbackPriced: false,
          matchedModel: a.price.matchedModel,
        };
        this.byModel.set(key, m);
      }
    }
    m.requests++;
    m.tokensSaved += a.tokensSaved;
    m.tokensSent += a.inputTokens;
    m.outputTokens += a.outputTokens;
    m.cacheRead += a.cacheReadTokens;
    m.cacheWrite5m += a.cacheWrite5mTokens;
    m.cacheWrite1h += a.cacheWrite1hTokens;
    m.uncached += a.uncachedTokens;
    m.inputCostUsd += a.inputCostUsd;
    m.outputCostUsd += a.outputCostUsd;
    m.compressionSavingsUsd += a.compressionSavingsUsd;
    m.grossSavingsUsd += a.savings.compressionUsd;
    m.retrievalUsd += a.savings.retrievalUsd;
    m.cacheBustUsd += a.savings.cacheBustUsd;
    if (a.fallbackPriced) m.fallbackPriced = true;
  }

  totals(): CostTotals {
    const t: CostTotals = { tokensSaved: 0, tokensSent: 0, inputCostUsd: 0, outputCostUsd: 0, compressionSavingsUsd: 0, grossSavingsUsd: 0, retrievalUsd: 0, cacheBustUsd: 0, cacheWrite5m: 0, cacheWrite1h: 0 };
    for (const m of this.byModel.values()) {
      t.tokensSaved += m.tokensSaved;
      t.tokensSent += m.tokensSent;
      t.inputCostUsd += m.inputCostUsd;
      t.outputCostUsd += m.outputCostUsd;
      t.compressionSavingsUsd += m.compressionSavingsUsd;
      t.grossSavingsUsd += m.grossSavingsUsd;
      t.retrievalUsd += m.retrievalUsd;
      t.cacheBustUsd += m.cacheBustUsd;
      t.cacheWrite5m += m.cacheWrite5m;
      t.cacheWrite1h += m.cacheWrite1h;
    }
    return t;
  }

  /** Models priced with a fallback price (unknown to the price data). */
  fallbackModels(): string[] {
    return [...this.byModel].filter(([, m]) => m.fallbackPriced).map(([name]) => name).sort();
  }

  /** `/stats.cost` (Headroom keys plus headroom-ts additions; all process scope). */
  payload(cacheSavingsUsd: number, budget: { limit: number | null; period: string | null }): Cost {
    const t = this.totals();
    const perModel: Record<string, ModelCostJson> = {};
    for (const [name, m] of [...this.byModel].sort(([a], [b]) => a.localeCompare(b))) {
      perModel[name] = {
        requests: m.requests,
        tokens_saved: m.tokensSaved,
        tokens_sent: m.tokensSent,
        cache_write_5m_tokens: m.cacheWrite5m,
        cache_write_1h_tokens: m.cacheWrite1h,
        reduction_pct: m.tokensSaved + m.tokensSent > 0 ? Math.round((m.tokensSaved / (m.tokensSaved + m.tokensSent)) * 1000) / 10 : 0,
        provider: m.provider,
        priced_as: m.matchedModel,
        price_fallback: m.fallbackPriced,
        input_cost_usd: round6(m.inputCostUsd),
        output_cost_usd: round6(m.outputCostUsd),
        compression_savings_usd: round6(m.compressionSavingsUsd),
        savings_breakdown: breakdownJson(m.grossSavingsUsd, m.retrievalUsd, m.cacheBustUsd, m.compressionSavingsUsd, round6),
      };
    }
    return {
      scope: 'process',
      total_tokens_saved: t.tokensSaved,
      total_input_tokens: t.tokensSent,
      total_input_cost_usd: round4(t.inputCostUsd),
      cache_write_5m_tokens: t.cacheWrite5m,
      cache_write_1h_tokens: t.cacheWrite1h,
      per_model: perModel,
      cost_with_headroom_usd: round4(t.inputCostUsd),
      cost_without_headroom_usd: round4(t.inputCostUsd + t.compressionSavingsUsd),
      savings_usd: round4(t.compressionSavingsUsd),
      budget_limit_usd: budget.limit,
      budget_period: budget.period,
      compression_savings_usd: round4(t.compressionSavingsUsd),
      cache_savings_usd: round4(cacheSavingsUsd),
      output_cost_usd: round4(t.outputCostUsd),
      total_cost_usd: round4(t.inputCostUsd + t.outputCostUsd),
      total_savings_usd: round4(t.compressionSavingsUsd),
      total_cost_without_headroom_usd: round4(t.inputCostUsd + t.outputCostUsd + t.compressionSavingsUsd),
      savings_breakdown: breakdownJson(t.grossSavingsUsd, t.retrievalUsd, t.cacheBustUsd, t.compressionSavingsUsd, round4),
      price_fallback_models: this.fallbackModels(),
      cli_tokens_avoided: 0,
      cli_filtering_tokens_avoided: 0,
      cli_tokens_included_in_compression: true,
      cli_filtering_tokens_included_in_compression: true,
    };
  }
}

/** How the net saving is made up (`savings.ts`). */
function breakdownJson(gross: number, retrieval: number, bust: number, net: number, round: (n: number) => number): SavingsBreakdown {
  return { compression_usd: round(gross), retrieval_rounds_usd: round(retrieval), cache_bust_usd: round(bust), net_usd: round(net) };
}
