// npm run bench:proxy — headroom-ts vs a bare node:http+undici pipe vs direct, same mock
// upstream, same run. Throughput at 50 connections (autocannon), then added latency at a
// fixed 500 req/s (open loop). Results: a Markdown table on stdout, JSON in bench/results/.
// The same headroom-ts process also serves a translated case: an Anthropic Messages request
// whose model a config-file alias routes to an OpenAI-format provider (the same mock), so the
// translation's added CPU per request is the difference of two rows measured side by side.
// BENCH_STREAM=1 adds the streaming variants of the passthrough and translated cases.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuMicros } from './lib/cpu.mjs';
import { fixedRate, throughput } from './lib/load.mjs';
import { ROOT, startProcess, waitReady } from './lib/servers.mjs';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const STREAM = process.env.BENCH_STREAM === '1';
const bodyFor = (model, stream = false) => JSON.stringify({ model, max_tokens: 16, ...(stream ? { stream: true } : {}), messages: [{ role: 'user', content: 'ping' }] });
const headers = { 'content-type': 'application/json', 'x-api-key': 'sk-ant-bench-fake-key-000000', 'anthropic-version': '2023-06-01' };
const req = { path: '/v1/messages', body: bodyFor('claude-haiku-5-5'), headers };
/** Routed by the config file's alias to the OpenAI-format provider: translated both ways. */
const translatedReq = { ...req, body: bodyFor('xlate-haiku') };

const mock = await startProcess(['bench/servers/mock.mjs']);
const pipe = await startProcess(['bench/servers/bare-pipe.mjs'], { UPSTREAM: mock.url });
const workspace = join(tmpdir(), `headroom-bench-${process.pid}`);
mkdirSync(workspace, { recursive: true });
const configFile = join(workspace, 'routing.json');
writeFileSync(configFile, JSON.stringify({ providers: { local: { format: 'openai', base_url: `${mock.url}/v1` } }, model_aliases: { 'xlate-*': 'local:qwen3:8b' } }));
const proxy = await startProcess(['dist/cli/main.js', 'proxy', '--port', '0', '--anthropic-api-url', mock.url], {
  HEADROOM_WORKSPACE_DIR: workspace,
  HEADROOM_CONFIG: configFile,
  HEADROOM_LOG_LEVEL: 'info', // the per-request log line is on, as in production
});
// BENCH_BASELINE=<dir holding another build's dist/>: that build too, side by side (before/after)
const baseline = process.env.BENCH_BASELINE
  ? await startProcess([join(process.env.BENCH_BASELINE, 'dist/cli/main.js'), 'proxy', '--port', '0', '--anthropic-api-url', mock.url], {
    HEADROOM_WORKSPACE_DIR: `${workspace}-baseline`,
    HEADROOM_LOG_LEVEL: 'info',
  })
  : null;
// BENCH_ROUTED=1: also a proxy whose registry routes the request (a wildcard alias to a provider
// of the same format: the routing, fallback and model links at work, the model spliced)
let routed = null;
if (process.env.BENCH_ROUTED) {
  const file = join(tmpdir(), `headroom-bench-routing-${process.pid}.yaml`);
  writeFileSync(file, `providers:\n  benchp: { format: anthropic, base_url: "${mock.url}" }\nmodel_aliases:\n  "claude-*": benchp:claude-routed-1\n`);
  routed = await startProcess(['dist/cli/main.js', 'proxy', '--port', '0', '--anthropic-api-url', mock.url, '--routing-config', file], {
    HEADROOM_WORKSPACE_DIR: `${workspace}-routed`,
    HEADROOM_LOG_LEVEL: 'info',
  });
}
// each case: where it goes, the process whose CPU it costs, and what it sends
const cases = [
  { name: 'direct', url: mock.url, pid: mock.child.pid, req },
  { name: 'bare pipe', url: pipe.url, pid: pipe.child.pid, req },
  ...(baseline ? [{ name: 'headroom-ts (baseline)', url: baseline.url, pid: baseline.child.pid, req }] : []),
  { name: 'headroom-ts', url: proxy.url, pid: proxy.child.pid, req },
  { name: 'headroom-ts translated', url: proxy.url, pid: proxy.child.pid, req: translatedReq },
  ...(routed ? [{ name: 'headroom-ts (routed)', url: routed.url, pid: routed.child.pid, req }] : []),
  ...(STREAM
    ? [
      { name: 'headroom-ts (stream)', url: proxy.url, pid: proxy.child.pid, req: { ...req, body: bodyFor('claude-haiku-5-5', true) } },
      { name: 'headroom-ts translated (stream)', url: proxy.url, pid: proxy.child.pid, req: { ...req, body: bodyFor('xlate-haiku', true) } },
    ]
    : []),
];
// CPU time of the process under test per request: robust to a noisy, shared machine.
async function measured(c) {
  const c0 = cpuMicros(c.pid);
  const r = await throughput(c.url, { ...c.req, duration: DURATION });
  return { ...r, cpuUs: (cpuMicros(c.pid) - c0) / r.total };
}

