/**
 * `/stats-history` breaks series down by model and provider within a cap (like the model
 * labels of `/metrics`): beyond it the names with the least saved share `(other)`, so the
 * payload stays bounded however many model names clients send, and the buckets still add up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SERIES_NAMES, OTHER_NAME, rollup } from '../src/capabilities/stats/history.js';
import type { RollupRow } from '../src/capabilities/stats/store/types.js';
import { FAKE_ANTHROPIC_KEY, type Harness, startHarness } from './helpers/harness.js';
import { anthropicHeaders, send } from './helpers/http.js';

type Json = Record<string, any>;

describe('per-model breakdowns are capped', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it(`with ${MAX_SERIES_NAMES + 8} model names, every series names at most ${MAX_SERIES_NAMES} (the rest in ${OTHER_NAME}) and still adds up`, async () => {
    const n = MAX_SERIES_NAMES + 8;
    for (let i = 0; i < n; i++) {
      const r = await send(`${h.url}/v1/messages`, {
        body: JSON.stringify({ model: `claude-test-model-${String(i).padStart(3, '0')}`, max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }),
        headers: anthropicHeaders(FAKE_ANTHROPIC_KEY),
      });
      expect(r.status).toBe(200);
    }
    await h.waitForOutcomes(n);
    const history = async () => (await send(`${h.url}/stats-history`)).json<Json>();
    await expect.poll(async () => (await history()).lifetime.requests, { timeout: 10_000, interval: 100 }).toBe(n);
    const body = await history();
    for (const period of ['hourly', 'daily', 'weekly', 'monthly']) {
      const buckets = body.series[period] as Json[];
      expect(buckets.length).toBeGreaterThan(0);
      for (const b of buckets) {
        const names = Object.keys(b.by_model);
        expect(names.length).toBeLessThanOrEqual(MAX_SERIES_NAMES);
        expect(names).toContain(OTHER_NAME);
        const requests = Object.values(b.by_model as Record<string, Json>).reduce((a, d) => a + (d.requests as number), 0);
        expect(requests).toBe(b.requests);
      }
    }
  }, 60_000);
});

describe('rollup name cap (unit)', () => {
  const row = (model: string, saved: number): RollupRow => ({
    start: Date.parse('2026-03-29T10:00:00Z'), provider: 'anthropic', model, requests: 1, tokensSaved: saved, savingsUsd: 0, inputTokens: 10,
    inputCostUsd: 0, outputTokens: 1, outputCostUsd: 0, cumTokensSaved: 0, cumSavingsUsd: 0, cumInputTokens: 0, cumInputCostUsd: 0,
  });

  it('keeps the names that saved the most; the others are summed under (other); nothing is lost', () => {
    const rows = Array.from({ length: 10_000 }, (_, i) => row(`m-${i}`, i));
    const [b] = rollup(rows, 'hourly');
    const names = Object.keys(b!.by_model);
    expect(names).toHaveLength(MAX_SERIES_NAMES);
    expect(names).toContain(OTHER_NAME);
    expect(names).toContain('m-9999');
    expect(names).not.toContain('m-0');
    const sum = Object.values(b!.by_model).reduce((a, d) => a + d.requests, 0);
    expect(sum).toBe(10_000);
    expect(Object.values(b!.by_model).reduce((a, d) => a + d.tokens_saved, 0)).toBe(b!.tokens_saved);
    expect(JSON.stringify(b).length).toBeLessThan(10_000);
  });

  it('below the cap every name is kept and there is no (other)', () => {
    const [b] = rollup([row('a', 1), row('b', 2)], 'hourly');
    expect(Object.keys(b!.by_model).sort()).toEqual(['a', 'b']);
  });
});
