/**
 * `/stats-history` building blocks: chart rollups (UTC hour/day/ISO-week/month buckets built
 * from the store's hourly and daily rows, which are built from events, so a bucket only ever
 * holds what happened in it), Headroom's history compaction, and the CSV export.
 */
import type { HistoryPoint, RollupRow } from './store/types.js';
import type { Bucket, Delta, HistoryMode, HistoryPoint as HistoryJson, Period } from './schema.js';
import { round6 } from '../../util/round.js';

export type { Bucket, HistoryMode, HistoryJson, Period };
export const PERIODS: readonly Period[] = ['hourly', 'daily', 'weekly', 'monthly'];
/** The hourly series covers the most recent days; daily, weekly and monthly cover the whole retention. */
export const HOURLY_SERIES_DAYS = 7;

/** UTC, second precision, `Z` suffix. */
export const isoUtc = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

const DAY = 86_400_000;

export function bucketStart(ms: number, period: Period): number {
  const d = new Date(ms);
  switch (period) {
    case 'hourly':
      return Math.floor(ms / 3_600_000) * 3_600_000;
    case 'daily':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
    case 'weekly': {
      const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
      return day - ((d.getUTCDay() + 6) % 7) * DAY; // ISO weeks start on Monday
    }
    case 'monthly':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  }
}


const newDelta = (): Delta => ({ tokens_saved: 0, compression_savings_usd_delta: 0, total_input_tokens_delta: 0, total_input_cost_usd_delta: 0, requests: 0 });

function addDelta(d: Delta, r: RollupRow): void {
  d.tokens_saved += r.tokensSaved;
  d.compression_savings_usd_delta += r.savingsUsd;
  d.total_input_tokens_delta += r.inputTokens;
  d.total_input_cost_usd_delta += r.inputCostUsd;
  d.requests += r.requests;
}

const roundDelta = (d: Delta): Delta => ({
  ...d,
  compression_savings_usd_delta: round6(d.compression_savings_usd_delta),
  total_input_cost_usd_delta: round6(d.total_input_cost_usd_delta),
});

/**
 * Most models (and providers) broken down by name in one series, as many as `/metrics` keeps
 * as model labels; the others are summed under `(other)`. Without it, every model name a
 * client ever sent made every bucket larger (10k names: 6.7 MB for one hour).
 */
export const MAX_SERIES_NAMES = 32;
export const OTHER_NAME = '(other)';

/** The names kept in a series: the `max` with the most tokens saved, then requests (ties by name). */
function keptNames(rows: readonly RollupRow[], key: 'model' | 'provider', max: number): Set<string> | null {
  const totals = new Map<string, { saved: number; requests: number }>();
  for (const r of rows) {
    const t = totals.get(r[key]) ?? { saved: 0, requests: 0 };
    t.saved += r.tokensSaved;
    t.requests += r.requests;
    totals.set(r[key], t);
  }
  if (totals.size <= max) return null;
  const ranked = [...totals].sort((a, b) => b[1].saved - a[1].saved || b[1].requests - a[1].requests || (a[0] < b[0] ? -1 : 1));
  return new Set(ranked.slice(0, max - 1).map(([name]) => name));
}

