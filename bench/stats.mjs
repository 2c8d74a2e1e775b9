// npm run bench:stats — costs of the observability core, measured on the built package.
//   1. per-request recording cost: every sink of a default app (process stats, durable store
//      incl. its batched SQLite writes, metrics, request log off) per outcome, in microseconds;
//   2. GET /metrics scrape time after traffic over 200 models;
//   3. GET /stats-history (series=daily CSV and the full JSON) over a store of 100k events spread
//      over a year, both right after new data (re-aggregated) and unchanged (served from cache).
// Prints a table and a JSON summary. Figures vary with the machine; compare ratios.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configWith, createProxyApp } from '../dist/index.js';
import { silentLogger } from '../dist/core/logger.js';

const DAY = 86_400_000;
const now = Date.now();
let seq = 0;

function outcome(i, model, ts = now) {
  const uncached = 500 + (i % 700);
  const cacheRead = i % 3 === 0 ? 20_000 : 0;
  const cacheWrite = i % 5 === 0 ? 4_000 : 0;
  const saved = i % 2 ? 1_500 : 0;
  return {
    kind: 'proxy', requestId: `hr_bench_${++seq}`, startedAt: ts - 900, method: 'POST', path: '/v1/messages',
    provider: i % 4 === 0 ? 'openai' : 'anthropic', api: i % 4 === 0 ? 'chat' : 'messages', requestedModel: model, stream: i % 2 === 0,
    bytesIn: 40_000, messageCount: 12, tools: { definitions: 3, results: 1, calls: 0 }, stack: i % 3 ? 'wrap_claude' : null,
    project: `project-${i % 20}`, client: 'claude-code', apiKeyHash: `key${i % 4}`, tags: {}, endedAt: ts, model, status: 200, ok: true,
    errorType: null, errorMessage: null,
    usage: { input: uncached + cacheRead + cacheWrite, output: 300, uncached, cacheRead, cacheWrite, cacheWrite5m: cacheWrite, cacheWrite1h: 0, reasoning: 0, source: 'sse' },
    compression: { tokensBefore: uncached + cacheRead + cacheWrite + saved, tokensAfter: uncached + cacheRead + cacheWrite, tokensSaved: saved, newInputTokens: saved ? 3000 : 0, transforms: saved ? ['smart_crusher'] : [], timingsMs: saved ? { smart_crusher: 1.2 } : {}, error: null },
    timing: { totalMs: 900, overheadMs: 1.1, ttfbMs: 300, upstreamMs: 850, upstreamAttempts: 1, stagesMs: { compression: 1.3 } },
    bytesOut: 5000, finishReason: 'end_turn', cached: false, modified: saved > 0, ext: {},
  };
}

const MODELS = Array.from({ length: 200 }, (_, i) => (i % 2 ? `claude-sonnet-4-5-variant-${i}` : `gpt-4o-variant-${i}`));

async function app(dir, extra = {}) {
  const a = await createProxyApp(configWith({ port: 0, workspaceDir: dir, skipUpstreamCheck: true, logRequests: false, ...extra }), { logger: silentLogger() });
  const { url } = await a.listen();
  return { a, url, svc: a.service('stats') };
}

const stats = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  const q = (p) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
  return { median: q(0.5), p95: q(0.95), min: s[0] };
};

async function timeRequests(url, n, before = () => {}) {
  const times = [];
  for (let i = 0; i < n; i++) {
    before(i);
    const t0 = performance.now();
    const res = await fetch(url);
    await res.arrayBuffer();
    times.push(performance.now() - t0);
  }
  return stats(times);
}

const results = {};
const dir = mkdtempSync(join(tmpdir(), 'headroom-bench-'));
try {
  // 1. recording cost through the real funnel and sinks
  {
    const { a, svc } = await app(join(dir, 'rec'));
    const N = 20_000;
    const batch = Array.from({ length: N }, (_, i) => outcome(i, MODELS[i % 20]));
    for (const o of batch.slice(0, 2000)) a.funnel.emit(o); // warm-up
    a.funnel.flush();
    await svc.store.flush();
    const t0 = performance.now();
    for (const o of batch.slice(2000)) a.funnel.emit(o);
    a.funnel.flush();
    const tSinks = performance.now() - t0;
    const t1 = performance.now();
    await svc.store.flush();
    const tFlush = performance.now() - t1;
    const n = N - 2000;
    results.record_us_per_request_sinks = +((tSinks * 1000) / n).toFixed(2);
    results.record_us_per_request_store_write = +((tFlush * 1000) / n).toFixed(2);
    results.record_us_per_request_total = +(((tSinks + tFlush) * 1000) / n).toFixed(2);
    await a.close();
  }
  // 2. /metrics with 200 models
  {
    const { a, url } = await app(join(dir, 'metrics'));
    for (let i = 0; i < 10_000; i++) a.funnel.emit(outcome(i, MODELS[i % 200]));
    a.funnel.flush();
    const s = await timeRequests(`${url}/metrics`, 60);
    const body = await (await fetch(`${url}/metrics`)).text();
    results.metrics_scrape_ms = { ...s, bytes: body.length, series: body.split('\n').filter((l) => l && !l.startsWith('#')).length };
    await a.close();
  }
  // 3. /stats-history over 100k events spread over a year
  {
    const { a, url, svc } = await app(join(dir, 'history'));
    const N = 100_000;
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
      const o = outcome(i, MODELS[i % 12], now - Math.floor(((N - i) / N) * 364 * DAY));
      a.funnel.emit(o);
      if (i % 5000 === 4999) {
        a.funnel.flush();
        await svc.store.flush();
      }
    }
    a.funnel.flush();
    await svc.store.flush();
    results.history_load_100k_events_ms = +(performance.now() - t0).toFixed(0);
    // "changed": one new request recorded before each call, so every call re-aggregates (a dashboard polling during traffic)
    const change = (i) => a.funnel.emit(outcome(N + i, MODELS[i % 12]));
    results.stats_history_daily_csv_ms_changed = await timeRequests(`${url}/stats-history?format=csv&series=daily`, 30, (i) => { change(i); a.funnel.flush(); });
    results.stats_history_daily_csv_ms_unchanged = await timeRequests(`${url}/stats-history?format=csv&series=daily`, 30);
    results.stats_history_json_ms_changed = await timeRequests(`${url}/stats-history?series=daily`, 30, (i) => { change(100 + i); a.funnel.flush(); });
    results.stats_history_json_ms_unchanged = await timeRequests(`${url}/stats-history?series=daily`, 30);
    const json = await (await fetch(`${url}/stats-history`)).text();
    results.stats_history_json_bytes = json.length;
    results.stats_ms = await timeRequests(`${url}/stats`, 30);
    results.history_events = svc.store.eventCount();
    await a.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const fmt = (v) => (typeof v === 'object' ? `median ${v.median.toFixed(2)} ms, p95 ${v.p95.toFixed(2)} ms` : String(v));
console.log('headroom-ts stats benchmark');
for (const [k, v] of Object.entries(results)) console.log(`  ${k.padEnd(40)} ${fmt(v)}`);
console.log(JSON.stringify(results));
