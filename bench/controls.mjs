// npm run bench:controls — per-request cost of the control stages (rate limit, response cache,
// budget), measured on the built package.
//   1. In process: each stage's work per request (before the upstream call, plus the
//      settlement when the outcome arrives), in microseconds, for a small chat request (~1 KB)
//      and an agent turn with tool output (~80 KB); plus the budget's occasional SQLite work
//      (a lease-growth transaction, a batched flush) and what it adds per request at 1,000 req/s.
//   2. End to end: CPU time of a proxy process per request (autocannon, mock upstream) with
//      the controls off, with budget + rate limits on, and with every request a cache hit.
// Figures vary with the machine; compare ratios. JSON goes to bench/results/controls.json.
import { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { configWith, createProxyApp } from '../dist/index.js';
import { Exchange } from '../dist/capabilities/proxy/exchange.js';
import { resolveProviderRoute } from '../dist/providers/routes.js';
import { silentLogger } from '../dist/core/logger.js';
import { cpuMicros } from './lib/cpu.mjs';
import { throughput } from './lib/load.mjs';
import { ROOT, startProcess } from './lib/servers.mjs';

const ITER = Number(process.env.BENCH_ITER ?? 20_000);
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const KEY = 'sk-ant-bench-fake-key-000000000000';

function bodies() {
  const small = { model: 'claude-sonnet-4-6', max_tokens: 1024, system: 'You are a careful coding agent.', messages: [{ role: 'user', content: 'Fix the failing test in src/date.ts and explain the change. '.repeat(12) }] };
  const log = Array.from({ length: 1200 }, (_, i) => `2026-03-10T12:00:${String(i % 60).padStart(2, '0')}Z INFO worker-${i % 8} processed job ${i} in ${(i * 7) % 900} ms`).join('\n');
  const agent = {
    model: 'claude-sonnet-4-6', max_tokens: 8192, temperature: 0,
    system: [{ type: 'text', text: 'You are Claude Code. '.repeat(80), cache_control: { type: 'ephemeral' } }],
    tools: Array.from({ length: 12 }, (_, i) => ({ name: `tool_${i}`, description: 'A tool. '.repeat(20), input_schema: { type: 'object', properties: { path: { type: 'string' }, query: { type: 'string' } } } })),
    messages: [
      { role: 'user', content: 'Why is the nightly job slow?' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'tool_1', input: { path: '/var/log/jobs.log' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: log }] },
    ],
  };
  return { 'chat ~1 KB': small, 'agent turn ~80 KB': agent };
}

