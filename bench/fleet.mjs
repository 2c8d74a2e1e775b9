// npm run bench:fleet — what sharing state costs per request: the same proxy configuration
// (rate limit and per-key budget on, stats store on) with its state in this process and
// SQLite files (the default), in Postgres + Redis (`--database-url`, `--redis-url`), and in each
// alone, against a mock upstream, at a fixed request rate:
//   - CPU time per request of the proxy process, and of the Postgres and Redis servers;
//   - latency p50/p99, and what the proxy adds over calling the mock directly;
//   - the ratio of the shared backends' cost (the proxy's extra CPU plus the servers' CPU)
//     to the proxy's own CPU per request with SQLite.
// Paired, side by side: in each round every variant and the direct calls run AT THE SAME TIME,
// each at BENCH_RATE (default 100 req/s) for BENCH_DURATION seconds (default 8), so that a
// noisy moment of the machine touches all of them alike; every variant has its own Postgres
// and Redis servers, so each server's CPU is that variant's. BENCH_ROUNDS rounds (default 6);
// each figure is the median over the rounds, each ratio is taken within a round, with its
// median and range. The proxies' CPU is read at nanosecond resolution (schedstat), the
// servers' from clock ticks including their exited children. Figures vary with the machine;
// compare the ratios. JSON goes to bench/results/fleet.json.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { preciseCpuMicros, treeCpuMicros } from './lib/cpu.mjs';
import { fixedRate } from './lib/load.mjs';
import { ROOT, startProcess, waitReady } from './lib/servers.mjs';
import { startPostgres, startRedis } from './lib/stores.mjs';

