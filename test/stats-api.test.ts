import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPlugins } from '../src/compose/proxy.js';
import { fakeCompressorPlugin } from './helpers/fake-compressor.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';
import { getJson, rawRequest, REMOTE_HOST } from './helpers/http.js';
import { outcome } from './helpers/outcomes.js';

type Json = Record<string, any>;

const LOG = Array.from({ length: 400 }, (_, i) => `2026-03-27T09:00:${String(i % 60).padStart(2, '0')} INFO worker ${i % 7} processed batch ${i} in 12ms`).join('\n');

/** Headroom's /stats top-level keys in emitted order (optional trackers left out). */
const HEADROOM_KEYS = [
  'summary', 'agent_usage', 'savings', 'requests', 'tokens', 'latency', 'overhead', 'ttfb', 'pipeline_timing',
  'compressions_by_strategy', 'tokens_saved_by_strategy', 'codex_ws', 'waste_signals', 'router', 'savings_history',
  'display_session', 'litellm_available', 'persistent_savings', 'prefix_cache', 'cost', 'compression', 'compression_cache',
  'anon_telemetry_shipping', 'telemetry', 'otel', 'langfuse', 'feedback_loop', 'toin', 'context_tool', 'cli_filtering',
  'proxy_inbound', 'cache', 'rate_limiter', 'request_logs', 'recent_requests', 'log_full_messages', 'throughput', 'config',
];

let h: Harness;
let anthropic: Anthropic;
let openai: OpenAI;

beforeAll(async () => {
  // proxy.example.com: a reverse proxy on this machine forwards to the loopback-bound proxy
  h = await startHarness({ config: { allowedHosts: ['proxy.example.com'] }, plugins: [...defaultPlugins(), fakeCompressorPlugin] });
  anthropic = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0 });
  openai = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0 });
  await anthropic.messages.create({
    model: 'claude-sonnet-4-5', max_tokens: 64,
    system: [{ type: 'text', text: 'Stable instructions. '.repeat(300), cache_control: { type: 'ephemeral', ttl: '1h' } }],
    messages: [{ role: 'user', content: `Summarise this log:\n${LOG}` }],
  }, { headers: { 'x-headroom-stack': 'wrap_claude', 'x-headroom-project': 'demo' } });
  const stream = anthropic.messages.stream({
    model: 'claude-sonnet-4-5', max_tokens: 64,
    system: [{ type: 'text', text: 'Stable instructions. '.repeat(300), cache_control: { type: 'ephemeral', ttl: '1h' } }],
    messages: [{ role: 'user', content: 'and now?' }],
  });
  await stream.finalMessage();
  await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] });
  await h.waitForOutcomes(3);
});
afterAll(() => h.close());

