/**
 * Every way a request can end leaves the live view clean: 200 concurrent streaming requests
 * are held in flight (so all of them show in the SSE snapshots), then released into upstream
 * errors, resets, broken streams and client aborts; plus requests rejected before upstream,
 * timeouts, and an unreachable upstream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockUpstream } from '../src/mock/upstream.js';
import type { LiveMonitor } from '../src/capabilities/live/monitor.js';
import type { RunningTotals } from '../src/capabilities/live/totals.js';
import type { TraceEntry } from '../src/capabilities/live/tracker.js';
import type { ActiveSnapshot } from '../src/capabilities/live/views.js';
import type { ErrorType, RequestOutcome } from '../src/core/outcome.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';
import { COLON_MODEL, getJson, until, watch, type Watcher } from './helpers/live-client.js';
import { UpstreamGate } from './helpers/upstream-gate.js';

type Api = 'anthropic' | 'chat' | 'responses';

interface Spec {
  api: Api;
  scenario: string;
  abort: 'held' | 'mid-stream' | null;
  expected: ErrorType | null;
}

function requestInit(spec: Spec, index: number, signal?: AbortSignal): { url: string; init: RequestInit } {
  const tag = { 'x-headroom-spec': String(index), 'x-mock-scenario': spec.scenario };
  if (spec.api === 'anthropic') {
    return {
      url: '/v1/messages',
      init: {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': FAKE_ANTHROPIC_KEY, 'anthropic-version': '2023-06-01', ...tag },
        body: JSON.stringify({ model: 'claude-sonnet-5-5', stream: true, max_tokens: 64, tools: [{ name: 'grep', input_schema: { type: 'object' } }], messages: [{ role: 'user', content: `request ${index}` }] }),
        ...(signal ? { signal } : {}),
      },
    };
  }
  const body = spec.api === 'chat'
    ? { model: COLON_MODEL, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: `request ${index}` }] }
    : { model: 'gpt-4o', stream: true, input: `request ${index}` };
  return {
    url: spec.api === 'chat' ? '/v1/chat/completions' : '/v1/responses',
    init: {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${FAKE_OPENAI_KEY}`, ...tag },
      body: JSON.stringify(body),
      ...(signal ? { signal } : {}),
    },
  };
}

const APIS: Api[] = ['anthropic', 'chat', 'responses'];

function specs(): Spec[] {
  const out: Spec[] = [];
  const add = (n: number, scenario: string, expected: ErrorType | null, abort: Spec['abort'] = null, api?: Api) => {
    for (let i = 0; i < n; i++) out.push({ api: api ?? (APIS[out.length % 3] as Api), scenario, abort, expected });
  };
  add(60, 'ok', null);
  add(15, 'status:500', 'upstream_server_error');
  add(10, 'status:400', 'upstream_client_error');
  add(10, 'status:429', 'upstream_rate_limited');
  add(15, 'reset-before-headers', 'upstream_connect');
  add(15, 'reset-mid-stream:3', 'upstream_stream');
  add(15, 'stream-error:3', 'upstream_stream', null, 'chat');
  add(10, 'truncate:4', 'upstream_stream');
  add(10, 'malformed-sse', 'upstream_stream');
  add(20, 'ok', 'client_abort', 'held');
  add(20, 'slow-drip:30', 'client_abort', 'mid-stream');
  return out;
}

describe('200 concurrent streaming requests through every failure path', () => {
  let mock: MockUpstream;
  let gate: UpstreamGate;
  let h: Harness;
  let mon: LiveMonitor;
  let w: Watcher;
  const list = specs();
  const outcomeBySpec = new Map<number, RequestOutcome>();

  beforeAll(async () => {
    // A small frame interval so that frames are flushed before a mid-stream reset (with 0 the
    // mock writes and resets in one tick, and the corked frames never leave: a reset before headers).
    mock = new MockUpstream({ record: false, frameIntervalMs: 2 });
    await mock.start();
    gate = new UpstreamGate(mock.url);
    await gate.start();
    h = await startHarness({
      upstreamUrl: gate.url,
      config: {
        requestTimeoutSeconds: 120,
        liveSseMinIntervalMs: 50,
        liveTraceBuffer: 1_000,
        liveErrorBuffer: 1_000,
        liveSummaryEveryRequests: 50,
        maxBodyBytes: 65_536,
        logLevel: 'info',
      },
    });
    mon = h.app.service('live')!;
  });
  afterAll(async () => {
    w?.close();
    await h.close();
    await gate.stop();
    await mock.close();
  });

  it('all appear in the SSE stream, then all leave the active map', async () => {
    expect(list).toHaveLength(200);
    w = watch(h.url);
    await until(() => w.updates.length >= 1, 'the first snapshot');

    const controllers = list.map(() => new AbortController());
    const runs = list.map(async (spec, i) => {
      const { url, init } = requestInit(spec, i, controllers[i]!.signal);
      try {
        const res = await fetch(`${h.url}${url}`, init);
        if (spec.abort === 'mid-stream') {
          const reader = res.body!.getReader();
          await reader.read();
          controllers[i]!.abort();
          await reader.cancel().catch(() => undefined);
          return;
        }
        await res.text();
      } catch {
        // aborted by us, or cut by a broken upstream: the outcome tells what happened
      }
    });

    // Every one of them is held in flight and shows in the stream.
    await until(() => gate.held === 200, 'all 200 requests at the upstream gate', 60_000);
    await until(() => w.latest()!.active_total === 200, 'an update with all 200 active', 60_000);
    expect(mon.tracker.active.size).toBe(200);
    const snapshot = (await getJson<ActiveSnapshot>(`${h.url}/metrics/active-requests`)).body;
    expect(snapshot.active_requests).toHaveLength(200);
    expect(snapshot.active_requests.every((r) => r.is_streaming)).toBe(true);

    // Rejected before reaching upstream: bad JSON and an oversized body.
    const rejected = await Promise.all([
      ...Array.from({ length: 5 }, () => fetch(`${h.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${FAKE_OPENAI_KEY}` }, body: '{"model": "gpt-4o", "stream": tru' })),
      ...Array.from({ length: 3 }, () => fetch(`${h.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': FAKE_ANTHROPIC_KEY }, body: JSON.stringify({ model: 'claude-sonnet-5-5', stream: true, messages: [{ role: 'user', content: 'x'.repeat(100_000) }] }) })),
    ]);
    expect(rejected.map((r) => r.status)).toEqual([400, 400, 400, 400, 400, 413, 413, 413]);
    await Promise.all(rejected.map((r) => r.text()));

    // Clients that give up while their request is still waiting for upstream.
    list.forEach((spec, i) => spec.abort === 'held' && controllers[i]!.abort());
    await until(() => mon.tracker.active.size === 180, 'the held aborts to leave');

    gate.open();
    await Promise.all(runs);
    const outs = await h.waitForOutcomes(208, 90_000);
    await until(() => w.latest()!.active_total === 0, 'an update with nobody active', 60_000);
    expect(mon.tracker.active.size).toBe(0);
    expect((await getJson<ActiveSnapshot>(`${h.url}/metrics/active-requests`)).body.active_requests).toEqual([]);

    for (const o of outs) if (o.tags.spec !== undefined) outcomeBySpec.set(Number(o.tags.spec), o);
    expect(outcomeBySpec.size).toBe(200);
    // Every one of the 200 was seen active in the stream.
    const missing = [...outcomeBySpec.values()].filter((o) => !w.seen.has(o.requestId));
    expect(missing).toEqual([]);
    // And ended the way its scenario says.
    const got = list.map((spec, i) => `${spec.scenario}/${spec.abort ?? '-'} -> ${outcomeBySpec.get(i)!.errorType ?? 'ok'}`);
    const want = list.map((spec) => `${spec.scenario}/${spec.abort ?? '-'} -> ${spec.expected ?? 'ok'}`);
    expect(got).toEqual(want);
  }, 180_000);

  it('a mid-stream upstream error is an error in totals, traces and errors (with the colon/slash model intact)', async () => {
    const midStream = list.map((s, i) => ({ s, o: outcomeBySpec.get(i)! })).filter(({ s }) => s.scenario === 'stream-error:3').map(({ o }) => o);
    expect(midStream).toHaveLength(15);
    expect(midStream.every((o) => o.status === 200 && !o.ok)).toBe(true);
    const ids = new Set(midStream.map((o) => o.requestId));
    const logs = (await getJson<{ errors: TraceEntry[]; traces: TraceEntry[] }>(`${h.url}/metrics/logs`)).body;
    const traces = logs.traces.filter((t) => ids.has(t.request_id));
    const errors = logs.errors.filter((t) => ids.has(t.request_id));
    expect(traces).toHaveLength(15);
    expect(errors).toHaveLength(15);
    for (const e of [...traces, ...errors]) {
      expect(e).toMatchObject({ status: 'error', http_status: 200, error_type: 'upstream_stream', model: COLON_MODEL, provider: 'openai', is_streaming: true });
    }
    const totals = (await getJson<RunningTotals>(`${h.url}/metrics/running-totals?format=json&model=${encodeURIComponent(COLON_MODEL)}`)).body;
    const m = totals.providers.openai!.models[COLON_MODEL]!;
    const chatOutcomes = [...outcomeBySpec.values()].filter((o) => o.api === 'chat');
    expect(m.total.errors).toBe(chatOutcomes.filter((o) => !o.ok).length);
    expect(m.total.error_types!.upstream_stream).toBe(chatOutcomes.filter((o) => o.errorType === 'upstream_stream').length);
    expect(m.total.error_types!.upstream_stream).toBeGreaterThanOrEqual(15);
    expect(m.streaming!.errors).toBe(m.total.errors);
  });

  it('running totals equal the sum of the traces', async () => {
    const totals = (await getJson<RunningTotals>(`${h.url}/metrics/running-totals?format=json&include_active=false`)).body;
    const { traces, errors } = (await getJson<{ errors: TraceEntry[]; traces: TraceEntry[] }>(`${h.url}/metrics/logs`)).body;
    expect(traces).toHaveLength(208);
    expect(totals.summary.completed_requests).toBe(208);
    expect(errors).toHaveLength(traces.filter((t) => t.status === 'error').length);
    type Sum = { requests: number; errors: number; input: number; output: number; cacheRead: number; cacheWrite: number; defs: number; results: number; calls: number; duration: number };
    const sums = new Map<string, Sum>();
    for (const t of traces) {
      const key = JSON.stringify([t.provider, t.model]);
      const s = sums.get(key) ?? { requests: 0, errors: 0, input: 0, output: 0, cacheRead: 0, cacheWrite: 0, defs: 0, results: 0, calls: 0, duration: 0 };
      s.requests++;
      if (t.status === 'error') s.errors++;
      s.input += t.input_tokens;
      s.output += t.output_tokens;
      s.cacheRead += t.cache_read_tokens;
      s.cacheWrite += t.cache_creation_tokens;
      s.defs += t.tool_definitions;
      s.results += t.tool_results;
      s.calls += t.tool_calls;
      s.duration += t.duration_ms;
      sums.set(key, s);
    }
    const shown: string[] = [];
    for (const [provider, p] of Object.entries(totals.providers)) {
      for (const [model, m] of Object.entries(p.models)) {
        shown.push(JSON.stringify([provider, model]));
        const s = sums.get(JSON.stringify([provider, model]))!;
        expect(s, `${provider} ${model}`).toBeDefined();
        expect({
          requests: m.total.requests, errors: m.total.errors, input: m.total.input_tokens, output: m.total.output_tokens,
          cacheRead: m.total.cache_read_tokens, cacheWrite: m.total.cache_creation_tokens, defs: m.total.tool_definitions,
          results: m.total.tool_results, calls: m.total.tool_calls,
        }).toEqual({ ...s, duration: undefined });
        expect(m.total.total_duration_ms).toBeCloseTo(s.duration, 1);
      }
    }
    expect(shown.sort()).toEqual([...sums.keys()].sort());
    expect(totals.summary.total_output_tokens).toBe(traces.reduce((a, t) => a + t.output_tokens, 0));
    expect(totals.summary.total_errors).toBe(errors.length);
    expect(totals.summary.total_output_tokens).toBeGreaterThan(0);
    expect(totals.summary.total_input_tokens).toBeGreaterThan(0);
  });

  it('the summary log names the colon/slash model intact', () => {
    const lines = h.logs.map((l) => JSON.parse(l) as { live_summary?: { top_models_cumulative: { model: string }[]; cumulative: { requests: number } } }).filter((l) => l.live_summary);
    expect(lines.map((l) => l.live_summary!.cumulative.requests)).toEqual([50, 100, 150, 200]);
    expect(lines[3]!.live_summary!.top_models_cumulative.map((m) => m.model)).toContain(COLON_MODEL);
  });
});

describe('timeouts and an unreachable upstream', () => {
  let h: Harness;
  afterAll(() => h?.close());

  it('a request that times out before or during the response shows while in flight, then leaves as upstream_timeout', async () => {
    h = await startHarness({ config: { requestTimeoutSeconds: 1.5, liveSseMinIntervalMs: 20 } });
    const w = watch(h.url);
    const send = (scenario: string) => fetch(`${h.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': FAKE_ANTHROPIC_KEY, 'anthropic-version': '2023-06-01', 'x-mock-scenario': scenario },
      body: JSON.stringify({ model: COLON_MODEL, stream: true, max_tokens: 8, messages: [{ role: 'user', content: scenario }] }),
    }).then(async (r) => ({ status: r.status, id: r.headers.get('x-headroom-request-id'), text: await r.text().catch(() => '') }));
    const results = Promise.all([send('hang'), send('hang-mid-stream:2')]);
    await until(() => (w.latest()?.active_total ?? 0) === 2, 'both requests in flight');
    const [before, during] = await results;
    expect(before!.status).toBe(504);
    expect(during!.status).toBe(200);
    expect(during!.text).toContain('event: error');
    const outs = await h.waitForOutcomes(2);
    expect(outs.map((o) => o.errorType)).toEqual(['upstream_timeout', 'upstream_timeout']);
    expect(outs.every((o) => w.seen.has(o.requestId))).toBe(true);
    await until(() => w.latest()!.active_total === 0, 'both to leave');
    const { body } = await getJson<{ errors: TraceEntry[] }>(`${h.url}/metrics/logs`);
    expect(body.errors.map((e) => e.error_type)).toEqual(['upstream_timeout', 'upstream_timeout']);
    w.close();
  }, 60_000);

  it('an unreachable upstream is recorded and leaves nothing active', async () => {
    const dead = await startHarness({ upstreamUrl: 'http://127.0.0.1:9', config: { retryBaseDelayMs: 1 } });
    try {
      const r = await fetch(`${dead.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${FAKE_OPENAI_KEY}` },
        body: JSON.stringify({ model: COLON_MODEL, stream: true, messages: [{ role: 'user', content: 'x' }] }),
      });
      expect(r.status).toBe(502);
      await r.text();
      const [o] = await dead.waitForOutcomes(1);
      expect(o!.errorType).toBe('upstream_connect');
      const mon = dead.app.service('live')!;
      expect(mon.tracker.active.size).toBe(0);
      const { body } = await getJson<{ errors: TraceEntry[] }>(`${dead.url}/metrics/logs`);
      expect(body.errors[0]).toMatchObject({ request_id: o!.requestId, error_type: 'upstream_connect', model: COLON_MODEL, upstream_attempts: 3 });
      const totals = (await getJson<RunningTotals>(`${dead.url}/metrics/running-totals?format=json`)).body;
      expect(totals.summary).toMatchObject({ total_requests: 1, total_errors: 1, active_requests: 0 });
    } finally {
      await dead.close();
    }
  });
});
