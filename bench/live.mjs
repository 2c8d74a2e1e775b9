// Per-request cost of the live-monitoring sink (start + 2 progress + outcome), measured on the
// built code (`npm run bench:live` builds first). Also: the cost of one SSE snapshot with 200
// requests in flight, and of one running-totals view. Figures are medians of 5 runs.
import { activeSnapshot } from '../dist/capabilities/live/views.js';
import { runningTotals } from '../dist/capabilities/live/totals.js';
import { LiveTracker } from '../dist/capabilities/live/tracker.js';
import { SseHub } from '../dist/capabilities/live/sse.js';
import { emptyCompression } from '../dist/core/outcome.js';

const N = Number(process.env.BENCH_N ?? 200_000);
const MODELS = ['claude-sonnet-5-5', 'claude-haiku-5-5', 'gpt-4o', 'gpt-4o-mini', 'kwaipilot/kat-coder-pro:free'];

function events(i) {
  const model = MODELS[i % MODELS.length];
  const provider = model.startsWith('claude') ? 'anthropic' : 'openai';
  const start = {
    kind: 'proxy', requestId: `hr_${i}`, startedAt: Date.now(), method: 'POST', path: '/v1/messages', provider, api: 'messages',
    requestedModel: model, stream: i % 2 === 0, bytesIn: 4000, messageCount: 12, tools: { definitions: 3, results: 1, calls: 0 },
    stack: null, project: null, client: 'claude-code', apiKeyHash: 'abcd', tags: {},
  };
  const p1 = { requestId: start.requestId, model, inputTokens: 1200, outputTokens: 1, cacheReadTokens: 1000, cacheWriteTokens: 0, toolCalls: 0, bytesOut: 300, ttfbMs: 200 };
  const p2 = { ...p1, outputTokens: 250, toolCalls: 1, bytesOut: 3000 };
  const ok = i % 10 !== 0;
  const outcome = {
    ...start, endedAt: start.startedAt + 900, model, status: ok ? 200 : 529, ok, errorType: ok ? null : 'upstream_overloaded',
    errorMessage: ok ? null : 'upstream returned HTTP 529', finishReason: 'end_turn', cached: false, modified: false, ext: {}, bytesOut: 3000,
    usage: { input: 1200, output: 250, uncached: 200, cacheRead: 1000, cacheWrite: 0, cacheWrite5m: 0, cacheWrite1h: 0, reasoning: 0, source: 'sse' },
    compression: emptyCompression(),
    timing: { totalMs: 900.12, overheadMs: 1.2, ttfbMs: 200, upstreamMs: 180, upstreamAttempts: 1, stagesMs: {} },
    tools: { definitions: 3, results: 1, calls: 1 },
  };
  return { start, p1, p2, outcome };
}

// Pre-build the events so that only the sink is timed.
const evs = Array.from({ length: N }, (_, i) => events(i));

function newTracker(withHub) {
  const t = new LiveTracker({ errorBuffer: 100, traceBuffer: 200, maxModels: 1000 });
  if (withHub) {
    const hub = new SseHub({ get version() { return t.version; }, snapshotJson: () => JSON.stringify(activeSnapshot(t)) },
      { minIntervalMs: 250, heartbeatMs: 30_000, retryMs: 2000, maxClients: 100, stallMs: 15_000 });
    t.onChange(() => hub.notify());
  }
  return t;
}

function runSink(withHub, concurrency) {
  const t = newTracker(withHub);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i += concurrency) {
    const batch = evs.slice(i, i + concurrency);
    for (const e of batch) t.start(e.start);
    for (const e of batch) t.progress(e.p1);
    for (const e of batch) t.progress(e.p2);
    for (const e of batch) t.outcome(e.outcome);
  }
  const ns = Number(process.hrtime.bigint() - t0);
  if (t.active.size !== 0) throw new Error('leak');
  return ns / N / 1000;
}

function runNoop() {
  const sink = { start() {}, progress() {}, outcome() {} };
  const t0 = process.hrtime.bigint();
  for (const e of evs) {
    sink.start(e.start);
    sink.progress(e.p1);
    sink.progress(e.p2);
    sink.outcome(e.outcome);
  }
  return Number(process.hrtime.bigint() - t0) / N / 1000;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const five = (fn) => median(Array.from({ length: 5 }, fn));

runSink(false, 1); // warm-up
const noop = five(runNoop);
const sequential = five(() => runSink(false, 1));
const concurrent = five(() => runSink(false, 200));
const withHub = five(() => runSink(true, 200));

// One SSE snapshot (serialised once per change, shared by all clients) with 200 in flight.
const t = newTracker(false);
for (let i = 0; i < 2_000; i++) { const e = evs[i]; t.start(e.start); t.outcome(e.outcome); }
for (let i = 2_000; i < 2_200; i++) { const e = evs[i]; t.start(e.start); t.progress(e.p1); }
const snapMs = five(() => { const t0 = process.hrtime.bigint(); for (let k = 0; k < 200; k++) JSON.stringify(activeSnapshot(t)); return Number(process.hrtime.bigint() - t0) / 200 / 1e6; });
const snapBytes = JSON.stringify(activeSnapshot(t)).length;
const q = { provider: null, model: null, providerPattern: null, modelPattern: null, includeActive: true };
const totalsMs = five(() => { const t0 = process.hrtime.bigint(); for (let k = 0; k < 200; k++) JSON.stringify(runningTotals(t, q)); return Number(process.hrtime.bigint() - t0) / 200 / 1e6; });


const f = (x, d = 2) => x.toFixed(d);
console.log(`live sink, ${N} requests (start + 2 progress + outcome each), median of 5 runs, node ${process.version}`);
console.log(`  no-op sink baseline                 ${f(noop, 3)} us/request`);
console.log(`  tracker, one request at a time      ${f(sequential)} us/request`);
console.log(`  tracker, 200 in flight              ${f(concurrent)} us/request`);
console.log(`  tracker + SSE hub (no clients)      ${f(withHub)} us/request`);
console.log(`  SSE snapshot, 200 active            ${f(snapMs, 3)} ms to build+serialise (${(snapBytes / 1024).toFixed(1)} KiB)`);
console.log(`  running totals view (5 models)      ${f(totalsMs, 3)} ms`);

