// npm run bench:session — a 30-turn agent session (src/mock/agent-session.ts) sent direct to
// the mock upstream, which models the provider's prompt cache, and again through the proxy,
// each against a cold cache: tokens sent, cache reads and writes, the cache hit rate (reads /
// tokens sent, as /stats reports it), the prefix reuse (of what the previous request cached,
// the share the next one read: 100% when no cache is broken) and, through the proxy, how many
// earlier messages or tools arrays changed between two consecutive upstream requests.
// Anthropic (breakpoints moved every turn) and OpenAI chat (automatic prefix cache), with an
// agent-CLI-size fixed prefix (~12k tokens) and a small one (~1.7k). Token figures are the
// mock's (about 4 bytes per token), deterministic. JSON goes to bench/results/session.json.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configWith, createProxyApp } from '../dist/index.js';
import { cacheSummary, prefixReport, runAnthropicSession, runChatSession } from '../dist/mock/agent-session.js';
import { MockUpstream } from '../dist/mock/upstream.js';
import { silentLogger } from '../dist/core/logger.js';
import { ROOT } from './lib/servers.mjs';

const HEADERS = {
  anthropic: { 'x-api-key': 'sk-ant-bench-fake-key-000000000000', 'anthropic-version': '2023-06-01' },
  chat: { authorization: 'Bearer sk-bench-fake-key-000000000000' },
};
const PATHS = { anthropic: '/v1/messages', chat: '/v1/chat/completions' };

const sender = (base, api) => async (body) => {
  const res = await fetch(`${base}${PATHS[api]}`, { method: 'POST', headers: { 'content-type': 'application/json', ...HEADERS[api] }, body: JSON.stringify(body) });
  const json = await res.json();
  if (res.status !== 200) throw new Error(`${api}: ${res.status} ${JSON.stringify(json).slice(0, 200)}`);
  return json;
};

const pct = (x) => `${(x * 100).toFixed(2)}%`;
const int = (n) => n.toLocaleString('en-US');

const mock = new MockUpstream();
await mock.start();
const workspace = mkdtempSync(join(tmpdir(), 'bench-session-'));
const app = await createProxyApp(configWith({ port: 0, anthropicApiUrl: mock.url, openaiApiUrl: mock.url, workspaceDir: workspace, logLevel: 'silent' }), { logger: silentLogger() });
const { url } = await app.listen();
const results = [];
try {
  for (const api of ['anthropic', 'chat']) {
    for (const prefix of ['agent', 'compact']) {
      const run = api === 'anthropic' ? runAnthropicSession : runChatSession;
      const row = { api, prefix };
      for (const [name, base] of [['direct', mock.url], ['proxy', url]]) {
        mock.reset();
        const usage = await run(sender(base, api), { prefix });
        row[name] = { ...cacheSummary(usage, api === 'anthropic'), upstream: prefixReport(mock.requests.map((r) => r.body)) };
      }
      results.push(row);
    }
  }
} finally {
  await app.close();
  await mock.close();
  rmSync(workspace, { recursive: true, force: true });
}

console.log('30-turn agent session, direct to the mock vs through the proxy (cold cache each run)\n');
console.log('api        prefix   run      tokens sent   cache read  cache write  hit rate  prefix reuse  history changes  tools changes');
for (const r of results) {
  for (const name of ['direct', 'proxy']) {
    const s = r[name];
    console.log(
      `${r.api.padEnd(10)} ${r.prefix.padEnd(8)} ${name.padEnd(7)} ${int(s.tokensSent).padStart(12)} ${int(s.cacheRead).padStart(12)} ${int(s.cacheWrite).padStart(12)} ${pct(s.hitRate).padStart(9)} ${pct(s.prefixReuse).padStart(13)} ${String(s.upstream.historyChanges).padStart(16)} ${String(s.upstream.toolsChanges).padStart(14)}`,
    );
  }
  const ratio = r.proxy.tokensSent / r.direct.tokensSent;
  console.log(`${''.padEnd(20)}proxy/direct: tokens sent x${ratio.toFixed(3)}, cache writes x${r.direct.cacheWrite ? (r.proxy.cacheWrite / r.direct.cacheWrite).toFixed(3) : 'n/a'}, hit rate ${(100 * (r.proxy.hitRate - r.direct.hitRate)).toFixed(2)} points\n`);
}
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(join(ROOT, 'bench/results/session.json'), `${JSON.stringify({ turns: 30, results }, null, 2)}\n`);
