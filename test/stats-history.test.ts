import { describe, expect, it } from 'vitest';
import { bucketStart, compactHistory, isoUtc, pyFloat, rollup, ROLLUP_CSV_COLUMNS, toCsv } from '../src/capabilities/stats/history.js';
import type { RollupRow } from '../src/capabilities/stats/store/types.js';

const row = (iso: string, over: Partial<RollupRow> = {}): RollupRow => ({
  start: Date.parse(iso), provider: 'anthropic', model: 'claude-sonnet-4-5', requests: 1, tokensSaved: 100, savingsUsd: 0.0003,
  inputTokens: 1000, inputCostUsd: 0.003, outputTokens: 10, outputCostUsd: 0.00015, cumTokensSaved: 0, cumSavingsUsd: 0,
  cumInputTokens: 0, cumInputCostUsd: 0, ...over,
});

describe('rollups (UTC buckets)', () => {
  it('starts buckets at the UTC hour, day, ISO week (Monday) and month', () => {
    const t = Date.parse('2026-03-29T17:45:12Z'); // a Sunday
    expect(isoUtc(bucketStart(t, 'hourly'))).toBe('2026-03-29T17:00:00Z');
    expect(isoUtc(bucketStart(t, 'daily'))).toBe('2026-03-29T00:00:00Z');
    expect(isoUtc(bucketStart(t, 'weekly'))).toBe('2026-03-23T00:00:00Z');
    expect(isoUtc(bucketStart(Date.parse('2026-03-23T00:00:00Z'), 'weekly'))).toBe('2026-03-23T00:00:00Z');
    expect(isoUtc(bucketStart(t, 'monthly'))).toBe('2026-03-01T00:00:00Z');
  });

  it('sums deltas per bucket, takes the last cumulative values, breaks down by provider and model', () => {
    const rows = [
      row('2026-03-29T10:00:00Z', { cumTokensSaved: 100, cumSavingsUsd: 0.0003, cumInputTokens: 1000, cumInputCostUsd: 0.003 }),
      row('2026-03-29T10:00:00Z', { provider: 'openai', model: 'gpt-4o', tokensSaved: 50, cumTokensSaved: 150, cumInputTokens: 2000 }),
      row('2026-03-30T09:00:00Z', { tokensSaved: 0, savingsUsd: 0, cumTokensSaved: 150, cumInputTokens: 3000 }),
    ];
    const daily = rollup(rows, 'daily');
    expect(daily.map((b) => b.timestamp)).toEqual(['2026-03-29T00:00:00Z', '2026-03-30T00:00:00Z']);
    expect(daily[0]).toMatchObject({ tokens_saved: 150, total_tokens_saved: 150, total_input_tokens_delta: 2000, total_input_tokens: 2000, requests: 2 });
    expect(daily[0]!.by_provider).toEqual({
      anthropic: { tokens_saved: 100, compression_savings_usd_delta: 0.0003, total_input_tokens_delta: 1000, total_input_cost_usd_delta: 0.003, requests: 1 },
      openai: { tokens_saved: 50, compression_savings_usd_delta: 0.0003, total_input_tokens_delta: 1000, total_input_cost_usd_delta: 0.003, requests: 1 },
    });
    expect(Object.keys(daily[0]!.by_model)).toEqual(['claude-sonnet-4-5', 'gpt-4o']);
    // Monday 30 March starts a new ISO week
    expect(rollup(rows, 'weekly').map((b) => [b.timestamp, b.tokens_saved])).toEqual([['2026-03-23T00:00:00Z', 150], ['2026-03-30T00:00:00Z', 0]]);
    expect(rollup(rows, 'monthly')).toHaveLength(1);
    expect(rollup(rows, 'hourly')).toHaveLength(2);
  });
});

describe('history compaction (Headroom numbers)', () => {
  const points = (n: number) => Array.from({ length: n }, (_, i) => ({ timestamp: isoUtc(Date.parse('2026-01-01T00:00:00Z') + i * 1000), i }));

  it('returns everything up to 500 points', () => {
    expect(compactHistory(points(500), 'compact')).toHaveLength(500);
  });

  it('keeps 334 evenly sampled older points plus the newest 166', () => {
    const all = points(2048);
    const out = compactHistory(all, 'compact');
    expect(out).toHaveLength(500);
    expect(out.slice(-166)).toEqual(all.slice(-166));
    expect(out[0]).toEqual(all[0]);
    expect(out[333]).toEqual(all[2048 - 166 - 1]);
    expect(out[1]!.i).toBe(Math.floor(((2048 - 166 - 1) * 1) / 333));
  });

  it('drops points whose timestamp was already emitted; full and none modes', () => {
    const dup = points(600).map((p, i) => (i < 300 ? { ...p, timestamp: 'same' } : p));
    const out = compactHistory(dup, 'compact');
    expect(out.filter((p) => p.timestamp === 'same')).toHaveLength(1);
    expect(compactHistory(points(2048), 'full')).toHaveLength(2048);
    expect(compactHistory(points(2048), 'none')).toEqual([]);
  });
});

describe('CSV export', () => {
  it('formats floats like Python and ends lines with CRLF', () => {
    expect([pyFloat(0), pyFloat(1.5e-5), pyFloat(0.04), pyFloat(12), pyFloat(0.0001), pyFloat(1e16)]).toEqual(['0.0', '1.5e-05', '0.04', '12.0', '0.0001', '1e+16']);
    const csv = toCsv(ROLLUP_CSV_COLUMNS, rollup([row('2026-03-29T10:00:00Z', { savingsUsd: 0.000015, cumTokensSaved: 100 })], 'daily'));
    expect(csv).toBe(
      'timestamp,tokens_saved,compression_savings_usd_delta,total_tokens_saved,compression_savings_usd,total_input_tokens_delta,total_input_tokens,total_input_cost_usd_delta,total_input_cost_usd\r\n' +
        '2026-03-29T00:00:00Z,100,1.5e-05,100,0.0,1000,0,0.003,0.0\r\n',
    );
  });
});

describe('/stats?cached=1 snapshot', () => {
  it('is rebuilt at most once per TTL and on invalidation', async () => {
    const { Snapshot } = await import('../src/capabilities/stats/snapshot.js');
    let now = 0;
    let builds = 0;
    const snap = new Snapshot<number>(5000, () => now);
    const build = async () => ++builds;
    expect(await snap.get(build)).toBe(1);
    now = 4999;
    expect(await snap.get(build)).toBe(1);
    now = 5000;
    expect(await snap.get(build)).toBe(2);
    snap.invalidate();
    expect(await snap.get(build)).toBe(3);
  });
});
