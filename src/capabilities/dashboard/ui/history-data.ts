/**
 * Chart series from `/stats-history` buckets (pure; unit-tested). The server lists only the
 * buckets that saw requests; the chart needs every bucket between the first one and now, so
 * empty ones are filled with zeros (UTC hours, days, ISO weeks from Monday, months, as the
 * server buckets them).
 */
import type { Bucket, Period, SpendRow } from './types.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;

export function bucketStart(ms: number, period: Period): number {
  const d = new Date(ms);
  switch (period) {
    case 'hourly':
      return Math.floor(ms / HOUR) * HOUR;
    case 'daily':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
    case 'weekly':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - ((d.getUTCDay() + 6) % 7) * DAY;
    case 'monthly':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  }
}

export function nextBucket(start: number, period: Period): number {
  switch (period) {
    case 'hourly':
      return start + HOUR;
    case 'daily':
      return start + DAY;
    case 'weekly':
      return start + 7 * DAY;
    case 'monthly': {
      const d = new Date(start);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    }
  }
}

/** The start of the bucket `n` buckets before the one starting at `start`. */
export function bucketsBack(start: number, period: Period, n: number): number {
  if (period !== 'monthly') return start - n * (period === 'hourly' ? HOUR : period === 'daily' ? DAY : 7 * DAY);
  const d = new Date(start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - n, 1);
}

/** The chart always spans at least this many buckets, so a new install still reads as a timeline. */
export const MIN_BUCKETS: Record<Period, number> = { hourly: 24, daily: 14, weekly: 8, monthly: 6 };

/** Models that appear in any bucket, most tokens saved first. */
export function modelsIn(buckets: readonly Bucket[]): string[] {
  const saved = new Map<string, number>();
  for (const b of buckets) for (const [m, d] of Object.entries(b.by_model)) saved.set(m, (saved.get(m) ?? 0) + d.tokens_saved);
  return [...saved].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([m]) => m);
}

export interface ChartSeries {
  /** Bucket starts, unix seconds (uPlot's x unit). */
  x: number[];
  tokens: number[];
  usd: number[];
  requests: number[];
}

/** At most this many buckets are drawn (the newest). */
export const MAX_POINTS = 500;

/**
 * One value per bucket from the first listed bucket (or `MIN_BUCKETS` back) to the bucket
 * holding `now`, for all models (`model` null) or one model.
 */
export function chartSeries(buckets: readonly Bucket[], period: Period, model: string | null, now: number): ChartSeries {
  const out: ChartSeries = { x: [], tokens: [], usd: [], requests: [] };
  const byStart = new Map<number, Bucket>();
  for (const b of buckets) byStart.set(bucketStart(Date.parse(b.timestamp), period), b);
  const last = Math.max(bucketStart(now, period), ...byStart.keys());
  const first = Math.min(bucketsBack(last, period, MIN_BUCKETS[period] - 1), ...byStart.keys());
  for (let t = first; t <= last; t = nextBucket(t, period)) {
    const b = byStart.get(t);
    const d = b ? (model === null ? b : b.by_model[model]) : undefined;
    out.x.push(t / 1000);
    out.tokens.push(d?.tokens_saved ?? 0);
    out.usd.push(d?.compression_savings_usd_delta ?? 0);
    out.requests.push(d?.requests ?? 0);
  }
  if (out.x.length > MAX_POINTS) {
    const cut = out.x.length - MAX_POINTS;
    for (const k of ['x', 'tokens', 'usd', 'requests'] as const) out[k] = out[k].slice(cut);
  }
  return out;
}

export const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

export interface SpendSeries {
  input: number[];
  output: number[];
  total: number[];
  requests: number[];
}

/** Spend per bucket of `x` (unix seconds, from `chartSeries`), for all models or one; rows outside `x` are left out. */
export function spendSeries(rows: readonly SpendRow[], period: Period, model: string | null, x: readonly number[]): SpendSeries {
  const at = new Map<number, number>(x.map((t, i) => [t * 1000, i]));
  const out: SpendSeries = { input: x.map(() => 0), output: x.map(() => 0), total: x.map(() => 0), requests: x.map(() => 0) };
  for (const r of rows) {
    if (model !== null && r.model !== model) continue;
    const i = at.get(bucketStart(Date.parse(r.timestamp), period));
    if (i === undefined) continue;
    out.input[i]! += r.input_cost_usd;
    out.output[i]! += r.output_cost_usd;
    out.total[i]! += r.input_cost_usd + r.output_cost_usd;
    out.requests[i]! += r.requests;
  }
  return out;
}

/** Spend per bucket start (epoch ms), all models or one: for the per-bucket table. */
export function spendByBucket(rows: readonly SpendRow[], model: string | null): Map<number, { input: number; output: number }> {
  const out = new Map<number, { input: number; output: number }>();
  for (const r of rows) {
    if (model !== null && r.model !== model) continue;
    const t = Date.parse(r.timestamp);
    const s = out.get(t) ?? { input: 0, output: 0 };
    s.input += r.input_cost_usd;
    s.output += r.output_cost_usd;
    out.set(t, s);
  }
  return out;
}

const UNIT: Record<Period, string> = { hourly: 'hour', daily: 'day', weekly: 'week', monthly: 'month' };

/** What the charts show, in words: `last 24 hours, hourly` (the count is the buckets drawn). */
export function rangeText(points: number, period: Period): string {
  const unit = UNIT[period];
  return points === 1 ? `this ${unit}, ${period}` : `last ${points} ${unit}s, ${period}`;
}
