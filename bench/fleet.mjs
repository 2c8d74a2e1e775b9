// npm run bench:fleet — what sharing state costs per request: the same proxy configuration
// (rate limit and per-key budget on, stats store on) with its state in this process and
// SQLite files (the default), in Postgres + Redis (`--database-url`, `--redis-url`), and in each alone, side
// by side in one run against a mock upstream, at a fixed request rate:
//   - CPU time per request of the proxy process, and of the Postgres and Redis servers;
//   - latency p50/p99, and what the proxy adds over calling the mock directly;
//   - the ratio of the shared backends' cost (the proxy's extra CPU plus the servers' CPU)
//     to the proxy's own CPU per request with SQLite.
// Figures vary with the machine; compare the ratios. JSON goes to bench/results/fleet.json.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuMicros } from './lib/cpu.mjs';
import { fixedRate } from './lib/load.mjs';
import { ROOT, startProcess, waitReady } from './lib/servers.mjs';
import { createDatabase, startPostgres, startRedis } from './lib/stores.mjs';

const RATE = Number(process.env.BENCH_RATE ?? 100);
const DURATION = Number(process.env.BENCH_DURATION ?? 8);
const KEY = 'sk-ant-bench-fake-key-000000000000';
const body = JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user', content: 'Fix the failing test in src/date.ts and explain the change. '.repeat(12) }] });
const headers = { 'x-api-key': KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' };
const load = (url) => fixedRate(url, { path: '/v1/messages', body, headers, rate: RATE, duration: DURATION });
const cpuOf = (pids) => pids.reduce((s, p) => { try { return s + cpuMicros(p); } catch { return s; } }, 0);
const r1 = (x) => Math.round(x * 10) / 10;
const r3 = (x) => Math.round(x * 1000) / 1000;
// statements sent to Postgres so far (the proxy rewrites the file every second)
const statements = (p) => { try { return JSON.parse(readFileSync(p.queryLog, 'utf8')).total; } catch { return 0; } };

const mock = await startProcess(['bench/servers/mock.mjs']);
const [pgServer, redis] = await Promise.all([startPostgres(), startRedis()]);
await createDatabase(pgServer.url, 'pgonly');
const dirs = [];
const common = ['--port', '0', '--anthropic-api-url', mock.url, '--rpm', '100000000', '--budget-per-key', '1000000', '--no-cache'];
const env = { HEADROOM_LOG_LEVEL: 'warn', HEADROOM_SKIP_UPSTREAM_CHECK: '1' };
async function proxy(extra) {
  const dir = mkdtempSync(join(tmpdir(), 'headroom-bench-fleet-'));
  dirs.push(dir);
  // every Postgres statement the proxy sends is counted (by text) into this file
  const queryLog = join(dir, 'pg-statements.json');
  const p = await startProcess(['dist/cli/main.js', 'proxy', ...common, '--workspace-dir', dir, ...extra], { ...env, HEADROOM_LOG_LEVEL: 'info', HEADROOM_PG_QUERY_LOG: queryLog });
  p.queryLog = queryLog;
  await waitReady(p.url);
  return p;
}

try {
  const sqlite = await proxy([]);
  const shared = await proxy(['--database-url', pgServer.url, '--redis-url', redis.url, '--instance-id', 'bench']);
  const pgOnly = await proxy(['--database-url', pgServer.url.replace(/\/postgres$/, '/pgonly')]);
  const redisOnly = await proxy(['--redis-url', redis.url, '--redis-prefix', 'redis-only:', '--instance-id', 'bench-redis']);
  const variants = [
    { name: 'sqlite (default)', p: sqlite, servers: () => [] },
    { name: 'postgres + redis', p: shared, servers: () => [...pgServer.pids(), ...redis.pids()] },
    { name: 'postgres only', p: pgOnly, servers: () => pgServer.pids() },
    { name: 'redis only', p: redisOnly, servers: () => redis.pids() },
  ];
  // warm up both (JIT, pools, prepared scripts), and the mock
  await fixedRate(mock.url, { path: '/v1/messages', body, headers, rate: RATE, duration: 2 });
  for (const v of variants) await fixedRate(v.p.url, { path: '/v1/messages', body, headers, rate: RATE, duration: 2 });

  const direct = await load(mock.url);
  const rows = [];
  // interleaved twice so that a noisy moment on the machine touches both
  const acc = new Map(variants.map((v) => [v.name, { cpu: 0, servers: 0, statements: 0, n: 0, p50: [], p99: [], errors: 0 }]));
  for (let round = 0; round < 2; round++) {
    for (const v of variants) {
      const a = acc.get(v.name);
      const q0 = statements(v.p);
      const c0 = cpuMicros(v.p.child.pid);
      const s0 = cpuOf(v.servers());
      const r = await load(v.p.url);
      // the stats store and the budget ledger write in batches after the requests: let them finish
      await new Promise((res) => setTimeout(res, 1200));
      a.cpu += cpuMicros(v.p.child.pid) - c0;
      a.servers += cpuOf(v.servers()) - s0;
      a.n += r.total;
      a.statements += statements(v.p) - q0;
      a.p50.push(r.p50);
      a.p99.push(r.p99);
      a.errors += r.errors;
    }
  }
  for (const v of variants) {
    const a = acc.get(v.name);
    const p50 = a.p50.reduce((s, x) => s + x, 0) / a.p50.length;
    const p99 = a.p99.reduce((s, x) => s + x, 0) / a.p99.length;
    rows.push({
      variant: v.name,
      requests: a.n,
      errors: a.errors,
      proxy_cpu_us_per_request: r1(a.cpu / a.n),
      servers_cpu_us_per_request: r1(a.servers / a.n),
      pg_statements_per_request: r3(a.statements / a.n),
      p50_ms: r3(p50),
      p99_ms: r3(p99),
      added_p50_ms: r3(p50 - direct.p50),
      added_p99_ms: r3(p99 - direct.p99),
    });
  }
  const [base, fleet, pgRow, redisRow] = rows;
  const extraProxy = fleet.proxy_cpu_us_per_request - base.proxy_cpu_us_per_request;
  const backends = extraProxy + fleet.servers_cpu_us_per_request;
  const result = {
    rate_per_second: RATE,
    duration_seconds_per_round: DURATION,
    direct_to_mock: { p50_ms: r3(direct.p50), p99_ms: r3(direct.p99) },
    variants: rows,
    shared_backends_cpu_us_per_request: r1(backends),
    ratio_shared_backends_to_proxy_own: r3(backends / base.proxy_cpu_us_per_request),
    ratio_proxy_cpu_shared_to_sqlite: r3(fleet.proxy_cpu_us_per_request / base.proxy_cpu_us_per_request),
    postgres_only_cpu_us_per_request: r1(pgRow.proxy_cpu_us_per_request - base.proxy_cpu_us_per_request + pgRow.servers_cpu_us_per_request),
    redis_only_cpu_us_per_request: r1(redisRow.proxy_cpu_us_per_request - base.proxy_cpu_us_per_request + redisRow.servers_cpu_us_per_request),
  };
  console.log(`fixed rate ${RATE} req/s, ${DURATION} s x 2 rounds per variant; direct to mock p50 ${r3(direct.p50)} ms p99 ${r3(direct.p99)} ms`);
  console.table(rows);
  console.log(`of which Postgres alone ${result.postgres_only_cpu_us_per_request} us, Redis alone ${result.redis_only_cpu_us_per_request} us (proxy extra + server, per request)`);
  console.log(`shared backends: ${r1(backends)} us CPU per request (proxy extra ${r1(extraProxy)} + servers ${fleet.servers_cpu_us_per_request}), ${r3(backends / base.proxy_cpu_us_per_request)} x the proxy's own ${base.proxy_cpu_us_per_request} us`);
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/fleet.json'), `${JSON.stringify(result, null, 2)}\n`);
  await Promise.all(variants.map((v) => v.p.stop()));
  for (const v of variants.slice(1, 3)) {
    try {
      const top = Object.entries(JSON.parse(readFileSync(v.p.queryLog, 'utf8')).statements).slice(0, 16);
      console.log(`${v.name}: most sent statements (whole run)`);
      for (const [text, n] of top) console.log(`  ${String(n).padStart(7)}  ${text}`);
    } catch { /* not written */ }
  }
} finally {
  await mock.stop();
  await Promise.all([pgServer.stop(), redis.stop()]);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
