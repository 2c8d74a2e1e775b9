#!/usr/bin/env node
/**
 * Corpus benchmark: `npm run bench:corpus` (builds first).
 *
 * Every case of the shared corpus (Headroom's benchmark requests, `../shared/corpus/
 * headroom-benchmarks/`, see its README) and of the project's own `bench/corpus/` goes
 *   - through `compress()` (the library: every eligible message), and
 *   - through the proxy, twice, each time an in-process App (its own workspace) in front of
 *     the mock upstream, measuring the body that reached the upstream:
 *     - one request: the request sent exactly as the case gives it (its earlier tool turns
 *       are history the proxy never saw);
 *     - turn by turn: the conversation as the agent built it, one request per model turn
 *       (each ending before an assistant message), then the case's request, which is measured.
 * Per case it prints tool-result tokens before/after and the share saved, the whole request's
 * share saved, every evidence string kept or lost, the time, and Headroom's published figure
 * where the case has one. Tokens are exact o200k counts (the GPT-4o vocabulary) for every
 * case, so figures add up across cases. Results: stdout (Markdown), bench/results/corpus.json;
 * `--readme` also rewrites the table in README.md between the bench-corpus markers.
 *
 * Options: --quick (one timed run per case), --only=<substring of case ids>, --no-proxy,
 *          --readme
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkEvidence, loadCases, OWN_CORPUS, REPO, requestOf, sharedCorpusDir, toolTexts } from './lib/corpus.mjs';

const { runCompress } = await import(join(REPO, 'dist/sdk/compress.js'));
const { configWith, createProxyApp } = await import(join(REPO, 'dist/index.js'));
const { MockUpstream } = await import(join(REPO, 'dist/mock/upstream.js'));
const { silentLogger } = await import(join(REPO, 'dist/core/logger.js'));

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')).map(([k, v]) => [k, v ?? 'true']));
const quick = args.quick === 'true';
const RUNS = quick ? 1 : 5;
const KEYS = { anthropic: 'sk-ant-bench-fake-key-000000000000', openai: 'sk-test-bench-fake-key-00000000000' };
const MODELS = { anthropic: 'claude-sonnet-4-5', openai: 'gpt-4o' };

// exact o200k counts (the engine samples long texts; a benchmark should not)
const require = createRequire(join(REPO, 'package.json'));
const { Tiktoken } = require('js-tiktoken/lite');
const ranks = require('js-tiktoken/ranks/o200k_base');
const enc = new Tiktoken(ranks.default ?? ranks);
const memo = new Map();
const tokens = (text) => {
  let n = memo.get(text);
  if (n === undefined) memo.set(text, (n = enc.encode(text, [], []).length));
  return n;
};
const sum = (texts) => texts.reduce((a, t) => a + tokens(t), 0);
const pct = (before, after) => (before > 0 ? Math.round((1000 * (before - after)) / before) / 10 : 0);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const r1 = (x) => Math.round(x * 10) / 10;

const shared = sharedCorpusDir();
if (!shared) {
  console.error('The shared corpus is missing: expected ../shared/corpus/headroom-benchmarks next to the checkout (or set HEADROOM_CORPUS_DIR).');
  process.exit(1);
}
let cases = [...loadCases(shared, 'shared'), ...loadCases(OWN_CORPUS, 'own')];
if (args.only) cases = cases.filter((c) => c.id.includes(args.only));

/** Headroom's figure for a case: published saving, its recorded transform output, or golden recall. */
function headroomFigure(c, beforeTools) {
  const h = c.headroom;
  if (!h) return { text: '', pct: null };
  if (typeof h.saved_pct === 'number') return { text: `${h.saved_pct}%`, pct: h.saved_pct };
  if (typeof h.output === 'string') {
    const p = pct(beforeTools, tokens(h.output));
    return { text: `${p}% (its recorded output)`, pct: p };
  }
  if (typeof h.recall_aggregate === 'number') return { text: `recall ${h.recall_aggregate}`, pct: null };
  return { text: '', pct: null };
}

function libraryRun(c) {
  const model = MODELS[c.format];
  const opts = { model, ...(c.options ?? {}) };
  runCompress(c.messages, opts); // warm-up (JIT, parse caches)
  const times = [];
  let last;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    last = runCompress(c.messages, opts).result;
    times.push(performance.now() - t0);
  }
  return { messages: last.messages, ms: median(times), transforms: [...new Set(last.transforms_applied)] };
}

