// npm run bench:proxy:profile — where headroom-ts spends its time per request, on the same small
// Anthropic request as bench/proxy.mjs, every sink on.
//   default:            V8 CPU profile of the proxy under closed-loop load, summarised by self
//                       time per function and per area (the .cpuprofile lands in bench/results/).
//   --instructions:     the proxy (and the bare pipe, for reference) under valgrind's callgrind:
//                       machine instructions per request after a warm-up. Repeatable on a busy
//                       machine where wall time is not (no hardware counters needed).
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { throughput } from './lib/load.mjs';
import { ROOT, startProcess, waitReady } from './lib/servers.mjs';

const body = JSON.stringify({ model: 'claude-haiku-5-5', max_tokens: 16, messages: [{ role: 'user', content: 'ping' }] });
const headers = { 'content-type': 'application/json', 'x-api-key': 'sk-ant-bench-fake-key-000000', 'anthropic-version': '2023-06-01' };
const req = { path: '/v1/messages', body, headers };
const results = join(ROOT, 'bench/results');
mkdirSync(results, { recursive: true });
const proxyArgs = (mockUrl, root = '.') => [join(root, 'dist/cli/main.js'), 'proxy', '--port', '0', '--anthropic-api-url', mockUrl];
const proxyEnv = (tag) => ({ HEADROOM_WORKSPACE_DIR: join(tmpdir(), `headroom-prof-${process.pid}-${tag}`), HEADROOM_LOG_LEVEL: 'info' });

/** Sends `n` requests over `conns` keep-alive connections, `conns` in flight at a time. */
async function send(url, n, conns = 8) {
  const pool = new Pool(url, { connections: conns });
  let next = 0;
  let errors = 0;
  const worker = async () => {
    while (next++ < n) {
      const res = await pool.request({ path: req.path, method: 'POST', headers, body });
      await res.body.dump();
      if (res.statusCode !== 200) errors++;
    }
  };
  await Promise.all(Array.from({ length: conns }, worker));
  await pool.close();
  if (errors) throw new Error(`${errors} of ${n} requests failed`);
}

/** The part of the profile that is summarised: microseconds since the proxy was spawned. */
const window = { from: 0, to: Infinity };
const mock = await startProcess(['bench/servers/mock.mjs']);
try {
  if (process.argv.includes('--instructions')) await instructions();
  else await cpuProfile();
} finally {
  await mock.stop();
}

