/**
 * Managed mode: headroom-ts's own meter and tracer providers export over OTLP/HTTP to a real
 * receiver; requests go through the real proxy (official SDK clients) to the mock upstream.
 * Metrics are cumulative, so every test uses its own model name.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultPlugins } from '../src/compose/proxy.js';
import { GENAI_DURATION_BUCKETS, GENAI_TOKEN_BUCKETS, OVERHEAD_BUCKETS, COMPRESSION_BUCKETS } from '../src/capabilities/otel/names.js';
import { VERSION } from '../src/version.js';
import { fakeCompressorPlugin } from './helpers/fake-compressor.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';
import { send } from './helpers/http.js';
import { childrenOf, histogramPoint, rootSpans, sumPoint } from './helpers/otlp-assert.js';
import { OtlpReceiver } from './helpers/otlp-receiver.js';

const SERVER = 2;
const CLIENT = 3;
const INTERNAL = 1;
const ERROR = 2;

let h: Harness;
let rx: OtlpReceiver;
let anthropic: Anthropic;
let openai: OpenAI;

beforeAll(async () => {
  rx = new OtlpReceiver();
  await rx.start();
  const plugins = defaultPlugins();
  h = await startHarness({
    // the fake compressor runs as a proxy stage, like the real one
    plugins: [...plugins.slice(0, -1), fakeCompressorPlugin, plugins.at(-1)!],
    config: {
      otelMetricsEnabled: true,
      otelMetricsEndpoint: `${rx.url}/v1/metrics`,
      otelMetricsHeaders: 'x-collector-key=fake-collector-key-123,x-team=platform',
      otelMetricsExportIntervalMs: 3_600_000, // exports happen when the test flushes
      otelServiceName: 'headroom-test',
      otelResourceAttributes: 'deployment.environment=test,service.namespace=headroom',
      otelTracesEnabled: true,
      otelTracesEndpoint: `${rx.url}/v1/traces`,
      otelTracesHeaders: 'x-trace-key=fake-trace-key-456',
      otelTracesExportIntervalMs: 3_600_000,
    },
  });
  anthropic = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0 });
  openai = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0 });
});
afterAll(async () => {
  await h.close();
  await rx.close();
});
beforeEach(async () => {
  await h.reset();
  rx.reset();
});

/** Waits for the outcomes, lets the funnel deliver them to the OTEL sink, then exports. */
async function exported(n: number) {
  const outcomes = await h.waitForOutcomes(n);
  await new Promise((r) => setImmediate(r));
  await h.app.service('otel')!.flush();
  return outcomes;
}

const bigLog = 'ERROR 2026-07-01 worker-3 connection refused, retrying\n'.repeat(200);

