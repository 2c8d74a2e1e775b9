import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningTotals } from '../src/capabilities/live/totals.js';
import type { TraceEntry } from '../src/capabilities/live/tracker.js';
import type { ActiveSnapshot } from '../src/capabilities/live/views.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';
import { activeIds, COLON_MODEL, getJson, rawStream, until, watch } from './helpers/live-client.js';

let h: Harness;

const chat = (model: string, extra: Record<string, string> = {}, stream = false, signal?: AbortSignal) =>
  fetch(`${h.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${FAKE_OPENAI_KEY}`, ...extra },
    body: JSON.stringify({ model, stream, stream_options: stream ? { include_usage: true } : undefined, messages: [{ role: 'user', content: 'hello there' }] }),
    ...(signal ? { signal } : {}),
  });

const anthropic = (model: string, extra: Record<string, string> = {}, stream = false) =>
  fetch(`${h.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': FAKE_ANTHROPIC_KEY, 'anthropic-version': '2023-06-01', ...extra },
    body: JSON.stringify({ model, stream, max_tokens: 64, system: [{ type: 'text', text: 'Stable rules. '.repeat(200), cache_control: { type: 'ephemeral' } }], messages: [{ role: 'user', content: 'hi' }] }),
  });

beforeAll(async () => {
  h = await startHarness({ config: { liveSummaryEveryRequests: 4 } });
});
afterAll(() => h.close());

describe('live endpoints against the real proxy', () => {
  it('an in-flight request shows in /metrics/active-requests with its colon/slash model id and usage so far, then leaves', async () => {
    const ac = new AbortController();
    const res = await fetch(`${h.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': FAKE_ANTHROPIC_KEY, 'anthropic-version': '2023-06-01', 'x-mock-scenario': 'hang-mid-stream:2' },
      body: JSON.stringify({ model: COLON_MODEL, stream: true, max_tokens: 64, tools: [{ name: 't', input_schema: { type: 'object' } }], system: [{ type: 'text', text: 'Cached rules. '.repeat(300), cache_control: { type: 'ephemeral' } }], messages: [{ role: 'user', content: 'hi' }] }),
      signal: ac.signal,
    });
    const reader = res.body!.getReader();
    await reader.read(); // the stream has started
    const id = res.headers.get('x-headroom-request-id')!;
    await until(async () => {
      const { body } = await getJson<ActiveSnapshot>(`${h.url}/metrics/active-requests`);
      return body.active_requests.some((r) => r.request_id === id && r.resolved_model === COLON_MODEL);
    }, 'the request to show with its resolved model');
    const { body, headers } = await getJson<ActiveSnapshot>(`${h.url}/metrics/active-requests`);
    expect(headers.get('cache-control')).toBe('no-cache');
    const row = body.active_requests.find((r) => r.request_id === id)!;
    expect(row).toMatchObject({
      provider: 'anthropic', api: 'messages', model: COLON_MODEL, requested_model: COLON_MODEL, resolved_model: COLON_MODEL,
      qualified_model: `anthropic:${COLON_MODEL}`, is_streaming: true, message_count: 2, tool_definitions: 1,
    });
    expect(row.cache_creation_tokens).toBeGreaterThan(0); // message_start usage: cache_creation_input_tokens
    expect(row.input_tokens).toBeGreaterThan(row.cache_creation_tokens);
    expect(row.request_size).toBeGreaterThan(0);
    expect(row.duration_ms).toBeGreaterThanOrEqual(0);
    expect(new Date(row.start_time * 1000).toISOString()).toBe(row.start_time_iso);
    ac.abort();
    await reader.cancel().catch(() => undefined);
    await until(async () => !(await activeIds(h.url)).includes(id), 'the aborted request to leave the active map');
    await h.waitForOutcomes(1);
    const logs = await getJson<{ errors: TraceEntry[] }>(`${h.url}/metrics/logs`);
    expect(logs.body.errors[0]).toMatchObject({ request_id: id, model: COLON_MODEL, error_type: 'client_abort', status: 'error' });
  });

  it('running totals: YAML by default, JSON on request, cache tokens from the usage, filters', async () => {
    h.outcomes.length = 0;
    expect((await anthropic('claude-sonnet-5-5')).status).toBe(200); // writes the cache
    expect((await anthropic('claude-sonnet-5-5', {}, true)).status).toBe(200); // reads it, streamed
    await (await anthropic('claude-sonnet-5-5', {}, true)).text();
    const c = await chat(COLON_MODEL);
    expect(c.status).toBe(200);
    await c.text();
    const outs = await h.waitForOutcomes(4);

    const yamlRes = await fetch(`${h.url}/metrics/running-totals`);
    expect(yamlRes.headers.get('content-type')).toBe('text/yaml; charset=utf-8');
    expect(yamlRes.headers.get('content-disposition')).toMatch(/^inline; filename="running-totals-\d{8}-\d{6}Z\.yaml"$/);
    const yamlText = await yamlRes.text();
    expect(yamlText).toMatch(/^# headroom-ts running totals/);
    const y = parseYaml(yamlText) as RunningTotals;
    expect(Object.keys(y.providers.openai!.models)).toContain(COLON_MODEL);

    const { body: j, headers } = await getJson<RunningTotals>(`${h.url}/metrics/running-totals?format=json&include_active=false`);
    expect(headers.get('content-type')).toBe('application/json');
    const sonnet = j.providers.anthropic!.models['claude-sonnet-5-5']!;
    const anthropicOuts = outs.filter((o) => o.provider === 'anthropic');
    expect(sonnet.total.cache_creation_tokens).toBe(anthropicOuts.reduce((a, o) => a + o.usage!.cacheWrite, 0));
    expect(sonnet.total.cache_read_tokens).toBe(anthropicOuts.reduce((a, o) => a + o.usage!.cacheRead, 0));
    expect(sonnet.total.cache_read_tokens).toBeGreaterThan(0);
    expect(sonnet.total.cache_creation_tokens).toBeGreaterThan(0);
    expect(sonnet.streaming!.requests).toBe(2);
    expect(sonnet.non_streaming!.requests).toBe(1);
    expect(j.filters).toEqual({ provider: null, model: null, include_active: false });

    const viaAccept = await getJson<RunningTotals>(`${h.url}/metrics/running-totals`, { accept: 'application/json' });
    expect(viaAccept.body.summary.completed_requests).toBe(j.summary.completed_requests);

    const filtered = await getJson<RunningTotals>(`${h.url}/metrics/running-totals?format=json&provider=OPEN*&model=${encodeURIComponent('kwaipilot/*:FREE')}`);
    expect(Object.keys(filtered.body.providers)).toEqual(['openai']);
    expect(Object.keys(filtered.body.providers.openai!.models)).toEqual([COLON_MODEL]);
    expect(filtered.body.summary.total_requests).toBe(filtered.body.providers.openai!.models[COLON_MODEL]!.total.requests);
    const single = await getJson<RunningTotals>(`${h.url}/metrics/running-totals?format=json&model=claude-sonnet-5-?`);
    expect(Object.keys(single.body.providers)).toEqual(['anthropic']);
  });

  it('bad query values get a clear 400 and change nothing', async () => {
    for (const q of ['format=xml', 'include_active=maybe', `provider=${'x'.repeat(300)}`]) {
      const r = await getJson<{ error: { type: string; message: string } }>(`${h.url}/metrics/running-totals?${q}`);
      expect(r.status).toBe(400);
      expect(r.body.error.type).toBe('invalid_request');
      expect(r.body.error.message).toMatch(/^(format|include_active|provider) /);
    }
    for (const q of ['limit=-1', 'limit_errors=abc', 'limit_traces=100001', 'limit=1.5']) {
      const r = await getJson<{ error: { message: string } }>(`${h.url}/metrics/logs?${q}`);
      expect(r.status).toBe(400);
      expect(r.body.error.message).toMatch(/^limit(_errors|_traces)? must be an integer/);
    }
  });

  it('/metrics/logs: newest first, with limits', async () => {
    h.outcomes.length = 0;
    h.mock.enqueue('status:500', 'status:500', 'status:500', 'status:400');
    expect((await chat('gpt-4o')).status).toBe(500);
    expect((await chat('gpt-4o')).status).toBe(400);
    const r1 = await chat('gpt-4o-mini');
    await r1.text();
    const outs = await h.waitForOutcomes(3);
    const { body } = await getJson<{ errors: TraceEntry[]; traces: TraceEntry[]; buffers: { traces: { capacity: number } } }>(`${h.url}/metrics/logs?limit_traces=3&limit_errors=2`);
    expect(body.traces.map((t) => t.request_id)).toEqual(outs.slice(-3).reverse().map((o) => o.requestId));
    expect(body.traces[0]).toMatchObject({ model: 'gpt-4o-mini', status: 'ok', http_status: 200 });
    expect(body.errors).toHaveLength(2);
    expect(body.errors[0]).toMatchObject({ http_status: 400, error_type: 'upstream_client_error' });
    expect(body.errors[1]).toMatchObject({ http_status: 500, error_type: 'upstream_server_error', upstream_attempts: 3 });
    expect(body.errors[0]!.seq).toBeGreaterThan(body.errors[1]!.seq);
    expect(body.buffers.traces.capacity).toBe(200);
    const none = await getJson<{ errors: unknown[]; traces: unknown[] }>(`${h.url}/metrics/logs?limit=0`);
    expect(none.body.errors).toEqual([]);
    expect(none.body.traces).toEqual([]);
  });

  it('the summary log line names the colon/slash model intact and labels cumulative figures', async () => {
    const lines = h.logs.map((l) => JSON.parse(l) as { live_summary?: { cumulative: { label: string }; top_models_cumulative: { model: string }[] } }).filter((l) => l.live_summary);
    expect(lines.length).toBeGreaterThan(0);
    const last = lines[lines.length - 1]!.live_summary!;
    expect(last.cumulative.label).toBe('since process start');
    expect(last.top_models_cumulative.map((m) => m.model)).toContain(COLON_MODEL);
  });

  it('leaves /metrics to Prometheus, and reports itself in /health', async () => {
    const prom = await fetch(`${h.url}/metrics`);
    expect(prom.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await prom.text()).toContain('headroom_requests_total');
    const { body } = await getJson<{ checks: Record<string, { enabled: boolean; status: string }> }>(`${h.url}/health`);
    expect(body.checks.live_metrics).toMatchObject({ enabled: true, status: 'healthy', active_requests: 0 });
  });
});

