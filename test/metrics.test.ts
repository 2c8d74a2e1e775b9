import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEGACY_NAMED_FAMILIES } from '../src/capabilities/metrics/headroom-families.js';
import { defaultPlugins } from '../src/compose/proxy.js';
import { fakeCompressorPlugin } from './helpers/fake-compressor.js';
import { FAKE_ANTHROPIC_KEY, type Harness, startHarness } from './helpers/harness.js';
import { compressed, outcome, usage } from './helpers/outcomes.js';

const PROMTOOL = '/usr/bin/promtool';

let h: Harness;

async function scrape(url: string): Promise<{ text: string; contentType: string | null }> {
  const res = await fetch(`${url}/metrics`);
  return { text: await res.text(), contentType: res.headers.get('content-type') };
}

function family(text: string, name: string): { help: string | null; type: string | null; samples: string[] } {
  const help = new RegExp(`^# HELP ${name} (.*)$`, 'm').exec(text)?.[1] ?? null;
  const type = new RegExp(`^# TYPE ${name} (\\S+)$`, 'm').exec(text)?.[1] ?? null;
  const samples = text.split('\n').filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return { help, type, samples };
}

beforeAll(async () => {
  h = await startHarness({ plugins: [...defaultPlugins(), fakeCompressorPlugin] });
  const client = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0 });
  await client.messages.create({
    model: 'claude-sonnet-4-5', max_tokens: 32,
    system: [{ type: 'text', text: 'Stable. '.repeat(400), cache_control: { type: 'ephemeral' } }],
    messages: [{ role: 'user', content: 'x'.repeat(6000) }],
  }, { headers: { 'x-headroom-stack': 'wrap_claude' } });
  await h.waitForOutcomes(1);
  // synthetic outcomes exercise every conditional family and awkward label values
  h.app.funnel.emit(compressed(400, { model: 'weird "model"\\name\nline', requestedModel: 'weird', compression: { wasteSignals: { repeated_tool_output: 120 } }, timing: { stagesMs: { compression: 1.5 } } }));
  const t0 = Date.now() - 20 * 60_000;
  h.app.funnel.emit(outcome({ startedAt: t0, endedAt: t0 + 10, usage: usage({ cacheWrite5m: 9000 }), apiKeyHash: 'miss-test' }));
  h.app.funnel.emit(outcome({ usage: usage({ uncached: 9500 }), apiKeyHash: 'miss-test' }));
  h.app.funnel.flush();
});
afterAll(() => h.close());

