/** The dashboard's pure logic: number formatting, history buckets and gap filling, reconnect backoff. */
import { afterEach, describe, expect, it } from 'vitest';
import { backoffMs } from '../src/capabilities/dashboard/ui/backoff.js';
import { durationTone, fmtBucket, fmtClock, fmtDateTime, fmtDecimal, fmtInt, fmtMs, fmtPct, fmtRatio, fmtSpan, fmtTick, fmtUsd, getDisplay, setDisplay, zoneLabel } from '../src/capabilities/dashboard/ui/format.js';
import { bucketStart, chartSeries, MAX_POINTS, MIN_BUCKETS, modelsIn, nextBucket, rangeText, spendByBucket, spendSeries } from '../src/capabilities/dashboard/ui/history-data.js';
import type { Bucket, Delta, SpendRow } from '../src/capabilities/dashboard/ui/types.js';

describe('formatting', () => {
  it('dollars: cents kept visible for LLM-sized amounts, signs and dust explicit', () => {
    expect(fmtUsd(0)).toBe('$0.00');
    expect(fmtUsd(0.018372)).toBe('$0.0184');
    expect(fmtUsd(0.00004)).toBe('<$0.0001');
    expect(fmtUsd(-0.0005)).toBe('−$0.0005');
    expect(fmtUsd(12.345)).toBe('$12.35');
    expect(fmtUsd(1234.5)).toBe('$1,234.50');
    expect(fmtUsd(2_500_000)).toBe('$2.5M');
    expect(fmtUsd(null)).toBe('—');
    expect(fmtUsd(Number.NaN)).toBe('—');
  });

  it('counts, percentages, ratios', () => {
    expect(fmtInt(6124)).toBe('6,124');
    expect(fmtInt(999_999)).toBe('999,999');
    expect(fmtInt(1_234_567)).toBe('1.2M');
    expect(fmtInt(undefined)).toBe('—');
    expect(fmtPct(64.91)).toBe('64.9%');
    expect(fmtPct(null)).toBe('—');
    expect(fmtRatio(0.25)).toBe('25.0%');
  });

  it('durations and spans', () => {
    expect(fmtMs(0.456)).toBe('0.46 ms');
    expect(fmtMs(12.4)).toBe('12 ms');
    expect(fmtMs(1534)).toBe('1.5 s');
    expect(fmtMs(125_000)).toBe('2m 05s');
    expect(fmtMs(null)).toBe('—');
    expect(fmtSpan(42)).toBe('42s');
    expect(fmtSpan(3 * 3600 + 12 * 60)).toBe('3h 12m');
    expect(fmtSpan(3 * 86400 + 5 * 3600)).toBe('3d 5h');
    expect([0, 120, 900, 5000].map(durationTone)).toEqual(['muted', 'good', 'warn', 'bad']);
  });

  it('bucket labels: hours in the display zone, days, weeks and months as UTC dates (defaults: en-US, UTC)', () => {
    expect(getDisplay()).toEqual({ locale: 'en-US', timeZone: 'UTC' });
    expect(fmtBucket('2026-11-22T07:00:00Z', 'hourly')).toBe('11/22/2026, 07:00 AM');
    expect(fmtBucket('2026-11-22T00:00:00Z', 'daily')).toBe('11/22/2026');
    expect(fmtBucket('2026-11-16T00:00:00Z', 'weekly')).toBe('week of 11/16/2026');
    expect(fmtBucket('2026-11-01T00:00:00Z', 'monthly')).toBe('November 2026');
  });
});

