// npm run bench:savings — do the reported savings match the bill? An A/B on the built package:
// the same prompt-cached agent session (Anthropic Messages, 14 turns, large tool outputs,
// cache breakpoints where Claude Code puts them, one turn where the model calls
// headroom_retrieve) is sent through the proxy, and again with `x-headroom-bypass: true`
// through a fresh proxy, each against a fresh mock upstream that models the prompt cache.
// The spend of each run is read from what the mock billed for every upstream call (follow-up
// retrieval rounds included) and priced with the price table; the measured saving is the
// difference. Printed beside it: what /stats reported (`cost.total_savings_usd`), and the
// percentages /stats and /stats-history report. Then the same for an OpenAI Chat session.
// JSON goes to bench/results/savings.json.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configWith, createProxyApp } from '../dist/index.js';
import { anthropicTurn, chatTurn, spendOf } from '../dist/mock/cached-session.js';
import { MockUpstream } from '../dist/mock/upstream.js';
import { silentLogger } from '../dist/core/logger.js';

const TURNS = Number(process.env.BENCH_TURNS ?? 14);
const ANTHROPIC_KEY = 'sk-ant-bench-fake-key-000000000000';
const OPENAI_KEY = 'sk-test-bench-fake-key-0000000000';

async function start(tokenizer) {
  const mock = new MockUpstream({ tokenizer });
  await mock.start();
  const workspace = mkdtempSync(join(tmpdir(), 'bench-savings-'));
  const app = await createProxyApp(configWith({ port: 0, anthropicApiUrl: mock.url, openaiApiUrl: mock.url, workspaceDir: workspace, logLevel: 'silent', logRequests: false }), { logger: silentLogger() });
  const { url } = await app.listen();
  return {
    mock, url,
    async close() {
      await app.close();
      await mock.close();
      rmSync(workspace, { recursive: true, force: true });
    },
  };
}

async function getJson(url) {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
  return res.json();
}

/** Every number under a key ending in `percent`/`_pct` (and `percent` fields), with its path. */
function percentages(v, path = '', out = []) {
  if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      const p = path ? `${path}.${k}` : k;
      if (typeof x === 'number' && /(percent|_pct)$/.test(k)) out.push([p, x]);
      else percentages(x, p, out);
    }
  }
  return out;
}

async function runSession(api, bypass, tokenizer) {
  const s = await start(tokenizer);
  const model = api === 'messages' ? 'claude-sonnet-4-5' : 'gpt-4.1';
  const opts = { turns: TURNS, model, retrieveOn: [Math.ceil(TURNS * 0.6)], streamEvery: 4 };
  try {
    for (let t = 1; t <= TURNS; t++) {
      const turn = api === 'messages' ? anthropicTurn(t, opts) : chatTurn(t, opts);
      const headers = api === 'messages'
        ? { 'content-type': 'application/json', 'x-api-key': ANTHROPIC_KEY, 'anthropic-version': '2023-06-01' }
        : { 'content-type': 'application/json', authorization: `Bearer ${OPENAI_KEY}` };
      const res = await fetch(`${s.url}/v1/${api === 'messages' ? 'messages' : 'chat/completions'}`, {
        method: 'POST',
        headers: { ...headers, ...turn.headers, ...(bypass ? { 'x-headroom-bypass': 'true' } : {}) },
        body: JSON.stringify(turn.body),
      });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`turn ${t}: ${res.status} ${text.slice(0, 200)}`);
    }
    // the proxy records a request just after its response
    let stats;
    for (let i = 0; i < 50; i++) {
      stats = await getJson(`${s.url}/stats`);
      if (stats.requests.total >= TURNS) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const history = await getJson(`${s.url}/stats-history`);
    const provider = api === 'messages' ? 'anthropic' : 'openai';
    return { spend: spendOf(s.mock.requests, provider, model), stats, history };
  } finally {
    await s.close();
  }
}

const r4 = (n) => Math.round(n * 1e4) / 1e4;
const results = {};
// cl100k: the mock counts tokens as a provider does (a BPE vocabulary over the content, not the
// proxy's own tokenizer); bytes: 4 bytes a token whatever the content (a crude provider model,
// shown for the tokenizer mismatch it causes)
for (const [api, tokenizer] of [['messages', 'cl100k'], ['chat', 'cl100k'], ['messages', 'bytes']]) {
  const through = await runSession(api, false, tokenizer);
  const direct = await runSession(api, true, tokenizer);
  const measured = direct.spend.usd - through.spend.usd;
  const reported = through.stats.cost.total_savings_usd;
  const pcts = [...percentages(through.stats).map(([p, v]) => [`/stats ${p}`, v]), ...percentages(through.history).map(([p, v]) => [`/stats-history ${p}`, v])];
  const over = pcts.filter(([, v]) => v > 100 || v < 0);
  const tokens = through.stats.tokens;
  const name = `${api}/${tokenizer}`;
  results[name] = {
    turns: TURNS,
    mock_tokenizer: tokenizer,
    spend_direct_usd: r4(direct.spend.usd),
    spend_through_usd: r4(through.spend.usd),
    upstream_calls: { direct: direct.spend.calls, through: through.spend.calls },
    measured_savings_usd: r4(measured),
    reported_savings_usd: reported,
    reported_over_measured: measured !== 0 ? Math.round((reported / measured) * 1000) / 1000 : null,
    savings_breakdown: through.stats.cost.savings_breakdown ?? null,
    tokens_saved: tokens.saved,
    whole_wire_percent: tokens.savings_percent,
    new_input_percent: tokens.new_input_savings_percent,
    ccr_retrievals: through.stats.compression?.ccr_retrievals ?? null,
    percentages_out_of_range: over,
  };
  console.log(`${api === 'messages' ? 'Anthropic Messages' : 'OpenAI Chat'}, mock tokenizer ${tokenizer} (${TURNS} turns, ${through.spend.calls - direct.spend.calls} retrieval round(s))`);
  console.log(`  spend direct (bypass) $${r4(direct.spend.usd)}   through the proxy $${r4(through.spend.usd)}`);
  console.log(`  measured saving       $${r4(measured)}   /stats cost.total_savings_usd $${reported}   ratio ${results[name].reported_over_measured}`);
  const b = through.stats.cost.savings_breakdown;
  if (b) console.log(`  reported = compression $${b.compression_usd} - retrieval rounds $${b.retrieval_rounds_usd} - cache busts $${b.cache_bust_usd}`);
  console.log(`  tokens saved ${tokens.saved}; whole wire ${tokens.savings_percent}%; new input ${tokens.new_input_savings_percent}%`);
  console.log(`  percentages outside 0-100: ${over.length ? over.map(([p, v]) => `${p}=${v}`).join(', ') : 'none'}`);
}

mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/savings.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
