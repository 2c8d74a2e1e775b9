// npm run build && node bench/virtual-keys.mjs — what virtual keys cost per request: the same
// proxy build without a `keys:` section (the client's key passes through) and with one (the key
// is hashed and matched against 100 configured keys, per-key limits and spend, the credentials
// link swaps in the server-side key), same mock upstream, same run. Reported as CPU µs per
// request of the proxy process and throughput at 50 connections, side by side, and their ratio.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuMicros } from './lib/cpu.mjs';
import { throughput } from './lib/load.mjs';
import { ROOT, startProcess, waitReady } from './lib/servers.mjs';

const DURATION = Number(process.env.BENCH_DURATION ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const KEYS = 100;
const body = JSON.stringify({ model: 'claude-haiku-5-5', max_tokens: 16, messages: [{ role: 'user', content: 'ping' }] });
const keys = Array.from({ length: KEYS }, () => `hr-${randomBytes(32).toString('base64url')}`);
const hash = (k) => `sha256:${createHash('sha256').update(k).digest('hex')}`;
const dir = join(tmpdir(), `headroom-bench-keys-${process.pid}`);
mkdirSync(dir, { recursive: true });
const config = join(dir, 'keys.yaml');
// the last key matches: every stored hash is compared anyway (constant time)
writeFileSync(config, `keys:\n${keys.map((k, i) => `  - { name: key-${i}, hash: "${hash(k)}"${i === KEYS - 1 ? ', rpm: 100000000' : ''} }`).join('\n')}\n`);

const mock = await startProcess(['bench/servers/mock.mjs']);
const common = { HEADROOM_LOG_LEVEL: 'info', ANTHROPIC_API_KEY: 'sk-ant-bench-fake-server-key-000000' };
const plain = await startProcess(['dist/cli/main.js', 'proxy', '--port', '0', '--anthropic-api-url', mock.url], { ...common, HEADROOM_WORKSPACE_DIR: join(dir, 'plain') });
const withKeys = await startProcess(['dist/cli/main.js', 'proxy', '--port', '0', '--anthropic-api-url', mock.url, '--config', config], { ...common, HEADROOM_WORKSPACE_DIR: join(dir, 'keys') });
const targets = {
  'no keys: (client key passes)': { p: plain, key: 'sk-ant-bench-fake-key-000000' },
  [`keys: (${KEYS} keys, one with rpm)`]: { p: withKeys, key: keys[KEYS - 1] },
};
const reqFor = (key) => ({ path: '/v1/messages', body, headers: { 'content-type': 'application/json', 'x-api-key': key, 'anthropic-version': '2023-06-01' } });

try {
  for (const { p } of Object.values(targets)) await waitReady(p.url);
  for (const { p, key } of Object.values(targets)) await throughput(p.url, { ...reqFor(key), duration: 2 });
  const runs = Object.fromEntries(Object.keys(targets).map((k) => [k, []]));
  for (let round = 0; round < ROUNDS; round++) {
    // alternate the order so neither side always runs on a warmer (or busier) machine
    const order = round % 2 === 0 ? Object.entries(targets) : Object.entries(targets).reverse();
    for (const [name, { p, key }] of order) {
      const c0 = cpuMicros(p.child.pid);
      const r = await throughput(p.url, { ...reqFor(key), duration: DURATION });
      runs[name].push({ ...r, cpuUs: (cpuMicros(p.child.pid) - c0) / r.total });
    }
  }
  const rows = Object.entries(runs).map(([name, rs]) => ({
    name, rps: Math.max(...rs.map((r) => r.rps)), cpuUs: Math.min(...rs.map((r) => r.cpuUs)), p50: Math.min(...rs.map((r) => r.p50)),
    errors: rs.reduce((n, r) => n + r.errors, 0),
  }));
  const [a, b] = rows;
  console.log([
    `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}; ${ROUNDS} rounds x ${DURATION}s, best round shown.`,
    '',
    '| proxy | req/s @50 conn | CPU µs/req (proxy) | p50 ms | errors (incl. non-2xx) |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.name} | ${Math.round(r.rps)} | ${Math.round(r.cpuUs)} | ${r.p50} | ${r.errors} |`),
    '',
    `With keys / without: CPU per request ${(b.cpuUs / a.cpuUs).toFixed(3)}x (${Math.round(b.cpuUs - a.cpuUs)} µs), throughput ${(b.rps / a.rps).toFixed(3)}x.`,
  ].join('\n'));
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/virtual-keys.json'), JSON.stringify({ date: new Date().toISOString(), rows, runs }, null, 2));
} finally {
  await Promise.all([plain.stop(), withKeys.stop(), mock.stop()]);
}
