// npm run bench:attribution — what per-session and per-user attribution costs, side by side in one run:
//   1. the durable store: writing 20k events without ids, with 10 sessions / 10 users, and with
//      a new session and user on every event (the worst case: one attribution row per event,
//      up to the per-day cap), in the store's own batches; microseconds per event and the ratio
//      to the events without ids;
//   2. the proxy stage: reading and hashing the ids of a request, next to parsing its body
//      (what the proxy does once anyway), per request.
// Figures vary with the machine; compare the ratios.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStatsStore } from '../dist/capabilities/stats/store/open.js';
import { attributionIds } from '../dist/capabilities/stats/attribution/ids.js';
import { silentLogger } from '../dist/core/logger.js';

const N = 20_000;
const ROUNDS = 5;

function event(i, ids) {
  return {
    ts: Date.now(), kind: 'proxy', provider: 'anthropic', model: `claude-sonnet-4-5`, project: null, inputTokens: 1200 + (i % 300), outputTokens: 300,
    tokensSaved: i % 2 ? 1500 : 0, newInputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, savingsUsd: 0.004, inputCostUsd: 0.0036, outputCostUsd: 0.0045,
    ...ids(i),
  };
}

const CASES = {
  'no ids': () => ({}),
  '10 sessions, 10 users': (i) => ({ session: `s${i % 10}`.padEnd(12, '0'), user: `u${i % 10}`.padEnd(12, '0') }),
  'new session and user per event': (i) => ({ session: `s${i}`.padEnd(12, '0'), user: `u${i}`.padEnd(12, '0') }),
};

async function storeCost(ids) {
  const dir = mkdtempSync(join(tmpdir(), 'headroom-bench-attr-'));
  const store = openStatsStore({ config: { savingsPath: null, workspaceDir: dir, stateless: false, statsRetentionDays: 365, statsFlushMs: 250 }, log: silentLogger() });
  try {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
      store.record(event(i, ids));
      if (i % 32 === 31) store.flushNow(); // the store's background chunk size
    }
    store.flushNow();
    return ((performance.now() - t0) * 1000) / N;
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// a warm-up, then the cases interleaved round by round (a loaded machine slows them alike)
await storeCost(CASES['no ids']);
const runs = Object.fromEntries(Object.keys(CASES).map((k) => [k, []]));
for (let r = 0; r < ROUNDS; r++) for (const [name, ids] of Object.entries(CASES)) runs[name].push(await storeCost(ids));
const store = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v)]));

// the stage: ids of a typical Claude Code request vs parsing its body once
const body = JSON.stringify({
  model: 'claude-sonnet-4-5', max_tokens: 1024, metadata: { user_id: `user_${'a'.repeat(64)}_account_0b3c5d7e-1111-2222-3333-444455556666_session_9f8e7d6c-aaaa-bbbb-cccc-ddddeeeeffff` },
  messages: Array.from({ length: 40 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `turn ${i} `.repeat(200) })),
});
const headers = { 'x-claude-code-session-id': '9f8e7d6c-aaaa-bbbb-cccc-ddddeeeeffff' };
const M = 2000;
let parsed;
let t0 = performance.now();
for (let i = 0; i < M; i++) parsed = JSON.parse(body);
const parseUs = ((performance.now() - t0) * 1000) / M;
t0 = performance.now();
for (let i = 0; i < M * 50; i++) attributionIds(headers, 'messages', parsed);
const idsUs = ((performance.now() - t0) * 1000) / (M * 50);
// new ids every time (no hash cache hit)
t0 = performance.now();
for (let i = 0; i < M * 10; i++) attributionIds({ 'x-claude-code-session-id': `sess-${i}` }, 'messages', { metadata: { user_id: `user-${i}` } });
const idsColdUs = ((performance.now() - t0) * 1000) / (M * 10);

const base = store['no ids'];
console.log('durable store, per event (median of %d runs of %d events):', ROUNDS, N);
for (const [name, us] of Object.entries(store)) console.log(`  ${name.padEnd(32)} ${us.toFixed(1).padStart(6)} µs  x${(us / base).toFixed(2)}`);
console.log(`proxy stage, per request: ids ${idsUs.toFixed(2)} µs (cached hashes), ${idsColdUs.toFixed(2)} µs (new ids) vs parsing the ${(body.length / 1024).toFixed(0)} kB body ${parseUs.toFixed(1)} µs (x${(idsUs / parseUs).toFixed(4)}, x${(idsColdUs / parseUs).toFixed(4)})`);
console.log(JSON.stringify({ store_us_per_event: store, stage_us: { cached: idsUs, new_ids: idsColdUs, parse_body: parseUs } }));