describe('managed OTEL metrics', () => {
  it('non-streaming request: Headroom instruments, GenAI instruments, units, attributes, buckets, resource, headers', async () => {
    const model = 'claude-otel-metrics';
    const msg = await anthropic.messages.create({ model, max_tokens: 64, messages: [{ role: 'user', content: bigLog }] });
    const [o] = await exported(1);
    expect(o!.compression.tokensSaved).toBeGreaterThan(0);
    const m = rx.metrics();

    const exp = rx.exportsTo('/v1/metrics')[0]!;
    expect(exp.headers['x-collector-key']).toBe('fake-collector-key-123');
    expect(exp.headers['x-team']).toBe('platform');
    expect(exp.contentType).toMatch(/^application\/json/);

    const requests = m.get('headroom.proxy.requests')!;
    expect(requests.unit).toBe('1');
    expect(requests.scope).toBe('headroom');
    expect(requests.resource).toMatchObject({
      'service.name': 'headroom-test', 'service.version': VERSION, 'deployment.environment': 'test', 'service.namespace': 'headroom',
    });
    expect(requests.sum!.isMonotonic).toBe(true);
    expect(sumPoint(requests, { model })).toEqual({ attributes: { provider: 'anthropic', model, cached: false }, value: 1 });

    expect(sumPoint(m.get('headroom.proxy.tokens.input')!, { model })?.value).toBe(o!.usage!.input);
    expect(sumPoint(m.get('headroom.proxy.tokens.output')!, { model })?.value).toBe(msg.usage.output_tokens);
    expect(sumPoint(m.get('headroom.proxy.tokens.saved')!, { model })?.value).toBe(o!.compression.tokensSaved);
    expect(m.get('headroom.proxy.tokens.saved')!.unit).toBe('{token}');
    expect(sumPoint(m.get('headroom.proxy.cache.uncached_input_tokens')!, { model })?.value).toBe(msg.usage.input_tokens);
    expect(sumPoint(m.get('headroom.proxy.cost')!, { model, type: 'input' })?.value).toBeGreaterThan(0);
    expect(m.get('headroom.proxy.cost')!.unit).toBe('USD');

    const duration = histogramPoint(m.get('headroom.proxy.request.duration')!, { model })!;
    expect(m.get('headroom.proxy.request.duration')!.unit).toBe('s');
    expect(duration.explicitBounds).toEqual(GENAI_DURATION_BUCKETS);
    expect(duration.count).toBe(1);
    expect(duration.sum).toBeCloseTo(o!.timing.totalMs / 1000, 6);
    expect(histogramPoint(m.get('headroom.proxy.overhead.duration')!, { model })!.explicitBounds).toEqual(OVERHEAD_BUCKETS);
    // TTFB is recorded for streamed requests only (as Headroom); this one was not streamed
    expect(m.get('headroom.proxy.ttfb.duration')).toBeUndefined();

    // compression instruments: model + provider, one run, the transform tag
    expect(sumPoint(m.get('headroom.compression.runs')!, { model })).toEqual({ attributes: { model, provider: 'anthropic' }, value: 1 });
    expect(sumPoint(m.get('headroom.compression.tokens.input')!, { model })?.value).toBe(o!.compression.tokensBefore);
    expect(sumPoint(m.get('headroom.compression.tokens.output')!, { model })?.value).toBe(o!.compression.tokensAfter);
    expect(sumPoint(m.get('headroom.compression.transforms')!, { model })).toEqual({ attributes: { model, provider: 'anthropic', transform: 'log_compressor' }, value: 1 });
    const stage = histogramPoint(m.get('headroom.compression.stage.duration')!, { model })!;
    expect(stage.attributes.stage).toBe('log_compressor');
    expect(stage.explicitBounds).toEqual(COMPRESSION_BUCKETS);
    expect(histogramPoint(m.get('headroom.compression.pipeline.duration')!, { model })!.count).toBe(1);

    // GenAI semantic conventions
    const usage = m.get('gen_ai.client.token.usage')!;
    expect(usage.unit).toBe('{token}');
    const g = { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'anthropic', 'gen_ai.request.model': model, 'gen_ai.response.model': model };
    const input = histogramPoint(usage, { ...g, 'gen_ai.token.type': 'input' })!;
    expect(input.explicitBounds).toEqual(GENAI_TOKEN_BUCKETS);
    expect(input.attributes).toEqual({ ...g, 'gen_ai.token.type': 'input' });
    expect(input.sum).toBe(o!.usage!.input);
    expect(histogramPoint(usage, { ...g, 'gen_ai.token.type': 'output' })!.sum).toBe(msg.usage.output_tokens);
    const op = m.get('gen_ai.client.operation.duration')!;
    expect(op.unit).toBe('s');
    const opPoint = histogramPoint(op, g)!;
    expect(opPoint.attributes).toEqual(g);
    expect(opPoint.explicitBounds).toEqual(GENAI_DURATION_BUCKETS);
    // non-streaming: no time-to-first-chunk
    expect(m.get('gen_ai.client.operation.time_to_first_chunk') && histogramPoint(m.get('gen_ai.client.operation.time_to_first_chunk')!, { 'gen_ai.request.model': model })).toBeFalsy();
  });

  it('streaming request with prompt caching: time to first chunk, cache token types, TTL buckets', async () => {
    const model = 'claude-otel-stream';
    const params = {
      model,
      max_tokens: 64,
      system: [{ type: 'text' as const, text: 'Long stable instructions. '.repeat(300), cache_control: { type: 'ephemeral' as const, ttl: '1h' as const } }],
      messages: [{ role: 'user' as const, content: 'hi' }],
    };
    for (let i = 0; i < 2; i++) {
      const stream = anthropic.messages.stream(params);
      for await (const _ of stream) void _;
    }
    const [o1, o2] = await exported(2);
    expect(o1!.stream).toBe(true);
    expect(o1!.usage!.cacheWrite1h).toBeGreaterThan(0);
    expect(o2!.usage!.cacheRead).toBeGreaterThan(0);
    const m = rx.metrics();
    const g = { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'anthropic', 'gen_ai.request.model': model };
    const ttfc = histogramPoint(m.get('gen_ai.client.operation.time_to_first_chunk')!, g)!;
    expect(m.get('gen_ai.client.operation.time_to_first_chunk')!.unit).toBe('s');
    expect(ttfc.count).toBe(2);
    expect(ttfc.explicitBounds).toEqual(GENAI_DURATION_BUCKETS);
    // Headroom's TTFB instrument: streamed requests (one point per cached flag, a sample each)
    const ttfb = m.get('headroom.proxy.ttfb.duration')!;
    expect(histogramPoint(ttfb, { model, cached: false })!.count + histogramPoint(ttfb, { model, cached: true })!.count).toBe(2);
    const usage = m.get('gen_ai.client.token.usage')!;
    expect(histogramPoint(usage, { ...g, 'gen_ai.token.type': 'cache_read' })!.sum).toBe(o2!.usage!.cacheRead);
    expect(histogramPoint(usage, { ...g, 'gen_ai.token.type': 'cache_creation' })!.sum).toBe(o1!.usage!.cacheWrite + o2!.usage!.cacheWrite);
    expect(sumPoint(m.get('headroom.proxy.cache.write_ttl_tokens')!, { model, ttl: '1h' })?.value).toBe(o1!.usage!.cacheWrite1h + o2!.usage!.cacheWrite1h);
    expect(sumPoint(m.get('headroom.proxy.cache.read_tokens')!, { model, cached: true })?.value).toBe(o2!.usage!.cacheRead);
    // the second request read the cache: counted as cached (Headroom's definition)
    expect(sumPoint(m.get('headroom.proxy.requests.cached')!, { model })?.value).toBe(1);
    expect(sumPoint(m.get('headroom.proxy.requests')!, { model, cached: false })?.value).toBe(1);
    expect(sumPoint(m.get('headroom.proxy.requests')!, { model, cached: true })?.value).toBe(1);
  });

  it('failed request: error.type on the GenAI duration; requests.failed counts what Headroom counts', async () => {
    const model = 'claude-otel-fail';
    const unreachable = 'claude-otel-unreachable';
    await expect(anthropic.messages.create({ model, max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-mock-scenario': 'status:400' } })).rejects.toThrow();
    await expect(anthropic.messages.create({ model: unreachable, max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-mock-scenario': 'reset-before-headers' } })).rejects.toThrow();
    await exported(2);
    const m = rx.metrics();
    // an upstream 400 passed through is not a proxy failure; an upstream that never answered is
    expect(sumPoint(m.get('headroom.proxy.requests.failed')!, { model })).toBeUndefined();
    expect(sumPoint(m.get('headroom.proxy.requests.failed')!, { model: unreachable })).toEqual({ attributes: { provider: 'anthropic', model: unreachable }, value: 1 });
    const p = histogramPoint(m.get('gen_ai.client.operation.duration')!, { 'gen_ai.request.model': model })!;
    expect(p.attributes['error.type']).toBe('upstream_client_error');
    expect(p.attributes['gen_ai.response.model']).toBeUndefined();
  });

  it('model names are bounded: at most 32 distinct, later ones become "other"', async () => {
    const rt = h.app.service('otel')!;
    const before = rt.values.model.size;
    const n = 34 - before;
    for (let i = 0; i < n; i++) {
      await anthropic.messages.create({ model: `claude-card-${i}-${'x'.repeat(200)}`, max_tokens: 4, messages: [{ role: 'user', content: 'x' }] });
    }
    await exported(n);
    const requests = rx.metrics().get('headroom.proxy.requests')!;
    const models = new Set(requests.sum!.dataPoints.map((p) => p.attributes.find((a) => a.key === 'model')!.value.stringValue));
    expect(models.size).toBeLessThanOrEqual(33);
    expect(models.has('other')).toBe(true);
    for (const name of models) expect(name!.length).toBeLessThanOrEqual(128);
  });
});

describe('managed OTEL traces', () => {
  it('non-streaming request: one trace, request span with gen_ai attributes, compression and upstream children', async () => {
    const model = 'claude-otel-trace';
    const msg = await anthropic.messages.create({ model, max_tokens: 64, messages: [{ role: 'user', content: bigLog }] });
    const [o] = await exported(1);
    const exp = rx.exportsTo('/v1/traces')[0]!;
    expect(exp.headers['x-trace-key']).toBe('fake-trace-key-456');
    const spans = rx.spans();
    const [root] = rootSpans(spans);
    expect(rootSpans(spans)).toHaveLength(1);
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
    expect(root!.name).toBe(`chat ${model}`);
    expect(root!.kind).toBe(SERVER);
    expect(root!.scope).toBe('headroom');
    expect(root!.resource['service.name']).toBe('headroom-test');
    expect(root!.startMs).toBe(o!.startedAt);
    expect(root!.endMs).toBe(o!.endedAt);
    expect(root!.status.code).not.toBe(ERROR);
    expect(root!.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': model,
      'gen_ai.response.model': model,
      'gen_ai.usage.input_tokens': o!.usage!.input,
      'gen_ai.usage.output_tokens': msg.usage.output_tokens,
      'gen_ai.usage.cache_read.input_tokens': 0,
      'gen_ai.usage.cache_creation.input_tokens': 0,
      'gen_ai.response.finish_reasons': ['end_turn'],
      'http.request.method': 'POST',
      'http.response.status_code': 200,
      'url.path': '/v1/messages',
      'headroom.request_id': o!.requestId,
      'headroom.tokens.saved': o!.compression.tokensSaved,
      'headroom.stream': false,
    });

    const children = childrenOf(spans, root!);
    // stages in order (attribution and the CCR stage, which found no marker: plain stage spans), then the upstream call
    expect(children.map((s) => s.name)).toEqual(['headroom.stage.attribution', 'headroom.stage.ccr', 'headroom.compression.pipeline', 'POST /v1/messages']);
    const [, , pipeline, upstream] = children;
    expect(pipeline!.kind).toBe(INTERNAL);
    expect(pipeline!.attributes).toMatchObject({
      'headroom.model': model,
      'headroom.provider': 'anthropic',
      'headroom.tokens.before': o!.compression.tokensBefore,
      'headroom.tokens.after': o!.compression.tokensAfter,
      'headroom.tokens.saved': o!.compression.tokensSaved,
      'headroom.transforms_applied': 1,
    });
    const transforms = childrenOf(spans, pipeline!);
    expect(transforms.map((s) => [s.name, s.attributes['headroom.transform']])).toEqual([['headroom.compression.transform', 'log_compressor']]);
    // compression ran before the upstream call, inside the request
    expect(pipeline!.startMs).toBeGreaterThanOrEqual(root!.startMs);
    expect(pipeline!.endMs).toBeLessThanOrEqual(upstream!.startMs);
    expect(upstream!.kind).toBe(CLIENT);
    expect(upstream!.startMs).toBe(o!.timing.upstreamCalls[0]!.startedAt);
    expect(upstream!.endMs).toBeLessThanOrEqual(root!.endMs);
    expect(upstream!.attributes).toMatchObject({
      'http.request.method': 'POST', 'http.response.status_code': 200, 'server.address': '127.0.0.1', 'headroom.upstream.attempt': 1,
    });
    expect(upstream!.attributes['server.port']).toBe(Number(new URL(h.mock.url).port));
  });

  it('streaming request honours the client traceparent and tracestate', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    const stream = await openai.chat.completions.create(
      { model: 'gpt-otel-stream', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'stream it' }] },
      { headers: { traceparent: `00-${traceId}-${parentId}-01`, tracestate: 'vendor=abc' } },
    );
    for await (const _ of stream) void _;
    const [o] = await exported(1);
    expect(o!.stream).toBe(true);
    const spans = rx.spans();
    const root = spans.find((s) => s.parentSpanId === parentId)!;
    expect(root).toBeDefined();
    expect(root.traceId).toBe(traceId);
    expect(spans.every((s) => s.traceId === traceId)).toBe(true);
    expect(root.name).toBe('chat gpt-otel-stream');
    expect(root.attributes).toMatchObject({
      'gen_ai.provider.name': 'openai',
      'gen_ai.usage.input_tokens': o!.usage!.input,
      'gen_ai.usage.output_tokens': o!.usage!.output,
      'headroom.stream': true,
      'gen_ai.response.finish_reasons': [o!.finishReason],
    });
    // the compression stage scanned the request and cut nothing: a pipeline span with no transform children
    const children = childrenOf(spans, root);
    expect(children.map((s) => s.name)).toEqual(['headroom.stage.attribution', 'headroom.stage.ccr', 'headroom.compression.pipeline', 'POST /v1/chat/completions']);
    expect(children[2]!.attributes).toMatchObject({ 'headroom.tokens.saved': 0, 'headroom.transforms_applied': 0 });
    expect(childrenOf(spans, children[2]!)).toEqual([]);
    // the client's trace context is forwarded upstream unchanged (headroom-ts injects nothing)
    expect(h.mock.last!.headers.traceparent).toBe(`00-${traceId}-${parentId}-01`);
  });

  it('a client that did not sample the trace gets no spans; an invalid traceparent starts a new trace', async () => {
    await anthropic.messages.create({ model: 'claude-otel-unsampled', max_tokens: 4, messages: [{ role: 'user', content: 'x' }] },
      { headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00' } });
    await anthropic.messages.create({ model: 'claude-otel-badparent', max_tokens: 4, messages: [{ role: 'user', content: 'x' }] },
      { headers: { traceparent: 'not-a-traceparent' } });
    await exported(2);
    const spans = rx.spans();
    expect(spans.some((s) => s.name === 'chat claude-otel-unsampled')).toBe(false);
    const root = spans.find((s) => s.name === 'chat claude-otel-badparent')!;
    expect(root.parentSpanId).toBeNull();
    expect(root.traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('retried upstream calls: one client span per call, the retried one marked', async () => {
    await anthropic.messages.create({ model: 'claude-otel-retry', max_tokens: 4, messages: [{ role: 'user', content: 'x' }] },
      { headers: { 'x-mock-fail-times': '1', 'x-mock-key': 'otel-retry', 'x-mock-fail-status': '503' } });
    const [o] = await exported(1);
    expect(o!.timing.upstreamCalls).toHaveLength(2);
    const spans = rx.spans();
    const [root] = rootSpans(spans);
    expect(root!.status.code).not.toBe(ERROR);
    const calls = childrenOf(spans, root!).filter((s) => s.kind === CLIENT);
    expect(calls).toHaveLength(2);
    expect(calls[0]!.attributes).toMatchObject({ 'http.response.status_code': 503, 'error.type': '503', 'headroom.upstream.retried': true, 'headroom.upstream.attempt': 1 });
    expect(calls[0]!.status.code).toBe(ERROR);
    expect(calls[1]!.attributes).toMatchObject({ 'http.response.status_code': 200, 'http.request.resend_count': 1, 'headroom.upstream.attempt': 2 });
    expect(calls[1]!.status.code).not.toBe(ERROR);
    expect(calls[0]!.endMs).toBeLessThanOrEqual(calls[1]!.startMs);
  });

  it('failed request: the request span has error status and error.type', async () => {
    await expect(anthropic.messages.create({ model: 'claude-otel-500', max_tokens: 4, messages: [{ role: 'user', content: 'x' }] },
      { headers: { 'x-mock-scenario': 'status:400' } })).rejects.toThrow();
    await exported(1);
    const [root] = rootSpans(rx.spans());
    expect(root!.status.code).toBe(ERROR);
    expect(root!.status.message).toMatch(/HTTP 400/);
    expect(root!.attributes['error.type']).toBe('upstream_client_error');
    expect(root!.attributes['http.response.status_code']).toBe(400);
  });

  it('a request rejected before upstream (invalid JSON) has a request span and no upstream span', async () => {
    const res = await fetch(`${h.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': FAKE_ANTHROPIC_KEY }, body: '{not json' });
    expect(res.status).toBe(400);
    await exported(1);
    const spans = rx.spans();
    const [root] = rootSpans(spans);
    // an inference route without a model: the span is named after the operation alone
    expect(root!.name).toBe('chat');
    expect(root!.attributes['error.type']).toBe('invalid_request');
    expect(root!.attributes['http.response.status_code']).toBe(400);
    expect(childrenOf(spans, root!)).toEqual([]);
  });
});

describe('/stats and health in managed mode', () => {
  it('/stats.otel reports what is configured and the export figures; header values never appear', async () => {
    await anthropic.messages.create({ model: 'claude-otel-stats', max_tokens: 4, messages: [{ role: 'user', content: 'x' }] });
    await exported(1);
    const r = await send(`${h.url}/stats`);
    const body = r.json();
    const text = r.text;
    const otel = (body as Record<string, Record<string, unknown>>).otel!;
    expect(otel).toMatchObject({
      configured: true,
      enabled: true,
      service_name: 'headroom-test',
      exporter: 'otlp_http',
      endpoint: `${rx.url}/v1/metrics`,
      resource_attributes: { 'deployment.environment': 'test', 'service.namespace': 'headroom' },
      metrics_mode: 'managed',
      headers: ['x-collector-key', 'x-team'],
      export_interval_ms: 3_600_000,
      traces: { enabled: true, mode: 'managed', exporter: 'otlp_http', endpoint: `${rx.url}/v1/traces`, headers: ['x-trace-key'], sample_ratio: 1 },
    });
    expect(Object.keys(otel).slice(0, 6)).toEqual(['configured', 'enabled', 'service_name', 'exporter', 'endpoint', 'resource_attributes']);
    expect((otel.exports as Record<string, number>).succeeded).toBeGreaterThan(0);
    expect((otel.exports as Record<string, number>).failed).toBe(0);
    expect(((otel.traces as Record<string, unknown>).exports as Record<string, number>).succeeded).toBeGreaterThan(0);
    expect((otel.traces as Record<string, number>).spans_recorded).toBeGreaterThan(0);
    expect((body as Record<string, unknown>).langfuse).toMatchObject({ configured: false, enabled: false, service_name: null, base_url: null, endpoint: null });
    expect(text).not.toContain('fake-collector-key-123');
    expect(text).not.toContain('fake-trace-key-456');
    expect(h.logs.join('')).not.toContain('fake-collector-key-123');

    const health = (await send(`${h.url}/health`)).json<{ checks: Record<string, Record<string, unknown>> }>();
    expect(health.checks.otel).toMatchObject({ enabled: true, ready: true, status: 'healthy', degraded: false, exporting: ['metrics', 'traces'], failing: [] });
  });
});
