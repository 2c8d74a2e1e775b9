/**
 * `/stats-history?report=spend`: spend per bucket, provider and model (requests, tokens, input
 * and output cost), as JSON and CSV, through the proxy with the official SDKs; the default
 * `/stats-history` payload is unchanged. `spendRows` caps the model names like the series do.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rollup } from '../src/capabilities/stats/history.js';
import { spendRows } from '../src/capabilities/stats/history-views.js';
import type { RollupRow } from '../src/capabilities/stats/store/types.js';
import { defaultPlugins } from '../src/compose/proxy.js';
import { fakeCompressorPlugin } from './helpers/fake-compressor.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';
import { getJson } from './helpers/http.js';

type Json = Record<string, any>;
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ plugins: [...defaultPlugins(), fakeCompressorPlugin] });
  const anthropic = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0 });
  const openai = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0 });
  await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hello' }] });
  await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'again' }] });
  await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] });
  await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'boom' }] }, { headers: { 'x-mock-scenario': 'status:500' } }).catch(() => undefined);
  await h.waitForOutcomes(4);
}, 60_000);
afterAll(() => h?.close());

describe('GET /stats-history?report=spend', () => {
  it('JSON: one row per day, provider and model, summing to the lifetime totals', async () => {
    const r = await getJson<Json>(`${h.url}/stats-history?report=spend`);
    expect(r.report).toBe('spend');
    expect(r.series).toBe('daily');
    const today = `${new Date().toISOString().slice(0, 10)}T00:00:00Z`;
    expect(r.rows.map((x: Json) => [x.timestamp, x.provider, x.model]).sort()).toEqual([[today, 'anthropic', 'claude-sonnet-4-5'], [today, 'openai', 'gpt-4o']]);
    const sonnet = r.rows.find((x: Json) => x.model === 'claude-sonnet-4-5');
    expect(sonnet.requests).toBe(2);
    expect(sonnet.output_tokens).toBeGreaterThan(0);
    expect(sonnet.output_cost_usd).toBeGreaterThan(0);
    expect(sonnet.total_cost_usd).toBeCloseTo(sonnet.input_cost_usd + sonnet.output_cost_usd, 6);
    const life = (await getJson<Json>(`${h.url}/stats-history?history_mode=none`)).lifetime;
    const sum = (k: string) => r.rows.reduce((a: number, x: Json) => a + x[k], 0);
    expect(sum('requests')).toBe(life.requests);
    expect(sum('input_cost_usd')).toBeCloseTo(life.total_input_cost_usd, 6);
    expect(sum('output_cost_usd')).toBeCloseTo(life.total_output_cost_usd, 6);
    expect(sum('output_tokens')).toBe(life.total_output_tokens);
    // hourly: the same figures in this hour's bucket
    const hourly = await getJson<Json>(`${h.url}/stats-history?report=spend&series=hourly`);
    expect(new Set(hourly.rows.map((x: Json) => x.timestamp)).size).toBe(1);
    expect(hourly.rows.reduce((a: number, x: Json) => a + x.requests, 0)).toBe(life.requests);
  });

  it('CSV: the columns of a daily spend report, as a download', async () => {
    const res = await fetch(`${h.url}/stats-history?report=spend&series=daily&format=csv`);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="headroom-spend-daily.csv"');
    const lines = (await res.text()).trimEnd().split('\r\n');
    expect(lines[0]).toBe('timestamp,provider,model,requests,input_tokens,output_tokens,input_cost_usd,output_cost_usd,total_cost_usd,tokens_saved,savings_usd');
    expect(lines.length).toBe(3);
    expect(lines.slice(1).map((l) => l.split(',').slice(1, 4).join(',')).sort()).toEqual(['anthropic,claude-sonnet-4-5,2', 'openai,gpt-4o,2']);
  });

  it('rejects a report it does not know, and leaves the default payload as it was', async () => {
    const res = await fetch(`${h.url}/stats-history?report=profit`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).detail[0].loc).toEqual(['query', 'report']);
    const s = await getJson<Json>(`${h.url}/stats-history`);
    expect(s).not.toHaveProperty('report');
    expect(s).toHaveProperty('series.daily');
  });
});

describe('spendRows', () => {
  const row = (model: string, cost: number, saved: number, start = Date.parse('2026-11-22T07:00:00Z')): RollupRow => ({
    start, provider: 'openai', model, requests: 1, tokensSaved: saved, savingsUsd: 0, inputTokens: 10, inputCostUsd: cost, outputTokens: 5, outputCostUsd: cost / 2,
    cumTokensSaved: 0, cumSavingsUsd: 0, cumInputTokens: 0, cumInputCostUsd: 0,
  });

  it('keeps by name the models the savings series keep, sums the others under (other), buckets by period', () => {
    const rows = [row('a', 3, 0), row('b', 1, 50), row('c', 2, 100), row('d', 0.5, 0, Date.parse('2026-11-22T09:00:00Z'))];
    const savings = rollup(rows, 'daily', 3).at(-1)!;
    const out = spendRows(rows, 'daily', 3);
    expect(out.map((r) => r.model).sort()).toEqual(Object.keys(savings.by_model).sort());
    // by spend within the day: (other) = a + d
    expect(out.map((r) => [r.model, r.requests])).toEqual([['(other)', 2], ['c', 1], ['b', 1]]);
    expect(out[0]!.input_cost_usd).toBe(3.5);
    expect(out[0]!.output_cost_usd).toBe(1.75);
    expect(spendRows(rows, 'hourly').map((r) => r.timestamp)).toEqual(['2026-11-22T07:00:00Z', '2026-11-22T07:00:00Z', '2026-11-22T07:00:00Z', '2026-11-22T09:00:00Z']);
  });
});
