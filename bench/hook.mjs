#!/usr/bin/env node
/**
 * Hook benchmark: `npm run bench:hook` (builds first).
 *
 * Starts `headroom-ts hook` as a child process (2 workers) and posts the 400-entry file-listing
 * envelope (src/mock/file-listing.ts: an agent turn whose newest tool result is
 * `find . -type f` over a TypeScript service) the way Aperture does. Reports the size
 * reduction (messages bytes, request_body bytes, tokens) and client-observed latency: warm
 * sequential p50/p90/p99 (plain, gzip response, zstd-free gzip request), and p50 with 8
 * requests in flight. Goal: warm p50 <= 5 ms and >= 40% smaller. Results: stdout (Markdown)
 * and bench/results/hook.json.
 *
 * Options: --quick (fewer runs)
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { fileListingEnvelope } = await import(join(root, 'dist/mock/file-listing.js'));
const quick = process.argv.includes('--quick');
const RUNS = quick ? 200 : 1000;
const WARMUP = 50;

function startHook(workspace) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'dist/cli/main.js'), 'hook', '--hook-port', '0', '--hook-pool-size', '2', '--workspace-dir', workspace], {
      cwd: root, stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d.toString();
      const m = /listening on (http:\/\/[0-9.:]+)/.exec(err);
      if (m) resolve({ url: m[1], child });
    });
    child.once('exit', (code) => reject(new Error(`hook exited with ${code}: ${err.slice(-500)}`)));
    setTimeout(() => reject(new Error(`hook did not start: ${err.slice(-500)}`)), 30_000).unref();
  });
}

const agent = new (await import('node:http')).Agent({ keepAlive: true, maxSockets: 16 });
function post(url, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request(`${url}/`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length, ...headers } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ ms: performance.now() - t0, status: res.statusCode, body: Buffer.concat(chunks), headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const r2 = (n) => Math.round(n * 100) / 100;

async function sequential(url, body, headers, runs) {
  for (let i = 0; i < WARMUP; i++) await post(url, body, headers);
  const ms = [];
  for (let i = 0; i < runs; i++) ms.push((await post(url, body, headers)).ms);
  return { p50: r2(pct(ms, 50)), p90: r2(pct(ms, 90)), p99: r2(pct(ms, 99)) };
}

async function concurrent(url, body, inFlight, runs) {
  const ms = [];
  let left = runs;
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (left-- > 0) ms.push((await post(url, body)).ms);
  }));
  return { p50: r2(pct(ms, 50)), p99: r2(pct(ms, 99)), rps: null };
}

const workspace = mkdtempSync(join(tmpdir(), 'headroom-bench-hook-'));
const { url, child } = await startHook(workspace);
try {
  // wait for the workers
  for (let i = 0; i < 300; i++) {
    const h = await fetch(`${url}/health`).then((r) => r.json()).catch(() => null);
    if (h?.ready && h.checks.hook.pool.ready === h.checks.hook.pool.slots) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const env = fileListingEnvelope(400);
  const body = Buffer.from(JSON.stringify(env));
  const first = await post(url, body);
  const out = JSON.parse(first.body.toString());
  if (out.action !== 'modify') throw new Error(`expected modify, got ${first.body.toString().slice(0, 200)}`);
  const msgsIn = Buffer.byteLength(JSON.stringify(env.request_body.messages));
  const msgsOut = Buffer.byteLength(JSON.stringify(out.request_body.messages));
  const rbIn = Buffer.byteLength(JSON.stringify(env.request_body));
  const rbOut = Buffer.byteLength(JSON.stringify(out.request_body));
  const plain = await sequential(url, body, {}, RUNS);
  const gzResp = await sequential(url, body, { 'accept-encoding': 'gzip' }, Math.round(RUNS / 2));
  const gzBody = gzipSync(body);
  const gzReq = await sequential(url, gzBody, { 'content-encoding': 'gzip' }, Math.round(RUNS / 2));
  const conc = await concurrent(url, body, 8, RUNS);
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const get = (name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
  const tokensIn = get('headroom_tokens_input_total');
  const tokensSaved = get('headroom_tokens_saved_total');
  const result = {
    envelope_bytes: body.length,
    gzip_envelope_bytes: gzBody.length,
    messages_bytes: { before: msgsIn, after: msgsOut, smaller_pct: r2((1 - msgsOut / msgsIn) * 100) },
    request_body_bytes: { before: rbIn, after: rbOut, smaller_pct: r2((1 - rbOut / rbIn) * 100) },
    tokens_smaller_pct: r2((tokensSaved / tokensIn) * 100),
    latency_ms: { sequential: plain, gzip_response: gzResp, gzip_request: gzReq, in_flight_8: conc },
    goals: { warm_p50_le_5ms: plain.p50 <= 5, smaller_ge_40pct: (1 - msgsOut / msgsIn) >= 0.4 },
    runs: RUNS,
    pool_size: 2,
    node: process.version,
  };
  console.log('## Hook: 400-entry file listing (Anthropic Messages envelope, 2 workers)\n');
  console.log(`| figure | value |\n|---|---|`);
  console.log(`| envelope | ${body.length} B (gzip ${gzBody.length} B) |`);
  console.log(`| messages bytes | ${msgsIn} -> ${msgsOut} (${result.messages_bytes.smaller_pct}% smaller) |`);
  console.log(`| request_body bytes | ${rbIn} -> ${rbOut} (${result.request_body_bytes.smaller_pct}% smaller) |`);
  console.log(`| tokens | ${result.tokens_smaller_pct}% fewer |`);
  console.log(`| warm p50 / p90 / p99 (sequential) | ${plain.p50} / ${plain.p90} / ${plain.p99} ms |`);
  console.log(`| warm p50 / p99, gzip response | ${gzResp.p50} / ${gzResp.p99} ms |`);
  console.log(`| warm p50 / p99, gzip request body | ${gzReq.p50} / ${gzReq.p99} ms |`);
  console.log(`| p50 / p99, 8 in flight | ${conc.p50} / ${conc.p99} ms |`);
  console.log(`| goals (p50 <= 5 ms, >= 40% smaller) | ${result.goals.warm_p50_le_5ms ? 'met' : 'MISSED'}, ${result.goals.smaller_ge_40pct ? 'met' : 'MISSED'} |`);
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(join(root, 'bench/results/hook.json'), `${JSON.stringify(result, null, 2)}\n`);
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  agent.destroy();
  rmSync(workspace, { recursive: true, force: true });
}
