#!/usr/bin/env node
/**
 * Compression benchmark: `npm run bench:compress` (builds first).
 *
 * Seeded, realistic agent tool outputs (src/mock/agent-outputs.ts) of 10 KB, 100 KB and 1 MB
 * go through `compress()` as the newest tool result of a conversation. Per type and size it
 * reports token savings (o200k, the GPT-4o vocabulary), retention of planted needles (ids,
 * error messages, anomalies the compressor must keep), and the time of the whole call and of
 * the transform alone (detection, parsing and the compressor; p50/p99), and the CPU time of the call
 * (p50: the process's user + system time, less moved by other work on a shared machine than the
 * wall clock). It also times the proxy's per-request overhead of replaying
 * a long compressed history. Results: stdout (Markdown) and bench/results/compress.json.
 *
 * Options: --quick (fewer runs), --sizes=10000,100000, --types=search_json,grep
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { runCompress } = await import(join(root, 'dist/sdk/compress.js'));
const { generateOutput, OUTPUT_TYPES } = await import(join(root, 'dist/mock/agent-outputs.js'));
const { compressRequest } = await import(join(root, 'dist/compress/engine.js'));
const { DEFAULT_SETTINGS } = await import(join(root, 'dist/compress/options.js'));
const { warmTokenizers, clearTokenMemo } = await import(join(root, 'dist/compress/tokens.js'));

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')).map(([k, v]) => [k, v ?? 'true']));
const quick = args.quick === 'true';
const SIZES = (args.sizes ?? '10000,100000,1000000').split(',').map(Number);
const TYPES = args.types ? args.types.split(',') : OUTPUT_TYPES;
const RUNS = { 10000: quick ? 10 : 60, 100000: quick ? 5 : 30, 1000000: quick ? 3 : 15 };
const SEEDS = quick ? [1] : [1, 2, 3];
const MODEL = 'gpt-4o';

const GOALS = {
  json: { types: ['search_json', 'logs_json', 'api_listing', 'db_rows'], saved: 90 },
  search: { types: ['grep'], saved: 90 },
  logs: { types: ['build_log', 'service_log', 'logs_json'], saved: 90 },
};

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}
const r1 = (x) => Math.round(x * 10) / 10;
const r2 = (x) => Math.round(x * 100) / 100;

function conversation(sample) {
  return [
    { role: 'user', content: sample.query },
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'tool', arguments: '{}' } }] },
    { role: 'tool', tool_call_id: 'call_1', content: sample.text },
  ];
}

warmTokenizers();
const rows = [];
for (const type of TYPES) {
  for (const size of SIZES) {
    let before = 0;
    let after = 0;
    let needles = 0;
    let kept = 0;
    const total = [];
    const cpu = [];
    const transform = [];
    const transforms = new Set();
    for (const seed of SEEDS) {
      const sample = generateOutput(type, size, seed);
      const msgs = conversation(sample);
      // warm-up run (JIT), then timed runs
      runCompress(msgs, { model: MODEL }, { clock: () => performance.now() });
      const runs = Math.max(1, Math.round(RUNS[size] / SEEDS.length)) || 3;
      let last = null;
      for (let i = 0; i < runs; i++) {
        clearTokenMemo(); // every run counts its text afresh, as a new tool output would be
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        const run = runCompress(msgs, { model: MODEL }, { clock: () => performance.now() });
        total.push(performance.now() - t0);
        const c = process.cpuUsage(c0);
        cpu.push((c.user + c.system) / 1000);
        const t = Object.entries(run.engine?.timingsMs ?? {}).filter(([k]) => !['scan', 'replay', 'gate', 'tokens'].includes(k)).reduce((a, [, v]) => a + v, 0);
        transform.push(t);
        last = run;
      }
      const out = last.result.messages[2].content;
      before += last.result.tokens_before;
      after += last.result.tokens_after;
      for (const n of sample.needles) {
        needles++;
        if (out.includes(n)) kept++;
      }
      for (const t of last.result.transforms_applied) transforms.add(t);
    }
    const row = {
      type,
      size,
      tokensBefore: Math.round(before / SEEDS.length),
      tokensAfter: Math.round(after / SEEDS.length),
      savedPct: r1((100 * (before - after)) / before),
      needles: `${kept}/${needles}`,
      needleRetention: needles ? r1((100 * kept) / needles) : 100,
      totalP50: r2(pct(total, 50)),
      totalP99: r2(pct(total, 99)),
      cpuP50: r2(pct(cpu, 50)),
      transformP50: r2(pct(transform, 50)),
      transformP99: r2(pct(transform, 99)),
      runs: total.length,
      transforms: [...transforms].join('+') || '-',
    };
    rows.push(row);
    process.stderr.write(`${type} ${size}: ${row.savedPct}% saved, needles ${row.needles}, p50 ${row.totalP50} ms\n`);
  }
}

// Replay overhead: a 50-turn conversation's history (25 tool outputs) replayed on the proxy path.
const history = [];
const replay = new Map();
const lookup = { get: (k) => replay.get(k) };
for (let i = 0; i < 25; i++) {
  const s = generateOutput(OUTPUT_TYPES[i % OUTPUT_TYPES.length], 20_000, 900 + i);
  history.push({ role: 'assistant', content: [{ type: 'tool_use', id: `t${i}`, name: 'run', input: {} }] });
  history.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: `t${i}`, content: s.text }] });
  const body = Buffer.from(JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'go' }, ...history] }));
  const r = compressRequest({ body, api: 'messages', model: 'claude-sonnet-4-5', settings: DEFAULT_SETTINGS, scope: 'live', replay: lookup });
  for (const w of r.replayWrites) replay.set(w.key, { compressed: w.compressed });
}
const finalBody = Buffer.from(JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'go' }, ...history, { role: 'assistant', content: 'ok' }, { role: 'user', content: 'next?' }] }));
const replayRow = { bodyBytes: finalBody.length, historyOutputs: 25 };
for (const model of ['claude-sonnet-4-5', 'gpt-4o']) {
  // history was counted when it was live; warm the remembered counts as a running proxy has them
  compressRequest({ body: finalBody, api: 'messages', model, settings: DEFAULT_SETTINGS, scope: 'live', replay: lookup });
  const replayTimes = [];
  for (let i = 0; i < (quick ? 5 : 30); i++) {
    const t0 = performance.now();
    compressRequest({ body: finalBody, api: 'messages', model, settings: DEFAULT_SETTINGS, scope: 'live', replay: lookup });
    replayTimes.push(performance.now() - t0);
  }
  replayRow[model] = { p50: r2(pct(replayTimes, 50)), p99: r2(pct(replayTimes, 99)) };
}

// Goals
const goalLines = [];
for (const [name, g] of Object.entries(GOALS)) {
  const sel = rows.filter((r) => g.types.includes(r.type));
  if (!sel.length) continue;
  const before = sel.reduce((a, r) => a + r.tokensBefore, 0);
  const after = sel.reduce((a, r) => a + r.tokensAfter, 0);
  const saved = r1((100 * (before - after)) / before);
  const minSaved = Math.min(...sel.filter((r) => r.size >= 100000).map((r) => r.savedPct));
  const retention = sel.every((r) => r.needleRetention === 100);
  goalLines.push(`- ${name}: ${saved}% saved overall (lowest at >= 100 KB: ${minSaved}%), needles and errors kept: ${retention ? '100%' : 'NO'} (goal >= ${g.saved}% and 100%)`);
}
const json1mb = rows.filter((r) => r.size === 1000000 && GOALS.json.types.includes(r.type));
if (json1mb.length) {
  goalLines.push(`- 1 MB JSON arrays: transform p50 ${json1mb.map((r) => `${r.type} ${r.transformP50} ms`).join(', ')}; whole compress() p50 ${json1mb.map((r) => `${r.totalP50} ms`).join(', ')} (goal <= 30 ms p50); CPU time p50 ${json1mb.map((r) => `${r.cpuP50} ms`).join(', ')}`);
}

const header = '| type | size | tokens before | after | saved | needles kept | compress() p50 / p99 ms | CPU p50 ms | transform p50 / p99 ms | transforms |\n|---|---|---|---|---|---|---|---|---|---|';
const table = rows.map((r) => `| ${r.type} | ${r.size >= 1e6 ? `${r.size / 1e6} MB` : `${r.size / 1e3} KB`} | ${r.tokensBefore} | ${r.tokensAfter} | ${r.savedPct}% | ${r.needles} | ${r.totalP50} / ${r.totalP99} | ${r.cpuP50} | ${r.transformP50} / ${r.transformP99} | ${r.transforms} |`).join('\n');
const env = `Node ${process.version}, ${process.platform}/${process.arch}, ${(await import('node:os')).cpus().length} cores (shared machine), model tokenizer ${MODEL} (o200k), seeds ${SEEDS.join(',')}`;
const md = `## Compression benchmark\n\n${env}\n\n${header}\n${table}\n\nReplay of a ${replayRow.historyOutputs}-output history (${Math.round(replayRow.bodyBytes / 1024)} KB body) per proxied request: p50 ${replayRow['claude-sonnet-4-5'].p50} ms, p99 ${replayRow['claude-sonnet-4-5'].p99} ms (Claude estimator); p50 ${replayRow['gpt-4o'].p50} ms, p99 ${replayRow['gpt-4o'].p99} ms (o200k)\n\nGoals:\n${goalLines.join('\n')}\n`;
process.stdout.write(md);
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/compress.json'), `${JSON.stringify({ env, rows, replay: replayRow, goals: goalLines }, null, 2)}\n`);