describe('GET /stats', () => {
  it('has the seed example fields, Headroom key order, and figures that add up', async () => {
    const s = await getJson<Json>(`${h.url}/stats`);
    expect(Object.keys(s).filter((k) => HEADROOM_KEYS.includes(k))).toEqual(HEADROOM_KEYS);
    // seed example
    expect(s.persistent_savings.lifetime.tokens_saved).toBeGreaterThan(0);
    expect(s.persistent_savings.lifetime.compression_savings_usd).toBeGreaterThan(0);
    const point = s.persistent_savings.recent_history[0];
    expect(point.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(point.total_tokens_saved).toBeGreaterThan(0);
    expect(typeof point.compression_savings_usd).toBe('number');
    expect(s.requests).toMatchObject({ total: 3, rate_limited: 0, failed: 0, by_provider: { anthropic: 2, openai: 1 }, by_stack: { wrap_claude: 1 } });
    expect(s.requests.cached).toBe(1); // the second call read the cached system prompt
    const t = s.tokens;
    expect(t.saved).toBeGreaterThan(0);
    expect(t.savings_percent).toBeCloseTo((t.saved / (t.input + t.saved)) * 100, 1);
    expect(t.savings_bases.whole_wire.denominator).toBe(t.input + t.saved);
    expect(t.new_input_savings_percent).toBeGreaterThan(t.savings_percent);
    expect(s.cost.total_cost_usd).toBeGreaterThan(0);
    expect(s.cost.total_savings_usd).toBeGreaterThan(0);
    expect(s.cost.price_fallback_models).toEqual([]);
    expect(s.cache).toBeNull();
    // prefix cache from Anthropic usage: 1h writes observed
    expect(s.prefix_cache.by_provider.anthropic.observed_ttl_buckets['1h'].requests).toBe(1);
    expect(s.prefix_cache.totals.observed_ttl_mix.active_buckets).toEqual(['1h']);
    expect(s.latency).toMatchObject({ total_requests: 3 });
    expect(s.latency.p99_ms).toBeGreaterThanOrEqual(s.latency.p50_ms);
    expect(s.pipeline_timing.log_compressor.count).toBe(1);
    expect(s.persistent_savings.projects.demo.requests).toBe(1);
    expect(s.dollar_figures.scopes.cost).toContain('process');
    // one source: /metrics and /stats-history agree with /stats
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toContain(`headroom_tokens_saved_total ${t.saved}\n`);
    const hist = await getJson<Json>(`${h.url}/stats-history`);
    expect(hist.lifetime).toEqual(s.persistent_savings.lifetime);
  });

  it('uses sections registered by other capabilities', async () => {
    h.app.statsSections.set('cache', () => ({ entries: 10, max_entries: 1000, total_hits: 5, ttl_seconds: 3600 }));
    h.app.statsSections.set('budget', () => ({ limit_usd: 5 }));
    const s = await getJson<Json>(`${h.url}/stats`);
    expect(s.cache).toEqual({ entries: 10, max_entries: 1000, total_hits: 5, ttl_seconds: 3600 });
    expect(s.budget).toEqual({ limit_usd: 5 });
    h.app.statsSections.delete('cache');
    h.app.statsSections.delete('budget');
  });

  it('gives request logs, recent requests and config to strict-loopback callers only', async () => {
    const local = await getJson<Json>(`${h.url}/stats`);
    expect(local.request_logs.length).toBeGreaterThan(0);
    expect(local.request_logs[0]).toHaveProperty('input_tokens_original');
    expect(local.request_logs[0]).not.toHaveProperty('request_messages');
    expect(Object.keys(local.recent_requests[0])).toEqual([
      'request_id', 'timestamp', 'provider', 'model', 'input_tokens_original', 'input_tokens_optimized', 'output_tokens',
      'tokens_saved', 'savings_percent', 'optimization_latency_ms', 'total_latency_ms', 'transforms_applied', 'waste_signals',
    ]);
    expect(local.config).toHaveProperty('target_ratio');
    const remote = (await rawRequest(`${h.url}/stats`, { headers: REMOTE_HOST })).json<Json>();
    expect(remote).not.toHaveProperty('request_logs');
    expect(remote).not.toHaveProperty('recent_requests');
    expect(remote).not.toHaveProperty('config');
    expect(remote.requests.total).toBe(local.requests.total);
  });

  it('serves ?cached=1 and rejects a bad cached value with a 400 naming it', async () => {
    const cached = await getJson<Json>(`${h.url}/stats?cached=1`);
    expect(cached.requests.total).toBeGreaterThanOrEqual(3);
    const bad = await fetch(`${h.url}/stats?cached=maybe`);
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as Json;
    expect(body.detail[0].loc).toEqual(['query', 'cached']);
    expect(body.error.message).toContain("'cached'");
  });

  it('counts /v1/compress and hook outcomes that arrive through the funnel', async () => {
    const before = await getJson<Json>(`${h.url}/stats`);
    h.app.funnel.emit(outcome({
      kind: 'compress', api: 'compress', path: '/v1/compress', provider: 'openai', model: 'gpt-4o', requestedModel: 'gpt-4o', usage: null,
      compression: { tokensBefore: 9000, tokensAfter: 3000, tokensSaved: 6000, transforms: ['smart_crusher'] },
    }));
    h.app.funnel.emit(outcome({ kind: 'hook', api: 'hook', path: '/', usage: null, compression: { tokensBefore: 2000, tokensAfter: 1500, tokensSaved: 500 } }));
    h.app.funnel.flush();
    const after = await getJson<Json>(`${h.url}/stats`);
    expect(after.requests.total).toBe(before.requests.total + 2);
    expect(after.requests.by_kind).toMatchObject({ compress: 1, hook: 1 });
    expect(after.tokens.saved).toBe(before.tokens.saved + 6500);
    expect(after.persistent_savings.lifetime.tokens_saved).toBe(before.persistent_savings.lifetime.tokens_saved + 6500);
    expect(after.persistent_savings.lifetime.compression_savings_usd).toBeGreaterThan(before.persistent_savings.lifetime.compression_savings_usd);
    expect(after.latency.total_requests).toBe(before.latency.total_requests);
  });
});

describe('GET /stats-history', () => {
  it('has Headroom\'s shape with rollups for today', async () => {
    const s = await getJson<Json>(`${h.url}/stats-history`);
    expect(Object.keys(s)).toEqual([
      'schema_version', 'generated_at', 'storage_path', 'lifetime', 'display_session', 'display_session_policy', 'history', 'series',
      'exports', 'retention', 'projects', 'history_summary', 'cli_filtering', 'attribution',
    ]);
    expect(s.exports).toEqual({ default_format: 'json', available_formats: ['json', 'csv'], available_series: ['history', 'hourly', 'daily', 'weekly', 'monthly'] });
    expect(Object.keys(s.series)).toEqual(['hourly', 'daily', 'weekly', 'monthly']);
    const today = s.series.daily.at(-1);
    expect(today.timestamp).toBe(`${new Date().toISOString().slice(0, 10)}T00:00:00Z`);
    expect(today.tokens_saved).toBe(s.lifetime.tokens_saved);
    expect(today.by_provider.anthropic.tokens_saved).toBeGreaterThan(0);
    expect(s.history_summary).toEqual({ mode: 'compact', stored_points: s.history.length, returned_points: s.history.length, compacted: false });
    const none = await getJson<Json>(`${h.url}/stats-history?history_mode=none`);
    expect(none.history).toEqual([]);
    expect(none.history_summary.compacted).toBe(s.history.length > 0);
  });

  it('exports CSV with Headroom\'s columns, CRLF and Content-Disposition', async () => {
    const res = await fetch(`${h.url}/stats-history?format=csv&series=daily`);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="headroom-stats-history-daily.csv"');
    const text = await res.text();
    expect(text.split('\r\n')[0]).toBe('timestamp,tokens_saved,compression_savings_usd_delta,total_tokens_saved,compression_savings_usd,total_input_tokens_delta,total_input_tokens,total_input_cost_usd_delta,total_input_cost_usd');
    expect(text.endsWith('\r\n')).toBe(true);
    const hist = await (await fetch(`${h.url}/stats-history?format=csv`)).text();
    expect(hist.split('\r\n')[0]).toBe('timestamp,total_tokens_saved,compression_savings_usd,total_input_tokens,total_input_cost_usd');
  });

  it.each([
    ['format=xml', 'format'],
    ['series=yearly', 'series'],
    ['history_mode=partial', 'history_mode'],
  ])('rejects %s with a 400 naming the parameter', async (q, param) => {
    const res = await fetch(`${h.url}/stats-history?${q}`);
    expect(res.status).toBe(400);
    const body = (await res.json()) as Json;
    expect(body.detail[0].loc).toEqual(['query', param]);
    expect(body.error.message).toContain(`'${param}'`);
  });
});

describe('POST /stats/reset', () => {
  it('is loopback-only (404 otherwise), audited, and zeroes process counters but not the durable store', async () => {
    const denied = await rawRequest(`${h.url}/stats/reset`, { method: 'POST', headers: REMOTE_HOST });
    expect(denied.status).toBe(404);
    expect(denied.json()).toEqual({ detail: 'Not Found' });
    const before = await getJson<Json>(`${h.url}/stats`);
    const ok = await fetch(`${h.url}/stats/reset`, { method: 'POST' });
    expect(await ok.json()).toEqual({ status: 'reset' });
    const after = await getJson<Json>(`${h.url}/stats`);
    expect(after.requests.total).toBe(0);
    expect(after.tokens.saved).toBe(0);
    expect(after.persistent_savings.lifetime).toEqual(before.persistent_savings.lifetime);
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toContain('headroom_requests_total 0\n');
    expect(metrics).not.toMatch(/headroom_request_duration_seconds_count\{[^}]*\} [1-9]/);
    const audits = h.logs.filter((l) => l.includes('headroom_admin_audit')).map((l) => JSON.parse(l));
    expect(audits.map((a) => a.status_code)).toEqual([404, 200]);
    expect(audits[0]).toMatchObject({ action: 'admin_request', method: 'POST', path: '/stats/reset' });
  });
});