describe('live monitoring turned off', () => {
  let off: Harness;
  beforeAll(async () => {
    off = await startHarness({ config: { liveMetrics: false } });
  });
  afterAll(() => off.close());

  it('tracks nothing and every endpoint says so', async () => {
    expect(off.app.funnel.sinkNames).not.toContain('live-metrics');
    expect(off.app.service('live')).toBeNull();
    const a = await getJson<{ disabled: boolean; message: string; suggestion: string; active_requests: unknown[] }>(`${off.url}/metrics/active-requests`);
    expect(a.body).toMatchObject({ disabled: true, active_requests: [] });
    expect(a.body.suggestion).toContain('HEADROOM_LIVE_METRICS=true');
    const y = parseYaml(await (await fetch(`${off.url}/metrics/running-totals`)).text()) as { disabled: boolean };
    expect(y.disabled).toBe(true);
    expect((await getJson<{ disabled: boolean }>(`${off.url}/metrics/running-totals?format=json`)).body.disabled).toBe(true);
    expect((await getJson<{ disabled: boolean }>(`${off.url}/metrics/logs`)).body.disabled).toBe(true);
    const raw = await rawStream(off.url);
    await until(() => raw.closed(), 'the disabled stream to end');
    expect(raw.text()).toMatch(/^retry: \d+\nevent: disabled\ndata: \{"disabled":true/);
    const w = watch(off.url);
    await until(() => w.disabled.length === 1, 'the disabled event');
    expect(w.updates).toHaveLength(0);
    w.close();
    const { body } = await getJson<{ checks: Record<string, { status: string }> }>(`${off.url}/health`);
    expect(body.checks.live_metrics!.status).toBe('disabled');
  });
});