try {
  // the tokenizer vocabularies load in the background at start-up
  for (const p of [proxy, baseline, routed]) if (p) await waitReady(p.url);
  // warm up JITs and connection pools
  for (const c of cases) await throughput(c.url, { ...c.req, duration: 2 });
  const tp = Object.fromEntries(cases.map((c) => [c.name, []]));
  const fr = Object.fromEntries(cases.map((c) => [c.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of cases) tp[c.name].push(await measured(c));
    for (const c of cases) fr[c.name].push(await fixedRate(c.url, { ...c.req, duration: DURATION }));
  }
  const best = (runs, key, pick = Math.max) => pick(...runs.map((r) => r[key]));
  const rows = cases.map(({ name }) => ({
    name,
    rps: best(tp[name], 'rps'),
    p50: best(tp[name], 'p50', Math.min),
    p99: best(tp[name], 'p99', Math.min),
    cpuUs: best(tp[name], 'cpuUs', Math.min),
    fixedP50: best(fr[name], 'p50', Math.min),
    fixedP99: best(fr[name], 'p99', Math.min),
    errors: tp[name].reduce((n, r) => n + r.errors, 0) + fr[name].reduce((n, r) => n + r.errors, 0),
  }));
  const byName = Object.fromEntries(rows.map((r) => [r.name, r]));
  const pipeRps = byName['bare pipe'].rps;
  const direct = byName.direct;
  const f = (n, d = 2) => n.toFixed(d);
  const lines = [
    `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}; ${ROUNDS} rounds x ${DURATION}s, best round shown.`,
    '',
    '| target | req/s @50 conn | vs bare pipe | CPU µs/req (server) | p50 ms | p99 ms | @500 req/s p50 ms | p99 ms | added p50 ms | added p99 ms | errors |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.name} | ${Math.round(r.rps)} | ${f(r.rps / pipeRps)}x | ${Math.round(r.cpuUs)} | ${r.p50} | ${r.p99} | ${f(r.fixedP50, 3)} | ${f(r.fixedP99, 3)} | ${r.name === 'direct' ? '-' : f(r.fixedP50 - direct.fixedP50, 3)} | ${r.name === 'direct' ? '-' : f(r.fixedP99 - direct.fixedP99, 3)} | ${r.errors} |`),
  ];
  const added = (a, b) => (byName[a] && byName[b] ? `${Math.round(byName[a].cpuUs - byName[b].cpuUs)} µs` : null);
  const xlate = added('headroom-ts translated', 'headroom-ts');
  if (xlate) lines.push('', `Translation's added CPU per request (translated - passthrough, same process): ${xlate}${STREAM ? `; streaming: ${added('headroom-ts translated (stream)', 'headroom-ts (stream)')}` : ''}.`);
  if (byName['headroom-ts (baseline)']) lines.push(`Passthrough vs baseline: ${f(byName['headroom-ts'].rps / byName['headroom-ts (baseline)'].rps)}x req/s, CPU ${added('headroom-ts', 'headroom-ts (baseline)')} per request.`);
  console.log(lines.join('\n'));
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/proxy.json'), JSON.stringify({ date: new Date().toISOString(), rows, raw: { tp, fr } }, null, 2));
} finally {
  await Promise.all([proxy.stop(), baseline?.stop(), routed?.stop(), pipe.stop(), mock.stop()]);
}
