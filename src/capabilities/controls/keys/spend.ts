/**
 * Spend by virtual key: requests, tokens, provider-billed cost and compression savings of
 * every counted outcome, keyed by the key's name (the `/stats.by_virtual_key` block, which the
 * dashboard shows). Process figures, like `/stats.cost`: since start or the last reset. Every
 * configured key is listed, used or not, so the names are bounded by the config.
 */
import type { RequestOutcome } from '../../../core/outcome.js';
import type { Accounting } from '../../stats/api.js';
import { round6 } from '../../../util/round.js';
import type { VirtualKeys } from './registry.js';

interface KeyTotals {
  requests: number;
  errors: number;
  refused: number;
  inputTokens: number;
  outputTokens: number;
  tokensSaved: number;
  costUsd: number;
  savingsUsd: number;
  lastUsedAt: number | null;
}

const zero = (): KeyTotals => ({ requests: 0, errors: 0, refused: 0, inputTokens: 0, outputTokens: 0, tokensSaved: 0, costUsd: 0, savingsUsd: 0, lastUsedAt: null });

/** Refusals by a control of this key's own limits (counted apart from upstream errors). */
const REFUSALS = new Set(['rate_limited', 'budget_exceeded', 'unauthorized']);

export class VirtualKeySpend {
  private readonly totals = new Map<string, KeyTotals>();

  constructor(
    private readonly keys: VirtualKeys,
    private readonly accounting: (o: RequestOutcome) => Accounting,
    private readonly now: () => number = Date.now,
  ) {
    for (const k of keys.keys) this.totals.set(k.name, zero());
  }

  add(o: RequestOutcome): void {
    const name = o.ext.virtualKey;
    if (!name) return;
    const t = this.totals.get(name);
    if (!t) return;
    t.lastUsedAt = this.now();
    if (o.errorType && REFUSALS.has(o.errorType)) {
      t.refused++;
      return;
    }
    const a = this.accounting(o);
    if (!a.counted) return;
    t.requests++;
    if (!o.ok) t.errors++;
    t.inputTokens += a.inputTokens;
    t.outputTokens += a.outputTokens;
    t.tokensSaved += a.tokensSaved;
    t.costUsd += a.cost?.totalUsd ?? 0;
    t.savingsUsd += a.compressionSavingsUsd;
  }

  reset(): void {
    for (const name of this.totals.keys()) this.totals.set(name, zero());
  }

  /** `/stats.by_virtual_key`: one entry per configured key, in config order. */
  block(extra: (name: string) => { budget_usd: number | null; budget_spent_usd: number | null; rate_limited: number }): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const k of this.keys.keys) {
      const t = this.totals.get(k.name) ?? zero();
      out[k.name] = {
        requests: t.requests,
        errors: t.errors,
        refused: t.refused,
        input_tokens: t.inputTokens,
        output_tokens: t.outputTokens,
        tokens_saved: t.tokensSaved,
        cost_usd: round6(t.costUsd),
        savings_usd: round6(t.savingsUsd),
        last_used_at: t.lastUsedAt === null ? null : new Date(t.lastUsedAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        rpm: k.rpm,
        tpm: k.tpm,
        ...extra(k.name),
      };
    }
    return out;
  }
}
