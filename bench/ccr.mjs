// npm run bench:ccr — what one proxy-side retrieval round adds to a request, measured on the
// built package against the mock upstream (in another process, no artificial latency).
// The same Anthropic agent turn (a ~12 KB search output, compressed with a marker) is sent
// sequentially: (a) the model answers directly (tool injected, not called) and (b) the model
// calls headroom_retrieve once, the proxy answers it and calls the mock again. The difference
// of the medians is the cost of one round: the store lookup, the follow-up body, a second
// upstream call and, for streams, the frame handling. Figures vary with the machine.
// JSON goes to bench/results/ccr.json.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configWith, createProxyApp } from '../dist/index.js';
import { generateOutput } from '../dist/mock/agent-outputs.js';
import { silentLogger } from '../dist/core/logger.js';
import { ROOT, startProcess } from './lib/servers.mjs';

const N = Number(process.env.BENCH_ITER ?? 300);
const KEY = 'sk-ant-bench-fake-key-000000000000';

const sample = generateOutput('search_json', 12_000, 42).text;
const body = (stream, first) => JSON.stringify({
  model: 'claude-sonnet-4-6', max_tokens: 512, stream,
  tools: [{ name: 'search', description: 'Search the docs', input_schema: { type: 'object', properties: { q: { type: 'string' } } } }],
  messages: [
    { role: 'user', content: first },
    { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'search', input: { q: 'x' } }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: sample }] },
  ],
});

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
const r2 = (n) => Math.round(n * 100) / 100;

async function run(url, stream, scenario) {
  const times = [];
  const raw = body(stream, `bench ${stream} ${scenario}`);
  for (let i = 0; i < N + 20; i++) {
    const t = performance.now();
    const res = await fetch(`${url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY, 'anthropic-version': '2023-06-01', 'x-mock-scenario': scenario },
      body: raw,
    });
    const text = await res.text();
    if (res.status !== 200 || text.includes('"tool_use"')) throw new Error(`unexpected response: ${res.status} ${text.slice(0, 200)}`);
    if (i >= 20) times.push(performance.now() - t);
  }
  return { p50: r2(pct(times, 0.5)), p90: r2(pct(times, 0.9)) };
}

const mock = await startProcess([join(ROOT, 'bench/servers/mock.mjs')]);
const workspace = mkdtempSync(join(tmpdir(), 'bench-ccr-'));
const app = await createProxyApp(configWith({ port: 0, anthropicApiUrl: mock.url, openaiApiUrl: mock.url, workspaceDir: workspace, logLevel: 'silent' }), { logger: silentLogger() });
const { url } = await app.listen();
const results = {};
try {
  for (const stream of [false, true]) {
    const direct = await run(url, stream, 'ok');
    const resolved = await run(url, stream, 'retrieve');
    const key = stream ? 'anthropic streaming' : 'anthropic non-streaming';
    results[key] = { direct, oneRetrievalRound: resolved, addedP50Ms: r2(resolved.p50 - direct.p50), ratioP50: r2(resolved.p50 / direct.p50) };
    console.log(`${key}: answered directly p50 ${direct.p50} ms (p90 ${direct.p90}); with one retrieval round p50 ${resolved.p50} ms (p90 ${resolved.p90}); +${results[key].addedP50Ms} ms (x${results[key].ratioP50})`);
  }
} finally {
  await app.close();
  await mock.stop();
  rmSync(workspace, { recursive: true, force: true });
}
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(join(ROOT, 'bench/results/ccr.json'), `${JSON.stringify({ iterations: N, results }, null, 2)}\n`);