async function proxyRun(url, upstream, c, turns) {
  const body = JSON.stringify(requestOf(c, MODELS[c.format]));
  const anthropic = c.format === 'anthropic';
  // one key per case: every case is its own conversation, as independent sessions are
  const key = `${KEYS[c.format]}-${c.id}`;
  const headers = anthropic
    ? { 'content-type': 'application/json', 'x-api-key': key, 'anthropic-version': '2023-06-01', 'x-mock-tools': 'off' }
    : { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'x-mock-tools': 'off' };
  const path = `${url}${anthropic ? '/v1/messages' : '/v1/chat/completions'}`;
  // turn by turn: the conversation as the agent built it, one request per model turn (each
  // ending before an assistant message), so every tool output was the newest input once
  if (turns) {
    for (let i = 1; i < c.messages.length; i++) {
      if (c.messages[i].role !== 'assistant' || c.messages[i - 1].role === 'system') continue;
      const prefix = JSON.stringify(requestOf({ ...c, messages: c.messages.slice(0, i) }, MODELS[c.format]));
      const r = await fetch(path, { method: 'POST', headers, body: prefix });
      await r.text();
    }
  }
  upstream.reset?.();
  const t0 = performance.now();
  const res = await fetch(path, { method: 'POST', headers, body });
  await res.text();
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`${c.id}: proxy answered ${res.status}`);
  const seen = upstream.requests[upstream.requests.length - 1];
  const sent = seen.json;
  return { request: sent, messages: sent.messages, ms, overheadMs: Number(res.headers.get('x-headroom-overhead-ms') ?? 'NaN'), bytesBefore: Buffer.byteLength(body), bytesAfter: seen.body.length };
}

const rows = [];
const MODES = args['no-proxy'] === 'true' ? [] : [['proxy', false], ['turns', true]];
let upstream = null;
/** One app per proxy mode, each with its own workspace (replay map and originals). */
const apps = [];
if (MODES.length) {
  upstream = new MockUpstream({ record: true });
  const mockUrl = await upstream.start();
  for (const [side, turns] of MODES) {
    const workspace = mkdtempSync(join(tmpdir(), 'bench-corpus-'));
    const app = await createProxyApp(configWith({ port: 0, anthropicApiUrl: mockUrl, openaiApiUrl: mockUrl, workspaceDir: workspace, logLevel: 'silent' }), { logger: silentLogger() });
    apps.push({ side, turns, app, workspace, url: (await app.listen()).url });
  }
}
const proxied = apps.length > 0;

try {
  for (const c of cases) {
    const before = toolTexts(c.format, c.messages);
    const toolsBefore = sum(before);
    const reqBefore = tokens(JSON.stringify(requestOf(c, MODELS[c.format])));
    const lib = libraryRun(c);
    const libAfter = toolTexts(c.format, lib.messages);
    const libEvidence = checkEvidence(c, before, libAfter, lib.messages);
    const row = {
      id: c.id,
      origin: c.origin,
      group: c.group,
      format: c.format,
      evidence: (c.evidence ?? []).length,
      toolTokensBefore: toolsBefore,
      requestTokensBefore: reqBefore,
      headroom: headroomFigure(c, toolsBefore),
      library: {
        toolTokensAfter: sum(libAfter),
        toolSavedPct: pct(toolsBefore, sum(libAfter)),
        requestSavedPct: pct(reqBefore, tokens(JSON.stringify(requestOf({ ...c, messages: lib.messages }, MODELS[c.format])))),
        kept: libEvidence.kept,
        lost: libEvidence.lost,
        ms: r1(lib.ms),
        transforms: lib.transforms,
      },
      proxy: null,
      turns: null,
    };
    for (const a of apps) {
      const p = await proxyRun(a.url, upstream, c, a.turns);
      const after = toolTexts(c.format, p.messages);
      const ev = checkEvidence(c, before, after, p.messages);
      row[a.side] = {
        toolTokensAfter: sum(after),
        toolSavedPct: pct(toolsBefore, sum(after)),
        requestSavedPct: pct(reqBefore, tokens(JSON.stringify(p.request))),
        kept: ev.kept,
        lost: ev.lost,
        ms: r1(p.ms),
        overheadMs: p.overheadMs,
      };
    }
    rows.push(row);
    const lostAny = ['library', ...apps.map((a) => a.side)].flatMap((side) => row[side].lost.map((l) => `${side}: ${l}`));
    process.stderr.write(`${c.id}: library ${row.library.toolSavedPct}%${apps.map((a) => `, ${a.side} ${row[a.side].toolSavedPct}%`).join('')}, evidence ${row.library.kept.length}/${row.evidence}${lostAny.length ? ` LOST ${JSON.stringify(lostAny)}` : ''}\n`);
  }
} finally {
  for (const a of apps) {
    await a.app.close();
    rmSync(a.workspace, { recursive: true, force: true });
  }
  await upstream?.close();
}