describe('locale and time zone', () => {
  afterEach(() => setDisplay({ locale: 'en-US', timeZone: 'UTC' }));

  it('de-DE numbers: 1.234,5, dollars after the figure, spaced percentages', () => {
    setDisplay({ locale: 'de-DE', timeZone: 'UTC' });
    expect(fmtDecimal(1234.5, 1)).toBe('1.234,5');
    expect(fmtInt(6124)).toBe('6.124');
    expect(fmtUsd(1234.5)).toBe('1.234,50\u00a0$');
    expect(fmtUsd(0.018372)).toBe('0,0184\u00a0$');
    expect(fmtUsd(-0.0005)).toBe('−0,0005\u00a0$');
    expect(fmtPct(64.91)).toBe('64,9\u00a0%');
    expect(fmtMs(1534)).toBe('1,5 s');
  });

  it('times in the chosen zone; a UTC day stays its date in every zone', () => {
    const t = '2026-11-22T07:05:09Z';
    setDisplay({ locale: 'de-DE', timeZone: 'Europe/Berlin' });
    expect(fmtClock(t)).toBe('08:05:09');
    expect(fmtDateTime(t)).toBe('22.11.2026, 08:05');
    expect(fmtBucket('2026-11-22T07:00:00Z', 'hourly')).toBe('22.11.2026, 08:00');
    expect(zoneLabel()).toBe('Europe/Berlin (UTC+01:00)');
    expect(zoneLabel('Europe/Berlin', Date.parse('2026-07-01T00:00:00Z'))).toBe('Europe/Berlin (UTC+02:00)');
    setDisplay({ locale: 'en-US', timeZone: 'America/New_York' });
    expect(fmtClock(t)).toBe('02:05:09 AM');
    expect(fmtBucket('2026-11-22T00:00:00Z', 'daily')).toBe('11/22/2026'); // not the 21st, where that instant falls in New York
    expect(zoneLabel()).toBe('America/New_York (UTC-05:00)');
    expect(fmtTick(Date.parse('2026-11-22T05:00:00Z') / 1000, 'hourly')).toBe('Nov 22'); // midnight in New York: the date
    expect(fmtTick(Date.parse('2026-11-22T07:00:00Z') / 1000, 'hourly')).toBe('2:00 AM');
    setDisplay({ locale: 'en-GB', timeZone: 'UTC' });
    expect(zoneLabel()).toBe('UTC');
    expect(fmtClock(t)).toBe('07:05:09');
  });
});

describe('spend series and range text', () => {
  const row = (timestamp: string, model: string, input: number, output: number, requests = 1): SpendRow => ({
    timestamp, provider: 'anthropic', model, requests, input_tokens: 0, output_tokens: 0, input_cost_usd: input, output_cost_usd: output,
    total_cost_usd: input + output, tokens_saved: 0, savings_usd: 0,
  });

  it('sums rows per bucket of the chart, for all models or one', () => {
    const now = Date.parse('2026-11-22T07:30:00Z');
    const x = chartSeries([], 'hourly', null, now).x;
    const rows = [row('2026-11-22T07:00:00Z', 'a', 0.01, 0.02), row('2026-11-22T07:00:00Z', 'b', 0.1, 0.2, 3), row('2026-11-22T05:00:00Z', 'a', 1, 0)];
    const all = spendSeries(rows, 'hourly', null, x);
    expect(all.total.at(-1)).toBeCloseTo(0.33, 10);
    expect(all.input.at(-1)).toBeCloseTo(0.11, 10);
    expect(all.output.at(-1)).toBeCloseTo(0.22, 10);
    expect(all.requests.at(-1)).toBe(4);
    expect(all.total.at(-3)).toBe(1);
    expect(all.total.filter((v) => v > 0).length).toBe(2);
    expect(spendSeries(rows, 'hourly', 'b', x).total.at(-3)).toBe(0);
    expect(spendByBucket(rows, 'a').get(Date.parse('2026-11-22T07:00:00Z'))).toEqual({ input: 0.01, output: 0.02 });
  });

  it('names the buckets drawn', () => {
    expect(rangeText(24, 'hourly')).toBe('last 24 hours, hourly');
    expect(rangeText(14, 'daily')).toBe('last 14 days, daily');
    expect(rangeText(1, 'monthly')).toBe('this month, monthly');
  });
});

const delta = (tokens: number, usd: number, requests = 1): Delta => ({
  tokens_saved: tokens, compression_savings_usd_delta: usd, total_input_tokens_delta: 100, total_input_cost_usd_delta: 0, requests,
});
const bucket = (timestamp: string, byModel: Record<string, Delta>): Bucket => {
  const all = Object.values(byModel).reduce((a, d) => delta(a.tokens_saved + d.tokens_saved, a.compression_savings_usd_delta + d.compression_savings_usd_delta, a.requests + d.requests), delta(0, 0, 0));
  // cumulative figures and the provider breakdown are not read by the chart logic
  return { timestamp, ...all, total_tokens_saved: 0, compression_savings_usd: 0, total_input_tokens: 0, total_input_cost_usd: 0, by_provider: {}, by_model: byModel };
};