const RATE = Number(process.env.BENCH_RATE ?? 100);
const DURATION = Number(process.env.BENCH_DURATION ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const KEY = 'sk-ant-bench-fake-key-000000000000';
const body = JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user', content: 'Fix the failing test in src/date.ts and explain the change. '.repeat(12) }] });
const headers = { 'x-api-key': KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' };
const load = (url) => fixedRate(url, { path: '/v1/messages', body, headers, rate: RATE, duration: DURATION });
// each server's tree, counting its exited children too (a Postgres backend whose connection closed)
const cpuOf = (servers) => servers.reduce((s, pids) => s + treeCpuMicros(pids), 0);
const r1 = (x) => Math.round(x * 10) / 10;
const r3 = (x) => Math.round(x * 1000) / 1000;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const range = (xs) => [r3(Math.min(...xs)), r3(Math.max(...xs))];
// statements sent to Postgres so far (the proxy rewrites the file every second)
const statements = (p) => { try { return JSON.parse(readFileSync(p.queryLog, 'utf8')).total; } catch { return 0; } };

const mock = await startProcess(['bench/servers/mock.mjs']);
// one Postgres and one Redis per variant that uses them: each server's CPU is one variant's
const [pgShared, pgAlone, redisShared, redisAlone] = await Promise.all([startPostgres(), startPostgres(), startRedis(), startRedis()]);
const servers = [pgShared, pgAlone, redisShared, redisAlone];
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
  const shared = await proxy(['--database-url', pgShared.url, '--redis-url', redisShared.url, '--instance-id', 'bench']);
  const pgOnly = await proxy(['--database-url', pgAlone.url]);
  const redisOnly = await proxy(['--redis-url', redisAlone.url, '--instance-id', 'bench-redis']);
  const variants = [
    { name: 'sqlite (default)', p: sqlite, servers: () => [] },
    { name: 'postgres + redis', p: shared, servers: () => [pgShared.pids(), redisShared.pids()] },
    { name: 'postgres only', p: pgOnly, servers: () => [pgAlone.pids()] },
    { name: 'redis only', p: redisOnly, servers: () => [redisAlone.pids()] },
  ];
  // warm up every one at once (JIT, pools, prepared statements and scripts), and the mock
  await Promise.all([mock.url, ...variants.map((v) => v.p.url)].map((url) => fixedRate(url, { path: '/v1/messages', body, headers, rate: RATE, duration: 5 })));

  const rows = [];
  const directRounds = [];
  // per round and variant: CPU per request of the proxy and of its servers, statements, latency
  const per = new Map(variants.map((v) => [v.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const q0 = variants.map((v) => statements(v.p));
    const c0 = variants.map((v) => preciseCpuMicros(v.p.child.pid));
    const s0 = variants.map((v) => cpuOf(v.servers()));
    const [direct, ...results] = await Promise.all([load(mock.url), ...variants.map((v) => load(v.p.url))]);
    // the stats store and the budget ledger write in batches after the requests: let them finish
    await new Promise((res) => setTimeout(res, 1500));
    directRounds.push(direct);
    variants.forEach((v, i) => {
      const r = results[i];
      per.get(v.name).push({
        n: r.total,
        errors: r.errors,
        proxy: (preciseCpuMicros(v.p.child.pid) - c0[i]) / r.total,
        servers: (cpuOf(v.servers()) - s0[i]) / r.total,
        statements: (statements(v.p) - q0[i]) / r.total,
        p50: r.p50,
        p99: r.p99,
        addedP50: r.p50 - direct.p50,
        addedP99: r.p99 - direct.p99,
      });
    });
  }
  const direct = { p50: median(directRounds.map((d) => d.p50)), p99: median(directRounds.map((d) => d.p99)) };
  const pick = (name, f) => per.get(name).map(f);
  for (const v of variants) {
    const rs = per.get(v.name);
    const p50 = median(rs.map((x) => x.p50));
    const p99 = median(rs.map((x) => x.p99));
    rows.push({
      variant: v.name,
      requests: rs.reduce((s, x) => s + x.n, 0),
      errors: rs.reduce((s, x) => s + x.errors, 0),
      proxy_cpu_us_per_request: r1(median(rs.map((x) => x.proxy))),
      servers_cpu_us_per_request: r1(median(rs.map((x) => x.servers))),
      pg_statements_per_request: r3(median(rs.map((x) => x.statements))),
      p50_ms: r3(p50),
      p99_ms: r3(p99),
      added_p50_ms: r3(median(rs.map((x) => x.addedP50))),
      added_p99_ms: r3(median(rs.map((x) => x.addedP99))),
    });
  }
  const [base, fleet] = rows;
  // what a variant's shared backends cost per request in each round: the proxy's extra CPU over
  // that round's SQLite run, plus the servers' CPU
  const backendsOf = (name) => per.get(name).map((x, i) => x.proxy - per.get(variants[0].name)[i].proxy + x.servers);
  const ratiosOf = (name) => backendsOf(name).map((b, i) => b / per.get(variants[0].name)[i].proxy);
  const backends = median(backendsOf(fleet.variant));
  const extraProxy = median(pick(fleet.variant, (x, i) => x.proxy - per.get(variants[0].name)[i].proxy));
  const ratios = ratiosOf(fleet.variant);
  const result = {
    rate_per_second: RATE,
    duration_seconds_per_round: DURATION,
    rounds: ROUNDS,
    direct_to_mock: { p50_ms: r3(direct.p50), p99_ms: r3(direct.p99) },
    variants: rows,
    shared_backends_cpu_us_per_request: r1(backends),
    ratio_shared_backends_to_proxy_own: r3(median(ratios)),
    ratio_shared_backends_to_proxy_own_range: range(ratios),
    ratio_proxy_cpu_shared_to_sqlite: r3(median(pick(fleet.variant, (x, i) => x.proxy / per.get(variants[0].name)[i].proxy))),
    postgres_only_cpu_us_per_request: r1(median(backendsOf('postgres only'))),
    postgres_only_ratio: r3(median(ratiosOf('postgres only'))),
    redis_only_cpu_us_per_request: r1(median(backendsOf('redis only'))),
    redis_only_ratio: r3(median(ratiosOf('redis only'))),
    per_round: Object.fromEntries([...per].map(([k, rs]) => [k, rs.map((x) => ({ proxy_us: r1(x.proxy), servers_us: r1(x.servers), statements: r3(x.statements), p50_ms: r3(x.p50), p99_ms: r3(x.p99) }))])),
    direct_per_round: directRounds.map((d) => ({ p50_ms: r3(d.p50), p99_ms: r3(d.p99) })),
  };
  console.log(`fixed rate ${RATE} req/s per variant, all variants and the direct calls at once, ${DURATION} s x ${ROUNDS} rounds (medians over rounds); direct to mock p50 ${r3(direct.p50)} ms p99 ${r3(direct.p99)} ms`);
  console.table(rows);
  console.log(`of which Postgres alone ${result.postgres_only_cpu_us_per_request} us (${result.postgres_only_ratio} x), Redis alone ${result.redis_only_cpu_us_per_request} us (${result.redis_only_ratio} x) (proxy extra + server, per request)`);
  console.log(`shared backends: ${r1(backends)} us CPU per request (proxy extra ${r1(extraProxy)} + servers ${fleet.servers_cpu_us_per_request}), ${result.ratio_shared_backends_to_proxy_own} x the proxy's own ${base.proxy_cpu_us_per_request} us (per-round range ${result.ratio_shared_backends_to_proxy_own_range.join(' - ')})`);
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
  await Promise.all(servers.map((x) => x.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