/** A synthetic exchange as the proxy handler builds it (body read and parsed), without sockets. */
function exchangeFor(app, json, raw) {
  const headers = { 'x-api-key': KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' };
  const req = { headers, method: 'POST', socket: { remoteAddress: '127.0.0.1' }, rawHeaders: [] };
  const res = new EventEmitter();
  res.setHeader = () => {};
  res.destroyed = false;
  res.headersSent = false;
  const route = resolveProviderRoute('POST', '/v1/messages', headers);
  const ex = new Exchange(app, req, res, route, '/v1/messages', '', null);
  ex.body = raw;
  ex.json = json;
  ex.setFacts(route.adapter.describeRequest(json));
  return ex;
}

function outcomeFor(ex) {
  const u = { input: 30_000, output: 400, uncached: 2_000, cacheRead: 28_000, cacheWrite: 0, cacheWrite5m: 0, cacheWrite1h: 0, reasoning: 0, source: 'sse' };
  return {
    ...ex.info, endedAt: Date.now(), model: ex.info.requestedModel, status: 200, ok: true, errorType: null, errorMessage: null, usage: u,
    compression: { tokensBefore: 0, tokensAfter: 0, tokensSaved: 0, newInputTokens: 0, transforms: [], timingsMs: {}, error: null },
    timing: { totalMs: 1, overheadMs: 0.1, ttfbMs: 1, upstreamMs: 1, upstreamAttempts: 1, stagesMs: {}, upstreamCalls: [] },
    bytesOut: 1000, finishReason: 'end_turn', cached: false, modified: false, ext: {},
  };
}

function prepared(app, json, raw) {
  const ex = exchangeFor(app, json, raw);
  return [ex, outcomeFor(ex)];
}

async function appWith(config) {
  const dir = mkdtempSync(join(tmpdir(), 'headroom-bench-controls-'));
  const app = await createProxyApp(configWith({ port: 0, workspaceDir: dir, logRequests: false, skipUpstreamCheck: true, ...config }), { logger: silentLogger() });
  return { app, dir, controls: app.service('controls') };
}

const fmt = (n, d = 1) => n.toFixed(d);

/**
 * µs per call of `fn(item)`: items are prepared a batch at a time outside the timing, the heap
 * is collected before each timed batch (run with --expose-gc) so that garbage made by the
 * preparation is not billed to the stage, and the median batch mean is reported.
 */
function timeIt(fn, prepare, n = ITER, batch = 500) {
  const warmup = 2000;
  const means = [];
  for (let done = 0; done < n + warmup; done += batch) {
    const items = Array.from({ length: batch }, (_, i) => prepare(done + i));
    globalThis.gc?.();
    const t = performance.now();
    for (const item of items) fn(item);
    if (done >= warmup) means.push(((performance.now() - t) / batch) * 1000);
  }
  return means.sort((a, b) => a - b)[Math.floor(means.length / 2)];
}

async function inProcess() {
  const rows = [];
  for (const [name, json] of Object.entries(bodies())) {
    const raw = Buffer.from(JSON.stringify(json));
    const row = { body: name, bytes: raw.length };

    {
      const { app, dir, controls } = await appWith({ rpm: 1e9, tpm: 1e12 });
      const lim = controls.limiter;
      row.rateLimitUs = timeIt(([ex, o]) => {
        if (lim.beforeUpstream(ex)) throw new Error('refused');
        lim.settle(o);
      }, () => prepared(app, json, raw));
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
    {
      const { app, dir, controls } = await appWith({ cache: true, cacheMaxEntries: 100, cacheMaxBytes: 1024 ** 3 });
      const cache = controls.cache;
      const completed = { status: 200, headers: { 'content-type': 'application/json', 'request-id': 'req_1' }, body: Buffer.alloc(2000, 120) };
      // miss: a distinct request each time (max_tokens varies), then its response is stored
      row.cacheMissUs = timeIt((ex) => {
        if (cache.beforeUpstream(ex)) throw new Error('unexpected hit');
        cache.afterResponse(ex, completed);
      }, (i) => exchangeFor(app, { ...json, max_tokens: 1_000_000 + i }, raw));
      const first = exchangeFor(app, json, raw);
      cache.beforeUpstream(first);
      cache.afterResponse(first, completed);
      row.cacheHitUs = timeIt((ex) => {
        if (!cache.beforeUpstream(ex)?.cached) throw new Error('expected a hit');
      }, () => exchangeFor(app, json, raw));
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
    {
      const { app, dir, controls } = await appWith({ budget: 1e9, budgetPerKey: 1e9 });
      const budget = controls.budget;
      // the request path: estimate, reserve (in memory, from the lease), headers; then settle
      row.budgetUs = timeIt(([ex, o]) => {
        if (budget.beforeUpstream(ex)) throw new Error('refused');
        budget.settle(o);
      }, () => prepared(app, json, raw));
      // the occasional SQLite work: a flush of settled spend, and the lease growth that follows it
      const flushes = [];
      const grows = [];
      for (let i = 0; i < 300; i++) {
        for (let j = 0; j < 100; j++) {
          const e = exchangeFor(app, json, raw);
          budget.beforeUpstream(e);
          budget.settle(outcomeFor(e));
        }
        let t = performance.now();
        budget.ledger.flush();
        flushes.push(performance.now() - t);
        const [e1, e2] = [exchangeFor(app, json, raw), exchangeFor(app, json, raw)];
        t = performance.now();
        budget.beforeUpstream(e1); // the lease was returned at the flush: this one grows it
        const t1 = performance.now() - t;
        t = performance.now();
        budget.beforeUpstream(e2); // served from the spare the growth took
        grows.push(t1 - (performance.now() - t));
        budget.settle(outcomeFor(e1));
        budget.settle(outcomeFor(e2));
      }
      const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] * 1000;
      row.budgetFlushUs = med(flushes);
      row.budgetGrowUs = med(grows);
      // at 1,000 req/s with the 250 ms flush interval: 4 flushes and 4 lease growths per second
      row.budgetAmortisedUs = row.budgetUs + (4 * (row.budgetFlushUs + row.budgetGrowUs)) / 1000;
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
    rows.push(row);
  }
  return rows;
}

async function endToEnd() {
  const mock = await startProcess(['bench/servers/mock.mjs']);
  const body = JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user', content: 'ping' }] });
  const req = { path: '/v1/messages', body, headers: { 'content-type': 'application/json', 'x-api-key': KEY, 'anthropic-version': '2023-06-01' } };
  const setups = {
    'controls off': [],
    'budget + rate limits': ['--budget', '1000000', '--budget-per-key', '1000000', '--rpm', '100000000', '--tpm', '1000000000000'],
    'response cache (all hits)': ['--cache'],
  };
  const rows = [];
  try {
    for (const [name, flags] of Object.entries(setups)) {
      const workspace = mkdtempSync(join(tmpdir(), 'headroom-bench-controls-e2e-'));
      const proxy = await startProcess(['dist/cli/main.js', 'proxy', '--port', '0', '--anthropic-api-url', mock.url, ...flags], { HEADROOM_WORKSPACE_DIR: workspace, HEADROOM_LOG_LEVEL: 'info' });
      try {
        await throughput(proxy.url, { ...req, duration: 2 });
        const c0 = cpuMicros(proxy.child.pid);
        const r = await throughput(proxy.url, { ...req, duration: DURATION });
        rows.push({ setup: name, rps: r.rps, p50: r.p50, p99: r.p99, errors: r.errors, cpuUs: (cpuMicros(proxy.child.pid) - c0) / r.total });
      } finally {
        await proxy.stop();
        rmSync(workspace, { recursive: true, force: true });
      }
    }
  } finally {
    await mock.stop();
  }
  return rows;
}

const stage = await inProcess();
const e2e = await endToEnd();
const base = e2e[0];
console.log(`Machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}; ${ITER} iterations per figure, ${DURATION}s per end-to-end run.`);
console.log('');
console.log('Per request, in process (µs; before-upstream work + settlement of the outcome):');
console.log('');
console.log('| body | bytes | rate limit (RPM+TPM) | cache miss + store | cache hit | budget (reserve + settle) | budget flush (per batch) | lease growth (per txn) | budget amortised @1k req/s |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of stage) {
  console.log(`| ${r.body} | ${r.bytes} | ${fmt(r.rateLimitUs)} | ${fmt(r.cacheMissUs)} | ${fmt(r.cacheHitUs)} | ${fmt(r.budgetUs)} | ${fmt(r.budgetFlushUs)} | ${fmt(r.budgetGrowUs)} | ${fmt(r.budgetAmortisedUs)} |`);
}
console.log('');
console.log('End to end (proxy process CPU per request, 50 connections, tiny request):');
console.log('');
console.log('| setup | req/s | CPU µs/req | vs off | p50 ms | p99 ms | errors |');
console.log('|---|---|---|---|---|---|---|');
for (const r of e2e) {
  console.log(`| ${r.setup} | ${Math.round(r.rps)} | ${Math.round(r.cpuUs)} | ${r === base ? '-' : `${r.cpuUs >= base.cpuUs ? '+' : ''}${Math.round(r.cpuUs - base.cpuUs)}`} | ${r.p50} | ${r.p99} | ${r.errors} |`);
}
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(join(ROOT, 'bench/results/controls.json'), JSON.stringify({ date: new Date().toISOString(), stage, e2e }, null, 2));