async function cpuProfile() {
  const dir = join(results, 'proxy-profile');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const spawnedAt = performance.now();
  const proxy = await startProcess(['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '200', ...proxyArgs(mock.url)], proxyEnv('cpu'));
  try {
    await waitReady(proxy.url);
    await throughput(proxy.url, { ...req, duration: 2 });
    // only the samples of the measured load count (not start-up, warm-up or shutdown)
    window.from = (performance.now() - spawnedAt) * 1000;
    const r = await throughput(proxy.url, { ...req, duration: Number(process.env.BENCH_DURATION ?? 10) });
    window.to = (performance.now() - spawnedAt) * 1000;
    console.log(`${Math.round(r.rps)} req/s under the profiler, ${r.total} requests`);
  } finally {
    await proxy.stop();
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  summarise(JSON.parse(readFileSync(join(dir, file), 'utf8')));
}

function area(url, name) {
  if (!url) return name === '(garbage collector)' ? 'GC' : name.startsWith('(') ? name : 'native/builtin';
  const m = /headroom[^/]*\/dist\/(.+)$/.exec(url) ?? /\/dist\/(.+)$/.exec(url);
  if (m) return `dist/${m[1].split('/').slice(0, -1).join('/') || '.'}`;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return `npm:${nm[1]}`;
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  return url;
}

function summarise(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = profile.timeDeltas;
  let t = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += dt[i] ?? 0;
    if (t < window.from || t > window.to) continue;
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (dt[i] ?? 0));
  }
  let total = 0;
  const fns = new Map();
  const areas = new Map();
  for (const [id, us] of self) {
    const { callFrame: cf } = byId.get(id);
    if (cf.functionName === '(idle)' || cf.functionName === '(program)') continue;
    total += us;
    const key = `${cf.functionName || '(anonymous)'} ${cf.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${cf.lineNumber + 1}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    const a = area(cf.url, cf.functionName);
    areas.set(a, (areas.get(a) ?? 0) + us);
  }
  // inclusive time of our own functions (a function's samples and its callees'), each counted once per stack
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const incl = new Map();
  for (const [id, us] of self) {
    if (byId.get(id).callFrame.functionName === '(idle)' || byId.get(id).callFrame.functionName === '(program)') continue;
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const cf = byId.get(at).callFrame;
      if (!/\/dist\//.test(cf.url)) continue;
      const key = `${cf.functionName || '(anonymous)'} ${cf.url.replace(/^.*\/dist\//, '')}:${cf.lineNumber + 1}`;
      if (seen.has(key)) continue;
      seen.add(key);
      incl.set(key, (incl.get(key) ?? 0) + us);
    }
  }
  const top = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `| ${(100 * v / total).toFixed(1)}% | ${k} |`);
  console.log(`\nBusy time (self, idle excluded): ${(total / 1e6).toFixed(2)} s\n\n| share | area |\n|---|---|\n${top(areas, 25).join('\n')}`);
  console.log(`\n| share (inclusive) | headroom-ts function |\n|---|---|\n${top(incl, 40).join('\n')}`);
  console.log(`\n| share | function |\n|---|---|\n${top(fns, 40).join('\n')}`);
}

/** Starts `args` under callgrind, collection on; returns the server and its control pid. */
async function underCallgrind(args, env, tag) {
  const out = join(results, `callgrind.${tag}.%p`);
  const child = spawn('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, '--dump-instr=no', '--trace-children=no', process.execPath, ...args], {
    cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await new Promise((resolve, reject) => {
    let seen = '';
    const onData = (d) => {
      seen += d.toString();
      const m = /listening on (http:\/\/[0-9.:]+)/.exec(seen);
      if (m) resolve(m[1]);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', () => {});
    child.once('exit', (code) => reject(new Error(`${tag} exited with ${code}: ${seen.slice(-400)}`)));
  });
  return { child, url };
}

/** Instructions callgrind counted since its last zeroing, from a fresh dump. */
function dumpTotal(pid) {
  execFileSync('callgrind_control', ['-d', String(pid)], { stdio: 'ignore' });
  const files = readdirSync(results).filter((f) => f.startsWith('callgrind.') && f.includes(`.${pid}.`));
  const last = files.sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop())).pop();
  const text = readFileSync(join(results, last), 'utf8');
  const m = /^(?:summary|totals): (\d+)/m.exec(text);
  return Number(m[1]);
}

async function instructions() {
  const warm = Number(process.env.BENCH_WARM ?? 3000);
  const n = Number(process.env.BENCH_REQUESTS ?? 2000);
  const rows = [];
  // BENCH_BASELINE=<dir holding another build's dist/>: counted too (before/after)
  const base = process.env.BENCH_BASELINE;
  for (const [tag, args, env] of [
    ['bare-pipe', ['bench/servers/bare-pipe.mjs'], { UPSTREAM: mock.url }],
    ...(base ? [['headroom-ts-baseline', proxyArgs(mock.url, base), proxyEnv('ir-base')]] : []),
    ['headroom-ts', proxyArgs(mock.url), proxyEnv('ir')],
  ]) {
    const s = await underCallgrind(args, env, tag);
    try {
      if (tag !== 'bare-pipe') await waitReady(s.url, 600_000);
      await send(s.url, warm);
      execFileSync('callgrind_control', ['-z', String(s.child.pid)], { stdio: 'ignore' });
      await send(s.url, n);
      const ir = dumpTotal(s.child.pid);
      rows.push({ tag, irPerRequest: ir / n });
    } finally {
      s.child.kill('SIGTERM');
      await new Promise((r) => s.child.once('exit', r));
      for (const f of readdirSync(results)) if (f.startsWith(`callgrind.${tag}.`)) rmSync(join(results, f));
    }
  }
  const pipe = rows[0].irPerRequest;
  console.log(`Instructions per request (callgrind, ${warm} warm-up requests, then ${n} counted, 8 connections):\n`);
  console.log('| target | instructions/request | vs bare pipe |\n|---|---|---|');
  for (const r of rows) console.log(`| ${r.tag} | ${Math.round(r.irPerRequest).toLocaleString('en-US')} | ${(r.irPerRequest / pipe).toFixed(2)}x |`);
}