describe('admin routes with a proxy token', () => {
  it('accept a non-loopback caller that presents the token', async () => {
    const t = await startHarness({ config: { proxyToken: 'test-proxy-token-123' } });
    try {
      expect((await rawRequest(`${t.url}/stats/reset`, { method: 'POST', headers: REMOTE_HOST })).status).toBe(404);
      const ok = await rawRequest(`${t.url}/stats/reset`, { method: 'POST', headers: { ...REMOTE_HOST, 'x-headroom-proxy-token': 'test-proxy-token-123' } });
      expect(ok.status).toBe(200);
    } finally {
      await t.close();
    }
  });
});

describe('restart', () => {
  it('keeps lifetime and history across a restart of the proxy', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'headroom-restart-'));
    try {
      const first = await startHarness({ config: { workspaceDir: workspace }, plugins: [...defaultPlugins(), fakeCompressorPlugin] });
      const client = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: first.url, maxRetries: 0 });
      for (let i = 0; i < 3; i++) await client.messages.create({ model: 'claude-haiku-4-5', max_tokens: 16, messages: [{ role: 'user', content: `${i}\n${LOG}` }] });
      await first.waitForOutcomes(3);
      const before = await getJson<Json>(`${first.url}/stats-history?history_mode=full`);
      await first.close();
      const second = await startHarness({ config: { workspaceDir: workspace } });
      const after = await getJson<Json>(`${second.url}/stats-history?history_mode=full`);
      await second.close();
      expect(before.lifetime.requests).toBe(3);
      expect(after.lifetime).toEqual(before.lifetime);
      expect(after.history).toEqual(before.history);
      expect(after.series.daily).toEqual(before.series.daily);
    } finally {
      rmSync(workspace, { recursive: true, force: true });
    }
  });
});
