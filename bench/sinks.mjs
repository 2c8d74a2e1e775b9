// npm run bench:sinks — what each outcome sink costs per request, in process: the proxy App
// with every capability, one real request through the mock to get a real outcome, then
// copies of it delivered through the funnel, sink by sink (CPU µs per outcome, and the
// bytes each allocates). Reads the funnel's sink list (an internal) to time sinks one by one.
// The production logger writes its lines to stdout as in the proxy; the table goes to stderr
// (run it as `npm run bench:sinks > /dev/null`).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProxyApp } from '../dist/compose/proxy.js';
import { configWith } from '../dist/config/index.js';
import { createLogger } from '../dist/core/logger.js';
import { MockUpstream } from '../dist/mock/upstream.js';
import { accountingOf } from '../dist/capabilities/stats/accounting.js';

const N = Number(process.env.BENCH_OUTCOMES ?? 20_000);
const mock = new MockUpstream({ record: false });
await mock.start();
const workspace = mkdtempSync(join(tmpdir(), 'headroom-sinks-'));
const config = configWith({ port: 0, anthropicApiUrl: mock.url, openaiApiUrl: mock.url, workspaceDir: workspace, logLevel: 'info' });
// the production logger: to stdout, buffered, asynchronous
const logger = createLogger({ level: 'info' });
const app = await createProxyApp(config, { logger });
let captured = null;
app.addSink({ name: 'capture', outcome: (o) => void (captured ??= o) });
const { url } = await app.listen();
await Promise.all(app.warming);
const body = JSON.stringify({ model: 'claude-haiku-5-5', max_tokens: 16, messages: [{ role: 'user', content: 'ping' }] });
const res = await fetch(`${url}/v1/messages`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-bench-fake-key-000000', 'anthropic-version': '2023-06-01' } });
await res.arrayBuffer();
while (!captured) await new Promise((r) => setImmediate(r));
app.funnel.flush();

const slots = app.funnel.slots.filter((s) => s.sink.outcome && s.sink.name !== 'capture');
const annotators = app.funnel.annotators;
const copies = (n) => Array.from({ length: n }, (_, i) => ({ ...structuredClone(captured), requestId: `bench-${i}`, ext: structuredClone(captured.ext) }));
const cpu = () => { const u = process.cpuUsage(); return u.user + u.system; };

function measure(name, fn) {
  const outs = copies(N);
  fn(outs.slice(0, 2000)); // warm up
  const more = copies(N);
  global.gc?.();
  const h0 = process.memoryUsage().heapUsed;
  const c0 = cpu();
  fn(more);
  const us = (cpu() - c0) / N;
  const bytes = (process.memoryUsage().heapUsed - h0) / N;
  return { name, us, bytes };
}

const rows = [];
rows.push(measure('annotators', (outs) => { for (const o of outs) for (const a of annotators) a.annotate(o); }));
rows.push(measure('accountingOf (shared, memoised)', (outs) => { for (const o of outs) { for (const a of annotators) a.annotate(o); accountingOf(o); } }));
for (const slot of slots) {
  rows.push(measure(slot.sink.name, (outs) => {
    for (const o of outs) {
      for (const a of annotators) a.annotate(o);
      slot.sink.outcome(o);
    }
  }));
}
rows.push(measure('all (funnel delivery)', (outs) => { for (const o of outs) app.funnel.emit(o); app.funnel.flush(); }));
const ann = rows[0].us;
console.error(`Per outcome, ${N} outcomes each (${process.version}); a sink's figure excludes the annotators (${ann.toFixed(2)} µs):\n`);
console.error('| sink | CPU µs/outcome | heap bytes/outcome (not yet collected) |\n|---|---|---|');
for (const r of rows) console.error(`| ${r.name} | ${(r.name === 'annotators' || r.name.startsWith('all') ? r.us : r.us - ann).toFixed(2)} | ${Math.round(r.bytes)} |`);
await app.close();
await mock.close();
rmSync(workspace, { recursive: true, force: true });