// totals per origin and per Headroom scenario
function totals(sel, side) {
  const before = sel.reduce((a, r) => a + r.toolTokensBefore, 0);
  const after = sel.reduce((a, r) => a + r[side].toolTokensAfter, 0);
  const evidence = sel.reduce((a, r) => a + r.evidence, 0);
  const lost = sel.flatMap((r) => r[side].lost.map((l) => `${r.id}: ${l}`));
  return { cases: sel.length, before, after, savedPct: pct(before, after), evidence, kept: evidence - lost.length, lost };
}
const SCENARIOS = [
  ['code search', /^hr_code_search/],
  ['needle', /^hr_needle/],
  ['SRE', /^hr_sre/],
  ['triage', /^hr_triage/],
  ['exploration', /^hr_codebase/],
];
const sides = ['library', ...apps.map((a) => a.side)];
const SIDE_NAME = { library: 'library', proxy: 'proxy, one request', turns: 'proxy, turn by turn' };
const summary = {};
for (const side of sides) {
  summary[side] = {
    shared: totals(rows.filter((r) => r.origin === 'shared'), side),
    own: totals(rows.filter((r) => r.origin === 'own'), side),
    scenarios: SCENARIOS.map(([name, re]) => {
      const sel = rows.filter((r) => re.test(r.id));
      if (!sel.length) return null;
      const request = sel.reduce((a, r) => a + r[side].requestSavedPct, 0) / sel.length;
      const hr = sel[0].headroom.pct;
      return { name, cases: sel.length, requestSavedPct: r1(request), toolSavedPct: totals(sel, side).savedPct, headroomPct: hr, met: hr === null || request >= hr };
    }).filter(Boolean),
  };
}

const ev = (s) => (s.lost.length ? `${s.kept.length}/${s.kept.length + s.lost.length} (lost: ${s.lost.join('; ')})` : `${s.kept.length}/${s.kept.length}`);
const header =
  `| case | tool tokens before | library after | library saved (tools / request) | evidence kept (library) | library ms |` +
  `${proxied ? ' proxy, one request: saved (tools / request) | evidence kept | proxy, turn by turn: saved (tools / request) | evidence kept |' : ''} Headroom |\n` +
  `|---|---|---|---|---|---|${proxied ? '---|---|---|---|' : ''}---|`;
const proxyCells = (x) => ` ${x.toolSavedPct}% / ${x.requestSavedPct}% | ${ev(x)} |`;
const line = (r) =>
  `| ${r.id} | ${r.toolTokensBefore} | ${r.library.toolTokensAfter} | ${r.library.toolSavedPct}% / ${r.library.requestSavedPct}% | ${ev(r.library)} | ${r.library.ms} |` +
  `${r.proxy ? proxyCells(r.proxy) : ''}${r.turns ? proxyCells(r.turns) : ''} ${r.headroom.text} |`;
const totalLines = [];
for (const side of sides) {
  for (const origin of ['shared', 'own']) {
    const t = summary[side][origin];
    if (!t.cases) continue;
    totalLines.push(`- ${SIDE_NAME[side]}, ${origin === 'shared' ? 'shared corpus' : 'own cases'} (${t.cases}): tool-result tokens ${t.before} -> ${t.after}, ${t.savedPct}% saved; evidence kept ${t.kept}/${t.evidence}${t.lost.length ? ` (lost: ${t.lost.join('; ')})` : ''}`);
  }
  for (const s of summary[side].scenarios) {
    totalLines.push(`- ${SIDE_NAME[side]}, ${s.name} (${s.cases} case${s.cases > 1 ? 's' : ''}): whole request ${s.requestSavedPct}% saved (tool results ${s.toolSavedPct}%), Headroom ${s.headroomPct ?? '-'}%${s.headroomPct === null ? '' : s.met ? ' (met)' : ' (NOT met)'}`);
  }
}
const env = `Node ${process.version}, ${(await import('node:os')).cpus().length} cores (shared machine); o200k tokens; library ms = median of ${RUNS} compress() call${RUNS > 1 ? 's' : ''}${proxied ? '; proxy: each case sent as one request, and turn by turn (the last request measured), each mode on its own proxy' : ''}`;
const md = `${env}\n\n${header}\n${rows.map(line).join('\n')}\n\nTotals:\n${totalLines.join('\n')}\n`;
process.stdout.write(`## Corpus benchmark\n\n${md}`);
mkdirSync(join(REPO, 'bench/results'), { recursive: true });
writeFileSync(join(REPO, 'bench/results/corpus.json'), `${JSON.stringify({ env, rows, summary }, null, 2)}\n`);
if (args.readme === 'true') {
  const path = join(REPO, 'README.md');
  const readme = readFileSync(path, 'utf8');
  const a = readme.indexOf('<!-- bench-corpus:start -->');
  const b = readme.indexOf('<!-- bench-corpus:end -->');
  if (a === -1 || b === -1) throw new Error('README.md lacks the bench-corpus markers');
  writeFileSync(path, `${readme.slice(0, a)}<!-- bench-corpus:start -->\n${md}${readme.slice(b)}`);
  console.error('README.md corpus table updated');
}
