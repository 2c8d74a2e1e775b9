/** Unit tests of the OTEL pieces: config parsing, bounded values, span plans, instruments. */
import { SpanKind } from '@opentelemetry/api';
import { AggregationTemporality, type HistogramMetricData, MeterProvider, MetricReader, type SumMetricData } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { configWith, loadConfig } from '../src/config/index.js';
import { parseKeyValues } from '../src/config/fields/otel.js';
import { accountingOf } from '../src/capabilities/stats/accounting.js';
import { BoundedValues, otelValueSets } from '../src/capabilities/otel/bounded.js';
import { parentContext } from '../src/capabilities/otel/emit.js';
import { OtelInstruments } from '../src/capabilities/otel/instruments.js';
import { langfuseHeaders, langfuseSettings } from '../src/capabilities/otel/langfuse.js';
import { planSpans, type PlannedSpan } from '../src/capabilities/otel/span-plan.js';
import { trace } from '@opentelemetry/api';
import { compressed, outcome, usage } from './helpers/outcomes.js';

const noUpstream = () => null;
const names = (p: PlannedSpan): unknown => [p.name, ...p.children.map(names)];

class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

function meter() {
  const reader = new TestReader({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  const provider = new MeterProvider({ readers: [reader] });
  const instruments = new OtelInstruments(provider.getMeter('headroom'), otelValueSets());
  const read = async () => {
    const { resourceMetrics } = await reader.collect();
    const out = new Map<string, SumMetricData | HistogramMetricData>();
    for (const sm of resourceMetrics.scopeMetrics) for (const m of sm.metrics) out.set(m.descriptor.name, m as SumMetricData | HistogramMetricData);
    return out;
  };
  return { instruments, read };
}

describe('OTEL configuration', () => {
  it('reads Headroom\'s environment variables', () => {
    const c = loadConfig({
      env: {
        HEADROOM_OTEL_METRICS_ENABLED: '1',
        HEADROOM_OTEL_METRICS_EXPORTER: 'otlp-http',
        HEADROOM_OTEL_METRICS_ENDPOINT: 'http://127.0.0.1:4318/v1/metrics',
        HEADROOM_OTEL_METRICS_HEADERS: 'x-api-key=abc%3D%3D, x-team = core',
        HEADROOM_OTEL_METRICS_EXPORT_INTERVAL_MS: '2500',
        HEADROOM_OTEL_SERVICE_NAME: 'my-proxy',
        HEADROOM_OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=dev,service.namespace=headroom',
      },
    }).config;
    expect(c.otelMetricsEnabled).toBe(true);
    expect(c.otelMetricsExporter).toBe('otlp_http');
    expect(c.otelMetricsEndpoint).toBe('http://127.0.0.1:4318/v1/metrics');
    expect(c.otelMetricsHeaders).toEqual({ 'x-api-key': 'abc==', 'x-team': 'core' });
    expect(c.otelMetricsExportIntervalMs).toBe(2500);
    expect(c.otelServiceName).toBe('my-proxy');
    expect(c.otelResourceAttributes).toEqual({ 'deployment.environment': 'dev', 'service.namespace': 'headroom' });
  });

  it('defaults: nothing is exported, Headroom\'s service name and interval', () => {
    const c = configWith();
    expect([c.otelMetricsEnabled, c.otelTracesEnabled, c.langfuseEnabled]).toEqual([false, false, false]);
    expect(c.otelMetricsExporter).toBe('otlp_http');
    expect(c.otelMetricsExportIntervalMs).toBe(10_000);
    expect(c.otelServiceName).toBe('headroom-proxy');
    expect(c.otelMetricsEndpoint).toBeNull();
    expect(c.otelAmbient).toBe(true);
  });

  it.each([
    [{ HEADROOM_OTEL_METRICS_EXPORTER: 'zipkin' }, /otelMetricsExporter .*one of otlp_http, console/],
    [{ HEADROOM_OTEL_METRICS_EXPORT_INTERVAL_MS: '0' }, /otelMetricsExportIntervalMs/],
    [{ HEADROOM_OTEL_METRICS_ENDPOINT: 'collector:4318' }, /otelMetricsEndpoint/],
    [{ HEADROOM_OTEL_TRACES_SAMPLE_RATIO: '1.5' }, /otelTracesSampleRatio/],
    [{ HEADROOM_OTEL_RESOURCE_ATTRIBUTES: 'novalue' }, /otelResourceAttributes .*entry 1 is not key=value/],
  ])('rejects %o', (env, re) => {
    expect(() => loadConfig({ env })).toThrow(re);
  });

  it('a bad headers value is reported without echoing it (header values are credentials)', () => {
    let message = '';
    try {
      loadConfig({ env: { HEADROOM_OTEL_METRICS_HEADERS: 'authorization=Bearer s3cr3t-token,broken' } });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/otelMetricsHeaders \(env HEADROOM_OTEL_METRICS_HEADERS\) = "<redacted>": entry 2 is not key=value/);
    expect(message).not.toContain('s3cr3t');
  });

  it('parses key=value lists', () => {
    expect(parseKeyValues('a=1,,b = two%20words ,c=x=y')).toEqual({ a: '1', b: 'two words', c: 'x=y' });
    expect(parseKeyValues('')).toEqual({});
    expect(parseKeyValues({ k: 'v', n: 1 })).toEqual({ k: 'v', n: '1' });
    expect(() => parseKeyValues('=v')).toThrow(/entry 1/);
  });

  it('Langfuse endpoint and headers', () => {
    const c = configWith({ langfuseEnabled: true, langfusePublicKey: 'pk-lf-1', langfuseSecretKey: 'sk-lf-2', langfuseBaseUrl: 'https://lf.example.test/base/' });
    const s = langfuseSettings(c);
    expect(s).toMatchObject({ active: true, baseUrl: 'https://lf.example.test/base', endpoint: 'https://lf.example.test/base/api/public/otel/v1/traces', problem: null });
    expect(langfuseHeaders(c)).toEqual({ Authorization: `Basic ${Buffer.from('pk-lf-1:sk-lf-2').toString('base64')}`, 'x-langfuse-ingestion-version': '4' });
    expect(langfuseSettings(configWith({ langfuseEnabled: true })).problem).toBe('LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY not set; no traces are sent to Langfuse');
    expect(langfuseSettings(configWith()).endpoint).toBe('https://cloud.langfuse.com/api/public/otel/v1/traces');
  });
});

describe('bounded attribute values', () => {
  it('caps distinct values and truncates long ones; assignments are stable', () => {
    const b = new BoundedValues(3, 10);
    expect(b.value('a')).toBe('a');
    expect(b.value(null)).toBe('unknown');
    expect(b.value('x'.repeat(50))).toBe('x'.repeat(10));
    expect(b.value('x'.repeat(60))).toBe('x'.repeat(10)); // same truncated label, no new slot
    expect(b.value('b')).toBe('other');
    expect(b.value('a')).toBe('a');
    expect(b.size).toBe(3);
  });
});

describe('span plan', () => {
  it('a proxied request without compression: request span and one upstream span; no empty pipeline span', () => {
    const o = outcome({ timing: { upstreamCalls: [{ attempt: 1, startedAt: Date.now() - 40, durationMs: 10, status: 200, error: null }] } });
    const plan = planSpans(o, accountingOf(o), () => ({ address: 'api.anthropic.test', port: 443 }));
    expect(names(plan)).toEqual(['chat claude-sonnet-4-5', ['POST /v1/messages']]);
    expect(plan.kind).toBe(SpanKind.SERVER);
    const up = plan.children[0]!;
    expect(up.kind).toBe(SpanKind.CLIENT);
    expect(up.end).toBe(o.endedAt); // the relayed response lasts until the request ends
    expect(up.attributes['server.address']).toBe('api.anthropic.test');
  });

  it('stages run back to back before the first upstream call; the compression stage becomes the pipeline span', () => {
    const t0 = Date.now() - 100;
    const o = compressed(500, {
      startedAt: t0,
      endedAt: t0 + 100,
      compression: { transforms: ['log_compressor', 'json_crusher'], timingsMs: { log_compressor: 3, json_crusher: 2, pipeline_total: 6 }, savedByTransform: { log_compressor: 400, json_crusher: 100 } },
      timing: { stagesMs: { budget: 1, compression: 6, rate_limit: 0.5 }, upstreamCalls: [{ attempt: 1, startedAt: t0 + 20, durationMs: 5, status: 200, error: null }] },
    });
    const plan = planSpans(o, accountingOf(o), noUpstream);
    expect(names(plan)).toEqual(['chat claude-sonnet-4-5', ['headroom.stage.budget'], ['headroom.compression.pipeline', ['headroom.compression.transform'], ['headroom.compression.transform']], ['headroom.stage.rate_limit'], ['POST /v1/messages']]);
    const [budget, pipeline, rate] = plan.children;
    expect(rate!.end).toBe(t0 + 20);
    expect(rate!.start).toBe(t0 + 19.5);
    expect(pipeline!.end).toBe(t0 + 19.5);
    expect(pipeline!.start).toBe(t0 + 13.5);
    expect(budget!.end).toBe(t0 + 13.5);
    const [t1, t2] = pipeline!.children;
    expect([t1!.start, t1!.end, t2!.start, t2!.end]).toEqual([t0 + 13.5, t0 + 16.5, t0 + 16.5, t0 + 18.5]);
    // per-transform token chain from the attributed savings
    expect(t1!.attributes).toMatchObject({ 'headroom.transform': 'log_compressor', 'headroom.tokens.before': o.compression.tokensBefore, 'headroom.tokens.saved': 400, 'headroom.tokens.after': o.compression.tokensBefore - 400 });
    expect(t2!.attributes).toMatchObject({ 'headroom.transform': 'json_crusher', 'headroom.tokens.before': o.compression.tokensBefore - 400, 'headroom.tokens.after': o.compression.tokensBefore - 500 });
    expect(pipeline!.attributes).toMatchObject({ 'headroom.transforms_applied': 2, 'headroom.tokens.saved': 500 });
  });

  it('/v1/compress and hook outcomes: a compression pipeline span outside the proxy stages; failures marked', () => {
    const t0 = Date.now() - 30;
    const o = compressed(200, {
      kind: 'compress', api: 'compress', path: '/v1/compress', usage: null, startedAt: t0, endedAt: t0 + 30,
      compression: { timingsMs: { log_compressor: 4 }, error: 'kompress model timed out' },
      timing: { upstreamCalls: [], upstreamAttempts: 0 },
    });
    const plan = planSpans(o, accountingOf(o), noUpstream);
    expect(names(plan)).toEqual(['POST /v1/compress', ['headroom.compression.pipeline', ['headroom.compression.transform']]]);
    expect(plan.attributes['gen_ai.operation.name']).toBeUndefined();
    const pipeline = plan.children[0]!;
    expect(pipeline.end).toBe(t0 + 30);
    expect(pipeline.error).toBe('kompress model timed out');
    const hook = planSpans(outcome({ kind: 'hook', api: 'hook', path: '/v1/hooks/compress', usage: null }), accountingOf(outcome({ kind: 'hook', api: 'hook', usage: null })), noUpstream);
    expect(hook.children).toEqual([]);
  });

  it('passthrough routes get low-cardinality names; failed upstream connects are error spans', () => {
    const t0 = Date.now() - 30;
    const o = outcome({
      api: 'passthrough', method: 'GET', path: '/v1/files/file-abc123', requestedModel: null, model: null, usage: null, ok: false, status: 502,
      errorType: 'upstream_connect', errorMessage: 'Upstream unavailable (connect)', startedAt: t0, endedAt: t0 + 30,
      timing: { upstreamCalls: [{ attempt: 1, startedAt: t0 + 1, durationMs: 2, status: null, error: 'connect' }, { attempt: 2, startedAt: t0 + 10, durationMs: 2, status: null, error: 'connect' }] },
    });
    const plan = planSpans(o, accountingOf(o), noUpstream);
    expect(names(plan)).toEqual(['GET /v1/*', ['GET'], ['GET']]);
    expect(plan.error).toBe('Upstream unavailable (connect)');
    expect(plan.children.map((c) => [c.error, c.attributes['error.type'], c.end])).toEqual([
      ['upstream call failed: connect', 'connect', t0 + 3],
      ['upstream call failed: connect', 'connect', t0 + 12],
    ]);
  });

  it('parent context from traceparent: valid, unsampled, invalid', () => {
    const valid = trace.getSpanContext(parentContext('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'a=b'))!;
    expect(valid).toMatchObject({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1, isRemote: true });
    expect(valid.traceState?.get('a')).toBe('b');
    expect(trace.getSpanContext(parentContext('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00', null))!.traceFlags).toBe(0);
    expect(trace.getSpanContext(parentContext('garbage', null))).toBeUndefined();
    expect(trace.getSpanContext(parentContext('00-00000000000000000000000000000000-00f067aa0ba902b7-01', null))).toBeUndefined();
    expect(trace.getSpanContext(parentContext(null, null))).toBeUndefined();
  });
});

describe('instruments', () => {
  it('/v1/compress records compression instruments only; failures, waste signals, busts', async () => {
    const { instruments, read } = meter();
    const o = compressed(300, {
      kind: 'compress', api: 'compress', usage: null,
      compression: { transforms: ['log_compressor', 'log_compressor'], timingsMs: { log_compressor: 4, _internal: 1, pipeline_total: 5 }, wasteSignals: { repeated_tool_output: 120 }, error: 'request timed out' },
    });
    instruments.record(o, accountingOf(o), { busts: 1, tokensLost: 900 });
    const m = await read();
    expect(m.has('headroom.proxy.requests')).toBe(false);
    const runs = m.get('headroom.compression.runs') as SumMetricData;
    expect(runs.dataPoints.map((p) => [p.attributes, p.value])).toEqual([[{ model: 'claude-sonnet-4-5', provider: 'anthropic' }, 1]]);
    expect((m.get('headroom.compression.transforms') as SumMetricData).dataPoints[0]!.value).toBe(2);
    const stage = m.get('headroom.compression.stage.duration') as HistogramMetricData;
    expect(stage.dataPoints.map((p) => p.attributes.stage)).toEqual(['log_compressor']); // pipeline_total and _* skipped
    expect((m.get('headroom.compression.pipeline.duration') as HistogramMetricData).dataPoints[0]!.value.sum).toBeCloseTo(0.005, 9);
    expect((m.get('headroom.compression.waste.tokens') as SumMetricData).dataPoints.map((p) => [p.attributes.signal, p.value])).toEqual([['repeated_tool_output', 120]]);
    expect((m.get('headroom.compression.failures') as SumMetricData).dataPoints.map((p) => p.attributes)).toEqual([{ model: 'claude-sonnet-4-5', operation: 'compress', error_type: 'timeout' }]);
    expect((m.get('headroom.proxy.cache.busts') as SumMetricData).dataPoints.map((p) => [p.attributes, p.value])).toEqual([[{}, 1]]);
    expect((m.get('headroom.proxy.cache.bust_tokens_lost') as SumMetricData).dataPoints[0]!.value).toBe(900);
  });

  it('unauthenticated rejections are not recorded; rate-limited and aborted requests are not failures', async () => {
    const { instruments, read } = meter();
    const rec = (o: ReturnType<typeof outcome>) => instruments.record(o, accountingOf(o));
    rec(outcome({ ok: false, status: 401, errorType: 'unauthorized', usage: null }));
    rec(outcome({ ok: false, status: 429, errorType: 'rate_limited', usage: null }));
    rec(outcome({ ok: false, status: 499, errorType: 'client_abort', usage: null }));
    rec(outcome({ ok: false, status: 502, errorType: 'upstream_connect', usage: null }));
    rec(outcome({ api: 'count_tokens', path: '/v1/messages/count_tokens', usage: null }));
    const m = await read();
    const total = (m.get('headroom.proxy.requests') as SumMetricData).dataPoints.reduce((s, p) => s + p.value, 0);
    expect(total).toBe(4);
    expect((m.get('headroom.proxy.requests.failed') as SumMetricData).dataPoints.map((p) => p.value)).toEqual([1]);
    expect((m.get('headroom.proxy.requests.rate_limited') as SumMetricData).dataPoints.map((p) => p.value)).toEqual([1]);
    // count_tokens is not a GenAI inference operation
    const ops = (m.get('gen_ai.client.operation.duration') as HistogramMetricData).dataPoints;
    expect(ops.reduce((s, p) => s + p.value.count, 0)).toBe(3);
    expect(ops.map((p) => p.attributes['error.type']).sort()).toEqual(['client_abort', 'rate_limited', 'upstream_connect']);
  });

  it('token usage histogram: input includes cache types, which are also split out', async () => {
    const { instruments, read } = meter();
    const o = outcome({ usage: usage({ uncached: 10, cacheRead: 1000, cacheWrite1h: 50 }) });
    instruments.record(o, accountingOf(o));
    const m = await read();
    const byType = Object.fromEntries((m.get('gen_ai.client.token.usage') as HistogramMetricData).dataPoints.map((p) => [p.attributes['gen_ai.token.type'], p.value.sum]));
    expect(byType).toEqual({ input: 1060, output: 100, cache_read: 1000, cache_creation: 50 });
    expect((m.get('headroom.proxy.cache.write_ttl_tokens') as SumMetricData).dataPoints.map((p) => [p.attributes.ttl, p.value])).toEqual([['1h', 50]]);
  });
});
