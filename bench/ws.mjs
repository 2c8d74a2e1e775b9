// npm run bench:ws — a 20-turn Codex-style session over the Responses WebSocket (each turn
// answers the model's tool call with an agent tool output of 8-40 KB, continued with
// previous_response_id), sent direct to the mock upstream's WebSocket and again through the
// proxy, side by side in one run: bytes sent upstream, input tokens and cached tokens as the
// mock's prompt-cache model reports them (about 4 bytes a token), and the wall time of a turn
// (median and p95), as a ratio proxy / direct. Deterministic token figures; times vary with the
// machine. JSON goes to bench/results/ws.json.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { configWith, createProxyApp } from '../dist/index.js';
import { generateOutput, OUTPUT_TYPES } from '../dist/mock/agent-outputs.js';
import { MockUpstream } from '../dist/mock/upstream.js';
import { silentLogger } from '../dist/core/logger.js';
import { ROOT } from './lib/servers.mjs';

const TURNS = 20;
const tools = [{ type: 'function', name: 'search', description: 'Search the workspace', parameters: { type: 'object', properties: { query: { type: 'string' } } } }];
const instructions = 'You are a coding agent working in a large repository. Follow the house rules. '.repeat(60);
const types = OUTPUT_TYPES.filter((t) => t !== 'prose');

function open(url) {
  const ws = new WebSocket(url, { headers: { authorization: 'Bearer sk-bench-fake-key-000000000000' } });
  let waiter = null;
  ws.on('message', (data) => {
    const e = JSON.parse(String(data));
    if (waiter && (e.type === 'response.completed' || e.type === 'error')) {
      const w = waiter;
      waiter = null;
      w(e);
    }
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, turn: (msg) => new Promise((r) => { waiter = r; ws.send(JSON.stringify(msg)); }) }));
    ws.once('error', reject);
  });
}

async function session(url) {
  const c = await open(url);
  const times = [];
  const usage = [];
  let prev = null;
  let input = [{ role: 'user', content: 'Find why the nightly build fails and fix it.' }];
  for (let i = 0; i < TURNS; i++) {
    const t0 = performance.now();
    const e = await c.turn({ type: 'response.create', model: 'gpt-4o', instructions, tools, ...(prev ? { previous_response_id: prev } : {}), input });
    times.push(performance.now() - t0);
    if (e.type !== 'response.completed') throw new Error(`turn ${i + 1}: ${JSON.stringify(e).slice(0, 200)}`);
    usage.push(e.response.usage);
    prev = e.response.id;
    const call = e.response.output.find((o) => o.type === 'function_call');
    const out = generateOutput(types[i % types.length], 8_000 + ((i * 7919) % 32_000), i + 1).text;
    input = call ? [{ type: 'function_call_output', call_id: call.call_id, output: out }] : [{ role: 'user', content: `Continue (${i}).` }];
  }
  c.ws.close(1000);
  return { times, usage };
}

const q = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
const int = (n) => Math.round(n).toLocaleString('en-US');

const mock = new MockUpstream();
await mock.start();
const workspace = mkdtempSync(join(tmpdir(), 'bench-ws-'));
const app = await createProxyApp(configWith({ port: 0, openaiApiUrl: mock.url, anthropicApiUrl: mock.url, workspaceDir: workspace, logLevel: 'silent' }), { logger: silentLogger() });
const { url } = await app.listen();
await Promise.all(app.warming);
const rows = {};
try {
  // a warm-up session each way, then the measured ones
  for (const [name, base] of [['direct', mock.url], ['proxy', url]]) await session(`${base.replace(/^http/, 'ws')}/v1/responses`);
  for (const [name, base] of [['direct', mock.url], ['proxy', url]]) {
    mock.reset();
    const { times, usage } = await session(`${base.replace(/^http/, 'ws')}/v1/responses`);
    const sent = mock.ws.last.received.reduce((a, b) => a + b.length, 0);
    rows[name] = {
      bytes_sent_upstream: sent,
      input_tokens: usage.reduce((a, u) => a + u.input_tokens, 0),
      cached_tokens: usage.reduce((a, u) => a + u.input_tokens_details.cached_tokens, 0),
      turn_ms_p50: q(times, 0.5),
      turn_ms_p95: q(times, 0.95),
    };
  }
} finally {
  await app.close();
  await mock.close();
  rmSync(workspace, { recursive: true, force: true });
}
const d = rows.direct;
const p = rows.proxy;
console.log(`${TURNS}-turn Responses WebSocket session, direct to the mock vs through the proxy\n`);
console.log('                      direct        proxy    proxy/direct');
for (const [label, key] of [['bytes sent upstream', 'bytes_sent_upstream'], ['input tokens', 'input_tokens'], ['cached tokens', 'cached_tokens']]) {
  console.log(`${label.padEnd(20)} ${int(d[key]).padStart(10)} ${int(p[key]).padStart(12)}    ${(p[key] / d[key]).toFixed(3)}`);
}
for (const [label, key] of [['turn ms (p50)', 'turn_ms_p50'], ['turn ms (p95)', 'turn_ms_p95']]) {
  console.log(`${label.padEnd(20)} ${d[key].toFixed(2).padStart(10)} ${p[key].toFixed(2).padStart(12)}    ${(p[key] / d[key]).toFixed(3)}`);
}
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(join(ROOT, 'bench/results/ws.json'), JSON.stringify({ turns: TURNS, direct: d, proxy: p }, null, 2));
