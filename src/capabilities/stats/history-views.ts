/**
 * The derived views of `/stats-history` (chart series, history points), cached until the
 * store's version changes (any process committing new data), so dashboards polling the
 * endpoint do not re-aggregate a year of rollups on every call.
 */
import { type Bucket, bucketStart, HOURLY_SERIES_DAYS, type HistoryJson, historyJson, isoUtc, MAX_SERIES_NAMES, OTHER_NAME, type Period, rollup } from './history.js';
import type { Attribution, SpendRow } from './schema.js';
import { round6 } from '../../util/round.js';
import type { RollupRow, StatsStore } from './store/types.js';
import { storedAttributionJson } from './attribution/stored.js';

const HOUR = 3_600_000;

export class HistoryViews {
  private readonly cache = new Map<string, { key: string; value: Promise<unknown> }>();

  constructor(private readonly store: StatsStore) {}

  private cached<T>(name: string, key: string, build: () => Promise<T>): Promise<T> {
    const hit = this.cache.get(name);
    if (hit && hit.key === key) return hit.value as Promise<T>;
    const value = build();
    this.cache.set(name, { key, value });
    value.catch(() => this.cache.delete(name));
    return value;
  }

  /** Day rows are read once for the daily, weekly and monthly series. */
  private dayRows(version: string) {
    return this.cached('day-rows', version, () => this.store.rollups('day'));
  }

  series(period: Period, now: number): Promise<Bucket[]> {
    const version = this.store.version();
    if (period === 'hourly') {
      const since = Math.floor(now / HOUR) * HOUR - HOURLY_SERIES_DAYS * 24 * HOUR;
      return this.cached('hourly', `${version}|${since}`, async () => rollup(await this.store.rollups('hour', since), 'hourly'));
    }
    return this.cached(period, version, async () => rollup(await this.dayRows(version), period));
  }

  /**
   * The spend report (`/stats-history?report=spend`): one row per bucket, provider and model
   * with requests, tokens and what they cost, input and output apart (the savings series
   * carry input cost only). Oldest bucket first, then by spend.
   */
  spend(period: Period, now: number): Promise<SpendRow[]> {
    const version = this.store.version();
    if (period === 'hourly') {
      const since = Math.floor(now / HOUR) * HOUR - HOURLY_SERIES_DAYS * 24 * HOUR;
      return this.cached('spend-hourly', `${version}|${since}`, async () => spendRows(await this.store.rollups('hour', since), 'hourly'));
    }
    return this.cached(`spend-${period}`, version, async () => spendRows(await this.dayRows(version), period));
  }

  /** Per session and per user totals over the retained range (`/stats-history.attribution`). */
  attribution(): Promise<Attribution> {
    return this.cached('attribution', this.store.version(), async () =>
      storedAttributionJson(await this.store.attribution(), Math.round(this.store.limits.retentionMs / 86_400_000)));
  }

  /** All retained history points (up to the store's cap), oldest first. */
  history(): Promise<HistoryJson[]> {
    return this.cached('history', this.store.version(), async () => {
      const { points } = await this.store.history(this.store.limits.maxHistoryPoints);
      return points.map(historyJson);
    });
  }
}

/** One row of the spend report (its shape: `spendRowSchema`). */
export type { SpendRow };

export const SPEND_CSV_COLUMNS = [
  'timestamp', 'provider', 'model', 'requests', 'input_tokens', 'output_tokens', 'input_cost_usd', 'output_cost_usd', 'total_cost_usd',
  'tokens_saved', 'savings_usd',
] as const;


/**
 * Rolls rollup rows into spend rows per bucket of `period`, provider and model. Models are
 * kept by name as in the savings series of the same rows (the `maxNames` that saved the most
 * tokens, then requests, ties by name), the rest summed under `(other)`, so the dashboard's
 * model filter picks the same requests in both.
 */
export function spendRows(rows: readonly RollupRow[], period: Period, maxNames = MAX_SERIES_NAMES): SpendRow[] {
  const rank = new Map<string, { saved: number; requests: number }>();
  for (const r of rows) {
    const t = rank.get(r.model) ?? { saved: 0, requests: 0 };
    t.saved += r.tokensSaved;
    t.requests += r.requests;
    rank.set(r.model, t);
  }
  const kept = rank.size <= maxNames ? null
    : new Set([...rank].sort((a, b) => b[1].saved - a[1].saved || b[1].requests - a[1].requests || (a[0] < b[0] ? -1 : 1)).slice(0, maxNames - 1).map(([m]) => m));
  const byKey = new Map<string, SpendRow & { start: number }>();
  for (const r of rows) {
    if (r.requests === 0 && r.inputCostUsd === 0 && r.outputCostUsd === 0) continue;
    const start = bucketStart(r.start, period);
    const model = kept && !kept.has(r.model) ? OTHER_NAME : r.model;
    const key = `${start}\u0000${r.provider}\u0000${model}`;
    let row = byKey.get(key);
    if (!row) {
      row = {
        start, timestamp: isoUtc(start), provider: r.provider, model, requests: 0, input_tokens: 0, output_tokens: 0,
        input_cost_usd: 0, output_cost_usd: 0, total_cost_usd: 0, tokens_saved: 0, savings_usd: 0,
      };
      byKey.set(key, row);
    }
    row.requests += r.requests;
    row.input_tokens += r.inputTokens;
    row.output_tokens += r.outputTokens;
    row.input_cost_usd += r.inputCostUsd;
    row.output_cost_usd += r.outputCostUsd;
    row.tokens_saved += r.tokensSaved;
    row.savings_usd += r.savingsUsd;
  }
  return [...byKey.values()]
    .map(({ start, ...row }) => ({
      start,
      row: {
        ...row, input_cost_usd: round6(row.input_cost_usd), output_cost_usd: round6(row.output_cost_usd),
        total_cost_usd: round6(row.input_cost_usd + row.output_cost_usd), savings_usd: round6(row.savings_usd),
      },
    }))
    .sort((a, b) => a.start - b.start || b.row.total_cost_usd - a.row.total_cost_usd || (a.row.provider + a.row.model < b.row.provider + b.row.model ? -1 : 1))
    .map(({ row }) => row);
}
