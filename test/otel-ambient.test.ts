/**
 * Ambient mode: an application embeds headroom-ts as a library and has registered its own
 * global OTEL meter and tracer providers (exporting over OTLP/HTTP to a real receiver).
 * headroom-ts records into them, without any HEADROOM_OTEL_* setting.
 */
import { metrics, trace } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GENAI_TOKEN_BUCKETS } from '../src/capabilities/otel/names.js';
import { FAKE_ANTHROPIC_KEY, type Harness, startHarness } from './helpers/harness.js';
import { anthropicHeaders, send } from './helpers/http.js';
import { childrenOf, histogramPoint, rootSpans, sumPoint } from './helpers/otlp-assert.js';
import { OtlpReceiver } from './helpers/otlp-receiver.js';

let rx: OtlpReceiver;

beforeAll(async () => {
  rx = new OtlpReceiver();
  await rx.start();
});
afterAll(() => rx.close());

interface AppOtel {
  meterProvider: MeterProvider;
  tracerProvider: TracerProvider;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** What an application does at startup: its own providers, registered globally. */
function registerAppProviders(): AppOtel {
  const resource = resourceFromAttributes({ 'service.name': 'my-agent-app' });
  const meterProvider = new MeterProvider({
    resource,
    readers: [new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter({ url: `${rx.url}/v1/metrics` }), exportIntervalMillis: 3_600_000 })],
  });
  const tracerProvider = new TracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${rx.url}/v1/traces` }), scheduledDelayMillis: 3_600_000 })],
  });
  metrics.setGlobalMeterProvider(meterProvider);
  trace.setGlobalTracerProvider(tracerProvider);
  return {
    meterProvider,
    tracerProvider,
    flush: async () => {
      await meterProvider.forceFlush();
      await tracerProvider.forceFlush();
    },
    shutdown: async () => {
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
    },
  };
}

let h: Harness | null = null;
let appOtel: AppOtel | null = null;

afterEach(async () => {
  await h?.close();
  await appOtel?.shutdown();
  h = null;
  appOtel = null;
  metrics.disable();
  trace.disable();
  rx.reset();
});

const ask = (url: string, model: string) =>
  send(`${url}/v1/messages`, {
    headers: anthropicHeaders(FAKE_ANTHROPIC_KEY),
    body: JSON.stringify({ model, max_tokens: 16, messages: [{ role: 'user', content: 'hello' }] }),
  });

async function delivered(n: number) {
  const outcomes = await h!.waitForOutcomes(n);
  await new Promise((r) => setImmediate(r));
  return outcomes;
}

describe('ambient OTEL (headroom-ts inside an application)', () => {
  it('records metrics and spans into the application\'s global providers', async () => {
    appOtel = registerAppProviders();
    h = await startHarness();
    expect((await ask(h.url, 'claude-ambient')).status).toBe(200);
    const [o] = await delivered(1);
    await appOtel.flush();

    const m = rx.metrics();
    const requests = m.get('headroom.proxy.requests')!;
    expect(requests.resource['service.name']).toBe('my-agent-app');
    expect(requests.scope).toBe('headroom');
    expect(sumPoint(requests, { model: 'claude-ambient' })?.value).toBe(1);
    // the bucket advice reaches the application's SDK too
    const usage = histogramPoint(m.get('gen_ai.client.token.usage')!, { 'gen_ai.request.model': 'claude-ambient', 'gen_ai.token.type': 'input' })!;
    expect(usage.explicitBounds).toEqual(GENAI_TOKEN_BUCKETS);
    expect(usage.sum).toBe(o!.usage!.input);

    const spans = rx.spans();
    const [root] = rootSpans(spans);
    expect(root!.name).toBe('chat claude-ambient');
    expect(root!.resource['service.name']).toBe('my-agent-app');
    expect(root!.attributes['gen_ai.usage.output_tokens']).toBe(o!.usage!.output);
    expect(childrenOf(spans, root!).map((s) => s.name)).toContain('POST /v1/messages');

    const stats = (await send(`${h.url}/stats`)).json<{ otel: Record<string, unknown> }>();
    expect(stats.otel).toMatchObject({ configured: true, enabled: false, metrics_mode: 'ambient', exports: null, traces: { enabled: false, mode: 'ambient' } });
    expect((stats.otel.traces as Record<string, number>).spans_recorded).toBeGreaterThan(0);
    // nothing is exported by headroom-ts itself
    expect(rx.received.every((r) => r.headers['user-agent']?.includes('OTel-OTLP-Exporter-JavaScript'))).toBe(true);
    const health = (await send(`${h.url}/health`)).json<{ checks: Record<string, Record<string, unknown>> }>();
    expect(health.checks.otel).toMatchObject({ enabled: false, status: 'disabled' });
  });

  it('picks up providers the application registers after creating the headroom-ts app', async () => {
    h = await startHarness();
    expect((await ask(h.url, 'claude-before-register')).status).toBe(200);
    await delivered(1);
    expect(h.app.service('otel')!.metricsMode).toBe('off');
    appOtel = registerAppProviders();
    expect((await ask(h.url, 'claude-after-register')).status).toBe(200);
    await delivered(2);
    await appOtel.flush();
    const requests = rx.metrics().get('headroom.proxy.requests')!;
    expect(sumPoint(requests, { model: 'claude-after-register' })?.value).toBe(1);
    expect(sumPoint(requests, { model: 'claude-before-register' })).toBeUndefined();
    expect(rx.spans().map((s) => s.name)).toContain('chat claude-after-register');
    expect(rx.spans().map((s) => s.name)).not.toContain('chat claude-before-register');
  });

  it('HEADROOM_OTEL_AMBIENT=0 keeps headroom-ts out of the application\'s providers', async () => {
    appOtel = registerAppProviders();
    h = await startHarness({ config: { otelAmbient: false } });
    expect((await ask(h.url, 'claude-no-ambient')).status).toBe(200);
    await delivered(1);
    await appOtel.flush();
    expect(rx.metrics().get('headroom.proxy.requests')).toBeUndefined();
    expect(rx.spans()).toEqual([]);
    expect(h.app.service('otel')!.metricsMode).toBe('off');
  });

  it('managed export is scoped to headroom-ts: the application\'s providers receive nothing from it', async () => {
    appOtel = registerAppProviders();
    const own = new OtlpReceiver();
    await own.start();
    try {
      h = await startHarness({
        config: {
          otelMetricsEnabled: true, otelMetricsEndpoint: `${own.url}/v1/metrics`, otelMetricsExportIntervalMs: 3_600_000,
          otelTracesEnabled: true, otelTracesEndpoint: `${own.url}/v1/traces`, otelTracesExportIntervalMs: 3_600_000,
        },
      });
      expect((await ask(h.url, 'claude-managed-only')).status).toBe(200);
      await delivered(1);
      await appOtel.flush();
      await h.app.service('otel')!.flush();
      expect(rx.metrics().get('headroom.proxy.requests')).toBeUndefined();
      expect(rx.spans()).toEqual([]);
      expect(sumPoint(own.metrics().get('headroom.proxy.requests')!, { model: 'claude-managed-only' })?.value).toBe(1);
      expect(own.spans().map((s) => s.name)).toContain('chat claude-managed-only');
      expect(own.spans()[0]!.resource['service.name']).toBe('headroom-proxy');
    } finally {
      await h?.close();
      h = null;
      await own.close();
    }
  });
});
