/**
 * `/stats` and `/stats-history` as served by a running proxy parse with their schemas
 * (src/capabilities/stats/schema.ts), for loopback and remote callers, cached snapshots and
 * every history mode; a response missing a declared field does not.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problems } from './helpers/schema.js';
import { healthSchema } from '../src/capabilities/health/schema.js';
import { remoteStatsSchema, statsHistorySchema, statsSchema } from '../src/capabilities/stats/schema.js';
import { defaultPlugins } from '../src/compose/proxy.js';
import { fakeCompressorPlugin } from './helpers/fake-compressor.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';
import { getJson, rawRequest, REMOTE_HOST } from './helpers/http.js';

type Json = Record<string, any>;

const LOG = Array.from({ length: 300 }, (_, i) => `2026-03-27T09:00:${String(i % 60).padStart(2, '0')} INFO worker ${i % 7} processed batch ${i}`).join('\n');

let h: Harness;
beforeAll(async () => {
  // `cost_savings` is Headroom's alias of `cache`: summary.mode must say `cache`
  h = await startHarness({ config: { mode: 'cost_savings', allowedHosts: ['proxy.example.com'] }, plugins: [...defaultPlugins(), fakeCompressorPlugin] });
  const anthropic = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0 });
  const openai = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0 });
  await anthropic.messages.create({
    model: 'claude-sonnet-4-5', max_tokens: 32,
    system: [{ type: 'text', text: 'Stable instructions. '.repeat(300), cache_control: { type: 'ephemeral', ttl: '1h' } }],
    messages: [{ role: 'user', content: `Summarise:\n${LOG}` }],
  }, { headers: { 'x-headroom-project': 'demo', 'x-headroom-stack': 'wrap_claude' } });
  await anthropic.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'and now?' }] }).finalMessage();
  await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] });
  await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-mock-scenario': 'status:500' } }).catch(() => undefined);
  await h.waitForOutcomes(4);
});
afterAll(() => h.close());

describe('GET /stats against its schema', () => {
  it('the loopback document parses, with the figures the requests produced', async () => {
    const raw = await getJson<Json>(`${h.url}/stats`);
    expect(problems(statsSchema, raw)).toBe('');
    const s = statsSchema.parse(raw);
    expect(s.summary.mode).toBe('cache');
    expect(s.requests.total).toBe(4);
    expect(s.request_logs.length).toBe(4);
    expect(s.request_logs.some((r) => r.status === 500 && r.error !== null)).toBe(true);
    expect(s.persistent_savings.projects.demo?.requests).toBe(1);
    expect(s.prefix_cache.by_provider.anthropic?.observed_ttl_buckets['1h'].requests).toBe(1);
    // parsing keeps the served values (no coercion, no defaults filled in)
    expect(s.tokens).toEqual(raw.tokens);
  });

  it('the cached snapshot and the remote view parse; the remote view has no loopback-only keys', async () => {
    expect(problems(statsSchema, await getJson(`${h.url}/stats?cached=1`))).toBe('');
    const remote = (await rawRequest(`${h.url}/stats`, { headers: REMOTE_HOST })).json<Json>();
    expect(problems(remoteStatsSchema, remote)).toBe('');
    expect(remote).not.toHaveProperty('request_logs');
    expect(problems(statsSchema, remote)).toMatch(/^request_logs: /m);
  });

  it('a document missing a declared field, or with one of the wrong type, fails naming it', async () => {
    const raw = await getJson<Json>(`${h.url}/stats`);
    const without = (mutate: (d: Json) => void) => {
      const d = structuredClone(raw);
      mutate(d);
      return problems(statsSchema, d);
    };
    expect(without((d) => delete d.summary.mode)).toMatch(/^summary\.mode: /);
    expect(without((d) => delete d.tokens.saved)).toMatch(/^tokens\.saved: /);
    expect(without((d) => delete d.persistent_savings.lifetime.compression_savings_usd)).toMatch(/^persistent_savings\.lifetime\.compression_savings_usd: /);
    expect(without((d) => delete d.cost.per_model['gpt-4o'].price_fallback)).toMatch(/^cost\.per_model\.gpt-4o\.price_fallback: /);
    expect(without((d) => delete d.request_logs[0].request_id)).toMatch(/^request_logs\.0\.request_id: /);
    expect(without((d) => { d.summary.mode = 'tokens'; })).toMatch(/^summary\.mode: /);
    expect(without((d) => { d.requests.total = '4'; })).toMatch(/^requests\.total: /);
  });
});

describe('GET /stats-history against its schema', () => {
  it('parses in every history mode, and a dropped field fails', async () => {
    for (const mode of ['compact', 'full', 'none']) {
      const raw = await getJson<Json>(`${h.url}/stats-history?history_mode=${mode}`);
      expect(problems(statsHistorySchema, raw)).toBe('');
      expect(raw.history_summary.mode).toBe(mode);
    }
    const raw = await getJson<Json>(`${h.url}/stats-history`);
    const doc = statsHistorySchema.parse(raw);
    expect(doc.series.hourly.at(-1)?.by_model['gpt-4o']?.requests).toBe(2);
    delete raw.series.daily[0].total_input_cost_usd_delta;
    expect(problems(statsHistorySchema, raw)).toMatch(/^series\.daily\.0\.total_input_cost_usd_delta: /);
  });
});

describe('GET /health against its schema', () => {
  it('parses for loopback (with config) and remote callers; a check without status fails', async () => {
    const raw = await getJson<Json>(`${h.url}/health`);
    expect(problems(healthSchema, raw)).toBe('');
    expect(healthSchema.parse(raw).checks.startup?.status).toBe('healthy');
    expect(raw.config).toBeTypeOf('object');
    expect(problems(healthSchema, (await rawRequest(`${h.url}/health`, { headers: REMOTE_HOST })).json())).toBe('');
    delete raw.checks.memory.status;
    expect(problems(healthSchema, raw)).toMatch(/^checks\.memory\.status: /);
  });
});