describe('history buckets', () => {
  it('bucket starts match the server: UTC hour, day, ISO week (Monday), month', () => {
    const t = Date.parse('2026-11-22T07:42:10Z'); // a Sunday
    expect(new Date(bucketStart(t, 'hourly')).toISOString()).toBe('2026-11-22T07:00:00.000Z');
    expect(new Date(bucketStart(t, 'daily')).toISOString()).toBe('2026-11-22T00:00:00.000Z');
    expect(new Date(bucketStart(t, 'weekly')).toISOString()).toBe('2026-11-16T00:00:00.000Z');
    expect(new Date(bucketStart(t, 'monthly')).toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(new Date(nextBucket(Date.parse('2026-12-01T00:00:00Z'), 'monthly')).toISOString()).toBe('2027-01-01T00:00:00.000Z');
  });

  it('fills the hours without traffic with zeros, up to now, over at least a day', () => {
    const buckets = [
      bucket('2026-11-21T05:00:00Z', { a: delta(100, 0.1) }),
      bucket('2026-11-22T05:00:00Z', { a: delta(50, 0.05), b: delta(0, 0) }),
    ];
    const now = Date.parse('2026-11-22T07:30:00Z');
    const s = chartSeries(buckets, 'hourly', null, now);
    expect(s.x.length).toBe(27); // 05:00 yesterday .. 07:00 today
    expect(s.x[0]).toBe(Date.parse('2026-11-21T05:00:00Z') / 1000);
    expect(s.x.at(-1)).toBe(Date.parse('2026-11-22T07:00:00Z') / 1000);
    expect(s.tokens.filter((v) => v > 0)).toEqual([100, 50]);
    expect(s.tokens.at(-3)).toBe(50);
    expect(s.tokens.at(-1)).toBe(0);
    // a new install still spans MIN_BUCKETS
    expect(chartSeries([], 'daily', null, now).x.length).toBe(MIN_BUCKETS.daily);
    expect(chartSeries([buckets[1]!], 'hourly', null, now).x.length).toBe(MIN_BUCKETS.hourly);
  });

  it('filters one model; a model absent from a bucket counts zero there', () => {
    const buckets = [bucket('2026-11-20T00:00:00Z', { a: delta(100, 0.1) }), bucket('2026-11-21T00:00:00Z', { a: delta(10, 0.01), b: delta(7, 0.5, 3) })];
    const now = Date.parse('2026-11-21T12:00:00Z');
    const b = chartSeries(buckets, 'daily', 'b', now);
    expect(b.tokens.slice(-2)).toEqual([0, 7]);
    expect(b.usd.slice(-2)).toEqual([0, 0.5]);
    expect(b.requests.slice(-2)).toEqual([0, 3]);
    expect(chartSeries(buckets, 'daily', null, now).tokens.slice(-2)).toEqual([100, 17]);
    expect(modelsIn(buckets)).toEqual(['a', 'b']);
  });

  it('weekly and monthly steps; at most MAX_POINTS buckets (the newest)', () => {
    const now = Date.parse('2026-11-22T00:00:00Z');
    const m = chartSeries([bucket('2025-01-01T00:00:00Z', { a: delta(1, 0) })], 'monthly', null, now);
    expect(m.x.length).toBe(23);
    expect(new Date(m.x[1]! * 1000).toISOString()).toBe('2025-02-01T00:00:00.000Z');
    const w = chartSeries([bucket('2026-10-26T00:00:00Z', { a: delta(1, 0) })], 'weekly', null, now);
    expect(w.x.length).toBe(MIN_BUCKETS.weekly);
    expect(w.tokens.at(-4)).toBe(1); // weeks of 10-26, 11-02, 11-09, 11-16
    const old = chartSeries([bucket('2024-01-01T00:00:00Z', { a: delta(1, 0) })], 'daily', null, now);
    expect(old.x.length).toBe(MAX_POINTS);
    expect(old.x.at(-1)).toBe(now / 1000);
  });
});

describe('reconnect backoff', () => {
  it('grows 1.6x from 1 s, caps at 30 s, jitters ±20 %', () => {
    const mid = () => 0.5;
    expect([0, 1, 2, 3].map((n) => backoffMs(n, mid))).toEqual([1000, 1600, 2560, 4096]);
    expect(backoffMs(20, mid)).toBe(30_000);
    expect(backoffMs(0, () => 0)).toBe(800);
    expect(backoffMs(0, () => 1)).toBe(1200);
  });
});