/** Rolls rows (oldest first, hourly or daily and no coarser than `period`) up into buckets of `period`. */
export function rollup(rows: readonly RollupRow[], period: Period, maxNames = MAX_SERIES_NAMES): Bucket[] {
  const models = keptNames(rows, 'model', maxNames);
  const providers = keptNames(rows, 'provider', maxNames);
  const out: Bucket[] = [];
  let cur: Bucket | null = null;
  let curStart = Number.NaN;
  const finish = (b: Bucket) => {
    b.compression_savings_usd_delta = round6(b.compression_savings_usd_delta);
    b.total_input_cost_usd_delta = round6(b.total_input_cost_usd_delta);
    b.compression_savings_usd = round6(b.compression_savings_usd);
    b.total_input_cost_usd = round6(b.total_input_cost_usd);
    for (const k in b.by_provider) b.by_provider[k] = roundDelta(b.by_provider[k]!);
    for (const k in b.by_model) b.by_model[k] = roundDelta(b.by_model[k]!);
    out.push(b);
  };
  for (const r of rows) {
    const start = bucketStart(r.start, period);
    if (start !== curStart) {
      if (cur) finish(cur);
      curStart = start;
      cur = {
        timestamp: isoUtc(start), tokens_saved: 0, compression_savings_usd_delta: 0, total_tokens_saved: 0, compression_savings_usd: 0,
        total_input_tokens_delta: 0, total_input_tokens: 0, total_input_cost_usd_delta: 0, total_input_cost_usd: 0, requests: 0,
        by_provider: {}, by_model: {},
      };
    }
    const b = cur!;
    b.tokens_saved += r.tokensSaved;
    b.compression_savings_usd_delta += r.savingsUsd;
    b.total_input_tokens_delta += r.inputTokens;
    b.total_input_cost_usd_delta += r.inputCostUsd;
    b.requests += r.requests;
    b.total_tokens_saved = Math.max(b.total_tokens_saved, r.cumTokensSaved);
    b.compression_savings_usd = Math.max(b.compression_savings_usd, r.cumSavingsUsd);
    b.total_input_tokens = Math.max(b.total_input_tokens, r.cumInputTokens);
    b.total_input_cost_usd = Math.max(b.total_input_cost_usd, r.cumInputCostUsd);
    if (r.requests > 0 || r.tokensSaved !== 0 || r.inputTokens !== 0 || r.savingsUsd !== 0 || r.inputCostUsd !== 0) {
      addDelta((b.by_provider[providers && !providers.has(r.provider) ? OTHER_NAME : r.provider] ??= newDelta()), r);
      addDelta((b.by_model[models && !models.has(r.model) ? OTHER_NAME : r.model] ??= newDelta()), r);
    }
  }
  if (cur) finish(cur);
  return out;
}

export const MAX_RESPONSE_HISTORY_POINTS = 500;

/** Headroom's compaction: all points up to 500; else 334 evenly sampled older points + the newest 166. */
export function compactHistory<T extends { timestamp: string }>(points: readonly T[], mode: HistoryMode, max = MAX_RESPONSE_HISTORY_POINTS): T[] {
  if (mode === 'none') return [];
  if (mode === 'full' || points.length <= max) return [...points];
  const recentCount = Math.min(Math.max(Math.floor(max / 3), 50), max - 1);
  const slots = max - recentCount;
  const older = points.slice(0, points.length - recentCount);
  const recent = points.slice(points.length - recentCount);
  const sampled: T[] = [];
  if (slots === 1) sampled.push(older[0]!);
  else for (let i = 0; i < slots; i++) sampled.push(older[Math.floor(((older.length - 1) * i) / (slots - 1))]!);
  const seen = new Set<string>();
  const out: T[] = [];
  for (const p of [...sampled, ...recent]) {
    if (seen.has(p.timestamp)) continue;
    seen.add(p.timestamp);
    out.push(p);
  }
  return out;
}

export const historyJson = (p: HistoryPoint): HistoryJson => ({
  timestamp: isoUtc(p.ts),
  provider: p.provider,
  model: p.model,
  total_tokens_saved: p.cumTokensSaved,
  compression_savings_usd: round6(p.cumSavingsUsd),
  total_input_tokens: p.cumInputTokens,
  total_input_cost_usd: round6(p.cumInputCostUsd),
});

/** Python `str(float)`: shortest round-trip digits, `0.0`, exponent form below 1e-4 (`1.5e-05`). */
export function pyFloat(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mant, expText] = x.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  let s = String(x); // positional for 1e-4 <= |x| < 1e16, as in Python
  if (!s.includes('.')) s += '.0';
  return s;
}

export const HISTORY_CSV_COLUMNS = ['timestamp', 'total_tokens_saved', 'compression_savings_usd', 'total_input_tokens', 'total_input_cost_usd'] as const;
export const ROLLUP_CSV_COLUMNS = [
  'timestamp', 'tokens_saved', 'compression_savings_usd_delta', 'total_tokens_saved', 'compression_savings_usd',
  'total_input_tokens_delta', 'total_input_tokens', 'total_input_cost_usd_delta', 'total_input_cost_usd',
] as const;
const FLOAT_COLUMNS = new Set(['compression_savings_usd', 'compression_savings_usd_delta', 'total_input_cost_usd', 'total_input_cost_usd_delta']);

function csvCell(column: string, v: unknown): string {
  if (v === null || v === undefined) return '';
  let s: string;
  if (typeof v === 'number') s = FLOAT_COLUMNS.has(column) ? pyFloat(v) : String(v);
  else s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV with a header row and CRLF line endings (Python's default dialect). */
export function toCsv(columns: readonly string[], rows: readonly object[]): string {
  const lines = [columns.join(',')];
  for (const row of rows) lines.push(columns.map((c) => csvCell(c, (row as Record<string, unknown>)[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