describe('GET /metrics', () => {
  it('serves Prometheus text 0.0.4', async () => {
    expect((await scrape(h.url)).contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it.each([
    ['headroom_requests_total', 'counter', 'Total number of requests'],
    ['headroom_requests_cached_total', 'counter', 'Cached request count'],
    ['headroom_requests_rate_limited_total', 'counter', 'Rate limited requests'],
    ['headroom_requests_failed_total', 'counter', 'Failed requests'],
    ['headroom_inbound_requests_total', 'counter', 'All inbound HTTP requests accepted by the proxy'],
    ['headroom_inbound_requests_completed_total', 'counter', 'Inbound HTTP requests completed or aborted by the proxy'],
    ['headroom_inbound_requests_active', 'gauge', 'Inbound HTTP requests currently active in the proxy (includes the scrape itself)'],
    ['headroom_tokens_input_total', 'counter', 'Total input tokens (post-compression)'],
    ['headroom_tokens_output_total', 'counter', 'Total output tokens'],
    ['headroom_tokens_saved_total', 'counter', 'Tokens saved by optimization'],
    ['headroom_persistent_savings_requests_total', 'counter', 'Durable lifetime requests recorded by the proxy savings tracker'],
    ['headroom_persistent_savings_tokens_saved_total', 'counter', 'Durable lifetime input tokens saved by proxy compression'],
    ['headroom_persistent_savings_input_tokens_total', 'counter', 'Durable lifetime input tokens recorded by the proxy savings tracker'],
    ['headroom_persistent_savings_input_cost_usd_total', 'counter', 'Durable lifetime input spend in USD estimated by the proxy savings tracker'],
    ['headroom_persistent_savings_compression_savings_usd_total', 'counter', 'Durable lifetime compression savings in USD estimated by the proxy savings tracker'],
    ['headroom_latency_ms_sum', 'counter', 'Sum of request latencies in milliseconds'],
    ['headroom_latency_ms_count', 'counter', 'Count of observed request latencies'],
    ['headroom_latency_ms_max', 'gauge', 'Maximum observed request latency in milliseconds'],
    ['headroom_overhead_ms_sum', 'counter', 'Sum of Headroom processing overhead in milliseconds'],
    ['headroom_overhead_ms_count', 'counter', 'Count of observed Headroom overhead samples'],
    ['headroom_overhead_ms_min', 'gauge', 'Minimum observed Headroom overhead in milliseconds'],
    ['headroom_ttfb_ms_sum', 'counter', 'Sum of time to first byte in milliseconds'],
    ['headroom_ttfb_ms_count', 'counter', 'Count of observed time-to-first-byte samples'],
    ['headroom_ttfb_ms_max', 'gauge', 'Maximum observed time to first byte in milliseconds'],
    ['headroom_cache_bust_total', 'counter', 'Requests that lost provider cache efficiency because of compression'],
    ['headroom_cache_bust_tokens_lost_total', 'counter', 'Tokens that lost provider cache discount because of compression'],
    ['headroom_cache_miss_attribution_total', 'counter', 'Cache misses on an expected-cached prefix, bucketed by reason (ttl_expiry|prefix_change|unknown)'],
    ['headroom_requests_by_provider', 'counter', 'Requests by provider'],
    ['headroom_requests_by_model', 'counter', 'Requests by model'],
    ['headroom_requests_by_stack', 'counter', 'Requests by Headroom integration stack'],
    ['headroom_transform_timing_ms_sum', 'counter', 'Sum of transform timing in milliseconds'],
    ['headroom_transform_timing_ms_count', 'counter', 'Count of transform timing samples'],
    ['headroom_transform_timing_ms_max', 'gauge', 'Maximum transform timing in milliseconds'],
    ['headroom_stage_timing_ms_sum', 'counter', 'Sum of per-stage handler timings in milliseconds'],
    ['headroom_active_ws_sessions', 'gauge', 'Active Codex WebSocket sessions'],
    ['headroom_waste_signal_tokens_total', 'counter', 'Tokens attributed to detected waste signals'],
    ['headroom_cache_read_tokens_total', 'counter', 'Provider cache read tokens'],
    ['headroom_cache_write_tokens_total', 'counter', 'Provider cache write tokens'],
    ['headroom_cache_write_ttl_tokens_total', 'counter', 'Provider cache write tokens by observed TTL bucket'],
    ['headroom_cache_write_ttl_requests_total', 'counter', 'Provider cache write requests by observed TTL bucket'],
    ['headroom_uncached_input_tokens_total', 'counter', 'Input tokens not served from provider cache'],
    ['headroom_provider_cache_requests_total', 'counter', 'Requests with provider cache observations'],
    ['headroom_provider_cache_hit_requests_total', 'counter', 'Requests with provider cache reads'],
    ['headroom_provider_cache_bust_total', 'counter', 'Provider-specific cache bust count'],
    ['headroom_provider_cache_bust_write_tokens_total', 'counter', 'Provider cache write tokens attributed to busts'],
  ])('%s: type %s and Headroom\'s HELP text', async (name, type, help) => {
    const f = family((await scrape(h.url)).text, name);
    expect(f.type).toBe(type);
    expect(f.help).toBe(help);
  });

  it('uses Headroom\'s label names and values', async () => {
    const { text } = await scrape(h.url);
    expect(text).toMatch(/^headroom_requests_by_provider\{provider="anthropic"\} \d+$/m);
    expect(text).toMatch(/^headroom_requests_by_stack\{stack="wrap_claude"\} 1$/m);
    expect(text).toMatch(/^headroom_cache_write_ttl_tokens_total\{provider="anthropic",ttl="5m"\} \d+$/m);
    expect(text).toMatch(/^headroom_cache_write_ttl_tokens_total\{provider="anthropic",ttl="1h"\} \d+$/m);
    expect(text).toMatch(/^headroom_cache_miss_attribution_total\{provider="anthropic",reason="ttl_expiry"\} 1$/m);
    expect(text).toMatch(/^headroom_transform_timing_ms_count\{transform="log_compressor"\} 2$/m);
    expect(text).toMatch(/^headroom_stage_timing_ms_count\{path="\/v1\/messages",stage="compression"\} \d+$/m);
    expect(text).toMatch(/^headroom_waste_signal_tokens_total\{signal="repeated_tool_output"\} 120$/m);
  });

  it('escapes label values', async () => {
    const { text } = await scrape(h.url);
    expect(text).toContain('headroom_requests_by_model{model="weird \\"model\\"\\\\name\\nline"} 1');
  });

  it('has real histograms in seconds and process metrics', async () => {
    const { text } = await scrape(h.url);
    expect(family(text, 'headroom_request_duration_seconds').type).toBe('histogram');
    expect(text).toMatch(/^headroom_request_duration_seconds_bucket\{le="\+Inf",provider="anthropic",model="claude-sonnet-4-5"\} \d+$/m);
    expect(text).toMatch(/^headroom_overhead_seconds_count\{provider="anthropic"\} \d+$/m);
    expect(text).toMatch(/^headroom_time_to_first_byte_seconds_sum/m);
    expect(text).toMatch(/^headroom_cost_usd_total\{provider="anthropic",model="claude-sonnet-4-5",type="input"\} [0-9.e-]+$/m);
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
  });

  it('caps label cardinality: models and stacks at 32, projects at 50, overflow into "other"', async () => {
    const t = await startHarness();
    try {
      for (let i = 0; i < 45; i++) t.app.funnel.emit(outcome({ model: `model-${i}`, requestedModel: `model-${i}`, stack: `stack_${i}`, project: `project-${i}` }));
      for (let i = 45; i < 70; i++) t.app.funnel.emit(outcome({ project: `project-${i}` }));
      t.app.funnel.flush();
      const { text } = await scrape(t.url);
      const byModel = family(text, 'headroom_requests_by_model').samples;
      expect(byModel).toHaveLength(33);
      expect(byModel).toContain('headroom_requests_by_model{model="other"} 38');
      expect(family(text, 'headroom_model_requests_total').samples).toHaveLength(33);
      // Headroom semantics for stacks: new slugs beyond 32 are dropped
      expect(family(text, 'headroom_requests_by_stack').samples).toHaveLength(32);
      expect(family(text, 'headroom_stack_requests_total').samples).toHaveLength(33);
      const projects = family(text, 'headroom_project_requests_total').samples;
      expect(projects).toHaveLength(51);
      expect(projects).toContain('headroom_project_requests_total{project="other"} 20');
    } finally {
      await t.close();
    }
  });

  it('leaves out conditional families until they have data', async () => {
    const t = await startHarness();
    try {
      const { text } = await scrape(t.url);
      expect(text).toContain('# TYPE headroom_requests_by_model counter');
      expect(text).not.toContain('headroom_cache_read_tokens_total');
      expect(text).not.toContain('headroom_transform_timing_ms_sum');
      expect(text).not.toContain('headroom_cache_miss_attribution_total');
    } finally {
      await t.close();
    }
  });
});

describe('promtool check metrics', () => {
  const available = existsSync(PROMTOOL);
  if (!available && process.env.CI) {
    it('needs promtool', () => {
      throw new Error(`${PROMTOOL} is missing: install the Debian package "prometheus" (CI installs it in .ci/run)`);
    });
    return;
  }
  const check = (text: string) => spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  // the reason shows only in the titles of tests that are actually skipped
  const skipped = available ? '' : ` (skipped: ${PROMTOOL} not installed; apt-get install prometheus)`;

  it.skipIf(!available)(`is clean with --no-metrics-headroom-names${skipped}`, async () => {
    const t = await startHarness({ config: { metricsHeadroomNames: false } });
    try {
      const client = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: t.url, maxRetries: 0 });
      await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 8, system: [{ type: 'text', text: 'S. '.repeat(900), cache_control: { type: 'ephemeral' } }], messages: [{ role: 'user', content: 'hi' }] });
      await t.waitForOutcomes(1);
      t.app.funnel.emit(compressed(300, { model: 'odd"model\\x', compression: { wasteSignals: { dup: 5 } } }));
      t.app.funnel.flush();
      const { text } = await scrape(t.url);
      expect(text).not.toContain('headroom_latency_ms_sum');
      const r = check(text);
      expect({ status: r.status, out: r.stdout + r.stderr }).toEqual({ status: 0, out: '' });
    } finally {
      await t.close();
    }
  });

  it.skipIf(!available)(`parses the default exposition; the only findings are the Headroom-named families${skipped}`, async () => {
    const { text } = await scrape(h.url);
    const r = check(text);
    const problems = (r.stdout + r.stderr).split('\n').filter(Boolean);
    expect(r.status === 0 || r.status === 3).toBe(true); // 3 = lint findings only; 1 would be a parse error
    expect(problems.length).toBeGreaterThan(0);
    for (const line of problems) {
      const name = line.split(' ')[0]!;
      expect(LEGACY_NAMED_FAMILIES, line).toContain(name);
    }
  });
});
