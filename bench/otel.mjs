// npm run bench:otel — what OpenTelemetry costs per request (`npm run bench:otel` builds first).
//
// 1. The OTEL sink in-process, per outcome: the synchronous work the funnel runs after each
//    response (instruments + span building), and the total CPU including the export work
//    (OTLP JSON serialisation and HTTP to a collector in a child process), for: off (the
//    default), managed metrics, managed traces, everything (metrics + traces + Langfuse), and
//    ambient (an application's own providers).
// 2. End to end: CPU µs per request of the proxy process with OTEL off vs everything on, and
//    latency at a fixed rate with a healthy collector vs a collector that never answers.
import { metrics, trace } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configWith } from '../dist/config/index.js';
import { createLogger } from '../dist/core/logger.js';
import { OtelRuntime } from '../dist/capabilities/otel/runtime.js';
import { accountingOf } from '../dist/capabilities/stats/accounting.js';
import { emptyCompression } from '../dist/core/outcome.js';
import { cpuMicros } from './lib/cpu.mjs';
import { fixedRate, throughput } from './lib/load.mjs';
import { startProcess } from './lib/servers.mjs';

const N = Number(process.env.BENCH_N ?? 20_000);
const DURATION = Number(process.env.BENCH_DURATION ?? 8);
const MODELS = ['claude-sonnet-5-5', 'claude-haiku-5-5', 'gpt-4o', 'gpt-4o-mini', 'kwaipilot/kat-coder-pro:free'];
const f = (x, d = 2) => x.toFixed(d);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function outcomeFor(i) {
  const model = MODELS[i % MODELS.length];
  const provider = model.startsWith('claude') ? 'anthropic' : 'openai';
  const startedAt = Date.now() - 1000;
  const ok = i % 20 !== 0;
  const compressedRun = i % 2 === 0;
  return {
    kind: 'proxy', requestId: `hr_${i}`, startedAt, method: 'POST', path: provider === 'anthropic' ? '/v1/messages' : '/v1/chat/completions',
    provider, api: provider === 'anthropic' ? 'messages' : 'chat', requestedModel: model, stream: i % 3 !== 0, bytesIn: 40_000, messageCount: 24,
    tools: { definitions: 12, results: 1, calls: 1 }, stack: 'wrap_claude', project: 'bench', client: 'claude-code', apiKeyHash: 'abcd', tags: {},
    endedAt: startedAt + 900, model, status: ok ? 200 : 529, ok, errorType: ok ? null : 'upstream_overloaded', errorMessage: ok ? null : 'upstream returned HTTP 529',
    usage: ok ? { input: 12_000, output: 250, uncached: 1_000, cacheRead: 10_500, cacheWrite: 500, cacheWrite5m: 500, cacheWrite1h: 0, reasoning: 0, source: 'sse' } : null,
    compression: compressedRun
      ? { tokensBefore: 15_000, tokensAfter: 12_000, tokensSaved: 3_000, newInputTokens: 4_000, transforms: ['log_compressor', 'json_crusher'], timingsMs: { log_compressor: 1.2, json_crusher: 0.8 }, error: null }
      : emptyCompression(),
    timing: {
      totalMs: 900.12, overheadMs: 1.2, ttfbMs: 200, upstreamMs: 180, upstreamAttempts: 1, stagesMs: { compression: 2.1 },
      upstreamCalls: [{ attempt: 1, startedAt: startedAt + 3, durationMs: 180, status: ok ? 200 : 529, error: null }],
    },
    bytesOut: 3000, finishReason: 'end_turn', cached: false, modified: compressedRun, ext: {}, traceparent: null, tracestate: null,
  };
}
const outcomes = Array.from({ length: N }, (_, i) => outcomeFor(i));
const log = createLogger({ level: 'silent' });

