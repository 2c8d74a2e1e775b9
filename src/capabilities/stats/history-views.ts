/**
 * The derived views of `/stats-history` (chart series, history points), cached until the
 * store's version changes (any process committing new data), so dashboards polling the
 * endpoint do not re-aggregate a year of rollups on every call.
 */
import { type Bucket, HOURLY_SERIES_DAYS, type HistoryJson, historyJson, type Period, rollup } from './history.js';
import type { StatsStore } from './store/types.js';
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

  /** Per session and per user totals over the retained range (`/stats-history.attribution`). */
  attribution(): Promise<Record<string, unknown>> {
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