function appProviders(url) {
  const meterProvider = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter({ url: `${url}/v1/metrics` }), exportIntervalMillis: 1000 })] });
  const tracerProvider = new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${url}/v1/traces` }), scheduledDelayMillis: 200 })] });
  metrics.setGlobalMeterProvider(meterProvider);
  trace.setGlobalTracerProvider(tracerProvider);
  return { async close() { await meterProvider.shutdown(); await tracerProvider.shutdown(); metrics.disable(); trace.disable(); } };
}

/** Feeds every outcome through the runtime, 50 at a time (timers and exports run between batches, as between requests). */
async function feed(rt) {
  let syncNs = 0n;
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < N; i += 50) {
    const t0 = process.hrtime.bigint();
    for (let k = i; k < i + 50 && k < N; k++) rt.record(outcomes[k], accountingOf(outcomes[k]));
    syncNs += process.hrtime.bigint() - t0;
    await new Promise((r) => setImmediate(r));
  }
  await rt.flush();
  const cpu = process.cpuUsage(cpu0);
  return { syncUs: Number(syncNs) / N / 1000, cpuUs: (cpu.user + cpu.system) / N };
}

async function micro(sinkUrl) {
  const common = { otelMetricsExportIntervalMs: 1000, otelTracesExportIntervalMs: 200 };
  const scenarios = {
    'off (default)': {},
    'managed metrics': { otelMetricsEnabled: true, otelMetricsEndpoint: `${sinkUrl}/v1/metrics` },
    'managed traces': { otelTracesEnabled: true, otelTracesEndpoint: `${sinkUrl}/v1/traces` },
    'metrics + traces + Langfuse': {
      otelMetricsEnabled: true, otelMetricsEndpoint: `${sinkUrl}/v1/metrics`, otelTracesEnabled: true, otelTracesEndpoint: `${sinkUrl}/v1/traces`,
      langfuseEnabled: true, langfusePublicKey: 'pk-lf-bench', langfuseSecretKey: 'sk-lf-bench', langfuseBaseUrl: sinkUrl,
    },
    'ambient (application providers)': 'ambient',
  };
  const rows = [];
  for (const [name, overrides] of Object.entries(scenarios)) {
    const runs = [];
    for (let round = 0; round < 3; round++) {
      const app = overrides === 'ambient' ? appProviders(sinkUrl) : null;
      const rt = new OtelRuntime(configWith({ ...common, ...(overrides === 'ambient' ? {} : overrides) }), log, null);
      await feed(rt); // warm-up pass
      const r = await feed(rt);
      const spans = rt.spansOf('otel') + rt.spansOf('langfuse') + rt.ambientSpans;
      const stats = [rt.managedTraces?.stats, rt.langfuseStats].filter(Boolean);
      r.spansPerOutcome = spans / (2 * N);
      r.exportedShare = stats.length ? stats.reduce((s, x) => s + x.itemsExported, 0) / Math.max(1, spans) : null;
      await rt.shutdown();
      await app?.close();
      runs.push(r);
    }
    rows.push({ name, syncUs: median(runs.map((r) => r.syncUs)), cpuUs: median(runs.map((r) => r.cpuUs)), spans: runs[0].spansPerOutcome, exported: runs[0].exportedShare });
  }
  return rows;
}

async function endToEnd(sinkUrl, hangUrl, mockUrl) {
  const body = JSON.stringify({ model: 'claude-haiku-5-5', max_tokens: 16, messages: [{ role: 'user', content: 'ping' }] });
  const req = { path: '/v1/messages', body, headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-bench-fake-key-000000', 'anthropic-version': '2023-06-01' } };
  const everything = (url) => ({
    HEADROOM_OTEL_METRICS_ENABLED: '1', HEADROOM_OTEL_METRICS_ENDPOINT: `${url}/v1/metrics`, HEADROOM_OTEL_METRICS_EXPORT_INTERVAL_MS: '1000',
    HEADROOM_OTEL_TRACES_ENABLED: '1', HEADROOM_OTEL_TRACES_ENDPOINT: `${url}/v1/traces`, HEADROOM_OTEL_TRACES_EXPORT_INTERVAL_MS: '200',
    HEADROOM_LANGFUSE_ENABLED: '1', LANGFUSE_PUBLIC_KEY: 'pk-lf-bench', LANGFUSE_SECRET_KEY: 'sk-lf-bench', LANGFUSE_BASE_URL: url,
    HEADROOM_OTEL_EXPORT_TIMEOUT_MS: '2000',
  });
  const variants = { 'OTEL off': {}, 'OTEL everything, healthy collector': everything(sinkUrl), 'OTEL everything, hanging collector': everything(hangUrl) };
  const rows = [];
  for (const [name, env] of Object.entries(variants)) {
    const proxy = await startProcess(['dist/cli/main.js', 'proxy', '--port', '0', '--anthropic-api-url', mockUrl], {
      HEADROOM_WORKSPACE_DIR: join(tmpdir(), `headroom-bench-otel-${process.pid}-${rows.length}`), HEADROOM_LOG_LEVEL: 'info', ...env,
    });
    try {
      await throughput(proxy.url, { ...req, duration: 2 }); // warm-up
      const c0 = cpuMicros(proxy.child.pid);
      const tp = await throughput(proxy.url, { ...req, duration: DURATION });
      const cpuUs = (cpuMicros(proxy.child.pid) - c0) / tp.total;
      const fr = await fixedRate(proxy.url, { ...req, duration: DURATION, rate: 300 });
      rows.push({ name, rps: tp.rps, cpuUs, p50: fr.p50, p99: fr.p99, errors: tp.errors + fr.errors });
    } finally {
      await proxy.stop();
    }
  }
  return rows;
}

const sink = await startProcess(['bench/servers/otlp-sink.mjs']);
const hang = await startProcess(['bench/servers/otlp-sink.mjs'], { MODE: 'hang' });
const mock = await startProcess(['bench/servers/mock.mjs']);
try {
  const m = await micro(sink.url);
  console.log(`OTEL sink, ${N} outcomes per run (half with a compression run, all with one upstream call), median of 3 runs, node ${process.version}`);
  console.log('| scenario | sync µs/outcome (funnel) | CPU µs/outcome incl. export | spans/outcome | spans exported |');
  console.log('|---|---|---|---|---|');
  for (const r of m) console.log(`| ${r.name} | ${f(r.syncUs)} | ${f(r.cpuUs)} | ${f(r.spans, 1)} | ${r.exported === null ? '-' : `${f(r.exported * 100, 1)}%`} |`);
  if (process.env.BENCH_OTEL_E2E !== '0') {
    const e = await endToEnd(sink.url, hang.url, mock.url);
    console.log(`\nProxy end to end: req/s and CPU µs/request at 50 connections (${DURATION}s), latency at a fixed 300 req/s`);
    console.log('| proxy | req/s | CPU µs/req | p50 ms @300/s | p99 ms @300/s | errors |');
    console.log('|---|---|---|---|---|---|');
    for (const r of e) console.log(`| ${r.name} | ${Math.round(r.rps)} | ${Math.round(r.cpuUs)} | ${f(r.p50, 3)} | ${f(r.p99, 3)} | ${r.errors} |`);
  }
} finally {
  await Promise.all([sink.stop(), hang.stop(), mock.stop()]);
}
