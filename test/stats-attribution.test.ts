/**
 * Attribution: usage grouped by Claude Code's session header and by the user id of the body
 * (Anthropic `metadata.user_id`, OpenAI `safety_identifier` / `user`), hashed, through the
 * official SDKs: `/stats` and `/stats-history` show each session's and user's figures, the
 * tables are capped at 32 rows with `(other)` and still add up, raw ids appear in no response,
 * log line or byte of the SQLite file, and a store file of schema 1 is upgraded in place.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import Database from 'better-sqlite3';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountingOf } from '../src/capabilities/stats/accounting.js';
import { dimensionJson, MAX_ATTRIBUTION_ROWS, OTHER_ID } from '../src/capabilities/stats/attribution/breakdown.js';
import { attributionIds, splitUserId } from '../src/capabilities/stats/attribution/ids.js';
import { MAX_IDS_PER_DAY } from '../src/capabilities/stats/store/attribution-table.js';
import { openStatsStore } from '../src/capabilities/stats/store/open.js';
import { silentLogger } from '../src/core/logger.js';
import type { RequestOutcome } from '../src/core/outcome.js';
import { defaultPlugins } from '../src/compose/proxy.js';
import { fakeCompressorPlugin } from './helpers/fake-compressor.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';

type Json = Record<string, any>;

/** The hash the docs tell a team to compute: `printf '%s' "$ID" | sha256sum | cut -c1-12`. */
const h12 = (id: string) => createHash('sha256').update(id).digest('hex').slice(0, 12);

// raw ids, each distinctive enough to grep for
const SESSION_A = 'rawsess-aaaa-1111-4c1e-9e5a-0123456789ab';
const SESSION_B = 'rawsess-bbbb-2222-4c1e-9e5a-0123456789ab';
const ALICE = 'user_rawalice0123456789abcdef0123456789abcdef0123456789abcdef0123_account_rawacct-alice-5555';
const ALICE_CC = `${ALICE}_session_rawsess-embedded-7777`;
const BOB_OPENAI = 'rawbob@example.invalid';
const CAROL_SAFETY = 'rawcarol-safety-8888';
const RAW_IDS = [SESSION_A, SESSION_B, ALICE, 'rawsess-embedded-7777', BOB_OPENAI, CAROL_SAFETY, 'rawalice0123456789abcdef', 'rawacct-alice'];

const LOG = Array.from({ length: 300 }, (_, i) => `2026-03-27T09:00:${String(i % 60).padStart(2, '0')} INFO worker ${i % 7} processed batch ${i}`).join('\n');

const fetchJson = async (url: string): Promise<Json> => (await fetch(url)).json() as Promise<Json>;
const fetchText = async (url: string): Promise<string> => (await fetch(url)).text();
const sum = (rows: Json[], k: string) => rows.reduce((a, r) => a + (r[k] as number), 0);

/** What the per-id figures must be, computed from the outcomes with the same accounting /stats uses. */
function expected(outcomes: RequestOutcome[], pick: (o: RequestOutcome) => string | null | undefined): Map<string | null, Json> {
  const out = new Map<string | null, Json>();
  for (const o of outcomes) {
    const a = accountingOf(o);
    const id = pick(o) ?? null;
    const e = out.get(id) ?? { requests: 0, input_tokens: 0, output_tokens: 0, spend_usd: 0, saved_usd: 0 };
    e.requests++;
    e.input_tokens += a.inputTokens;
    e.output_tokens += a.outputTokens;
    e.spend_usd += a.inputCostUsd + a.outputCostUsd;
    e.saved_usd += a.compressionSavingsUsd;
    out.set(id, e);
  }
  return out;
}

function expectRow(table: Json, id: string, want: Json | undefined): void {
  const row = (table.rows as Json[]).find((r) => r.id === id);
  expect(row, `row ${id}`).toBeDefined();
  expect(want, `expected figures for ${id}`).toBeDefined();
  expect(row!.requests).toBe(want!.requests);
  expect(row!.input_tokens).toBe(want!.input_tokens);
  expect(row!.output_tokens).toBe(want!.output_tokens);
  expect(row!.spend_usd).toBeCloseTo(want!.spend_usd, 6);
  expect(row!.saved_usd).toBeCloseTo(want!.saved_usd, 6);
  expect(row!.spend_usd).toBeCloseTo(row!.input_cost_usd + row!.output_cost_usd, 5); // each rounded to 6 places
}

describe('attribution through the official SDKs', () => {
  let h: Harness;
  let stats: Json;
  let history: Json;
  let logDir: string;

  beforeAll(async () => {
    logDir = mkdtempSync(join(tmpdir(), 'headroom-attr-log-'));
    h = await startHarness({ plugins: [...defaultPlugins(), fakeCompressorPlugin], config: { logFile: join(logDir, 'requests.jsonl') } });
    const claudeA = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0, defaultHeaders: { 'x-claude-code-session-id': SESSION_A } });
    const claudeB = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0, defaultHeaders: { 'x-claude-code-session-id': SESSION_B } });
    const plain = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0 });
    const openai = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const ask = (text: string) => [{ role: 'user' as const, content: text }];
    // session A: alice twice (once streamed); session B: alice once; no header: alice in Claude Code's format (embedded session)
    await claudeA.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, metadata: { user_id: ALICE }, messages: ask(`first question in session A, about this log:\n${LOG}`) });
    await claudeA.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 64, metadata: { user_id: ALICE }, messages: ask('a streamed follow-up in session A') }).finalMessage();
    await claudeB.messages.create({ model: 'claude-haiku-4-5', max_tokens: 32, metadata: { user_id: ALICE }, messages: ask('session B asks once') });
    await plain.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 16, metadata: { user_id: ALICE_CC }, messages: ask('claude code format') });
    // no id at all
    await plain.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 16, messages: ask('nobody') });
    // OpenAI: `user`, and `safety_identifier` (preferred when both are sent)
    await openai.chat.completions.create({ model: 'gpt-4o', user: BOB_OPENAI, messages: ask(`bob via user, with a log:\n${LOG}`) });
    await openai.chat.completions.create({ model: 'gpt-4o-mini', user: BOB_OPENAI, messages: ask('bob again') });
    await openai.chat.completions.create({ model: 'gpt-4o', user: 'ignored-when-safety-identifier', safety_identifier: CAROL_SAFETY, messages: ask('carol') });
    await h.waitForOutcomes(8);
    stats = await fetchJson(`${h.url}/stats`);
    history = await fetchJson(`${h.url}/stats-history`);
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    rmSync(logDir, { recursive: true, force: true });
  });

  it('names each session by the hash of its header (or of the session in a Claude Code user id)', () => {
    const want = expected(h.outcomes, (o) => o.ext.attribution?.session);
    for (const table of [stats.attribution.sessions, history.attribution.sessions]) {
      expect(table.distinct).toBe(3);
      expectRow(table, h12(SESSION_A), want.get(h12(SESSION_A)));
      expectRow(table, h12(SESSION_B), want.get(h12(SESSION_B)));
      expectRow(table, h12('rawsess-embedded-7777'), want.get(h12('rawsess-embedded-7777')));
      expect((table.rows as Json[]).find((r) => r.id === h12(SESSION_A))!.requests).toBe(2);
      expect((table.rows as Json[]).find((r) => r.id === h12(SESSION_A))!.saved_usd).toBeGreaterThan(0); // the log was compressed
      expect((table.rows as Json[]).find((r) => r.id === h12(SESSION_B))!.saved_usd).toBe(0);
      expect(table.unattributed.requests).toBe(4); // the request without ids and the three OpenAI ones
      expect(table.total.requests).toBe(8);
    }
  });

  it('names each user by the hash of metadata.user_id (without the embedded session), safety_identifier or user', () => {
    const want = expected(h.outcomes, (o) => o.ext.attribution?.user);
    for (const table of [stats.attribution.users, history.attribution.users]) {
      expect(table.distinct).toBe(3);
      // the four Anthropic requests of alice, whatever the session: one user
      expectRow(table, h12(ALICE), want.get(h12(ALICE)));
      expect((table.rows as Json[]).find((r) => r.id === h12(ALICE))!.requests).toBe(4);
      expectRow(table, h12(BOB_OPENAI), want.get(h12(BOB_OPENAI)));
      expectRow(table, h12(CAROL_SAFETY), want.get(h12(CAROL_SAFETY)));
      expect((table.rows as Json[]).some((r) => r.id === h12('ignored-when-safety-identifier'))).toBe(false);
      expect(table.unattributed.requests).toBe(1);
    }
  });

  it('adds up to what /stats reports for the process (same cost and savings figures)', () => {
    for (const table of [stats.attribution.sessions, stats.attribution.users]) {
      const rows = [...(table.rows as Json[]), table.unattributed];
      expect(sum(rows, 'requests')).toBe(stats.requests.total);
      expect(sum(rows, 'input_tokens')).toBe(stats.tokens.input);
      expect(sum(rows, 'output_tokens')).toBe(stats.tokens.output);
      // /stats rounds its dollars to 4 places
      expect(Math.abs(sum(rows, 'spend_usd') - stats.cost.total_cost_usd)).toBeLessThanOrEqual(0.00006);
      expect(Math.abs(sum(rows, 'saved_usd') - stats.cost.total_savings_usd)).toBeLessThanOrEqual(0.00006);
      expect(table.total.spend_usd).toBeGreaterThan(0);
      expect(table.total.saved_usd).toBeGreaterThan(0);
    }
    expect(stats.attribution.scope).toMatch(/^process/);
    expect(history.attribution.scope).toMatch(/^range/);
    expect(history.attribution.range.from).toMatch(/Z$/);
  });

  it('never shows, logs or stores a raw id', async () => {
    const bodies = [
      JSON.stringify(stats), JSON.stringify(history), await fetchText(`${h.url}/stats?cached=1`), await fetchText(`${h.url}/metrics`),
      await fetchText(`${h.url}/stats-history?format=csv&series=daily`), await fetchText(`${h.url}/metrics/logs`).catch(() => ''),
      h.logs.join('\n'),
    ];
    for (const raw of RAW_IDS) for (const b of bodies) expect(b.includes(raw), raw).toBe(false);
    const file = join(h.workspace, 'headroom_stats.sqlite');
    await h.app.close();
    const logFile = readFileSync(join(logDir, 'requests.jsonl'), 'utf8');
    expect(logFile.split('\n').filter(Boolean)).toHaveLength(8);
    for (const raw of RAW_IDS) expect(logFile.includes(raw), raw).toBe(false);
    const bytes = [file, `${file}-wal`].filter(existsSync).map((f) => readFileSync(f).toString('latin1')).join('');
    expect(bytes.length).toBeGreaterThan(0);
    for (const raw of RAW_IDS) expect(bytes.includes(raw), raw).toBe(false);
    expect(bytes.includes(h12(SESSION_A))).toBe(true);
    expect(bytes.includes(h12(ALICE))).toBe(true);
  });
});

describe('bounded cardinality', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it(`40 sessions and 40 users -> ${MAX_ATTRIBUTION_ROWS} rows each, the last ${OTHER_ID}, totals kept`, async () => {
    const n = 40;
    for (let i = 0; i < n; i++) {
      const c = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0, defaultHeaders: { 'x-claude-code-session-id': `cap-session-${i}` } });
      await c.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 8 + i, metadata: { user_id: `cap-user-${i}` }, messages: [{ role: 'user', content: `question ${'x'.repeat(i * 20)}` }] });
    }
    await h.waitForOutcomes(n);
    const stats = await fetchJson(`${h.url}/stats`);
    const history = await fetchJson(`${h.url}/stats-history`);
    for (const table of [stats.attribution.sessions, stats.attribution.users, history.attribution.sessions, history.attribution.users]) {
      const rows = table.rows as Json[];
      expect(table.distinct).toBe(n);
      expect(rows).toHaveLength(MAX_ATTRIBUTION_ROWS);
      expect(rows.at(-1)!.id).toBe(OTHER_ID);
      expect(rows.at(-1)!.requests).toBe(n - (MAX_ATTRIBUTION_ROWS - 1));
      expect(sum(rows, 'requests')).toBe(n);
      expect(sum(rows, 'input_tokens')).toBe(stats.tokens.input);
      expect(Math.abs(sum(rows, 'spend_usd') - stats.cost.total_cost_usd)).toBeLessThanOrEqual(0.00006);
      expect(sum(rows, 'spend_usd')).toBeCloseTo(table.total.spend_usd, 5);
      // the named rows are the ones that spent the most, most first
      const spends = rows.slice(0, -1).map((r) => r.spend_usd as number);
      expect(spends).toEqual([...spends].sort((a, b) => b - a));
      expect(Math.min(...spends)).toBeGreaterThanOrEqual(rows.at(-1)!.spend_usd / (n - MAX_ATTRIBUTION_ROWS + 1));
    }
    expect(stats.attribution.sessions.rows[0].id).toBe(h12(`cap-session-${n - 1}`));

    // /stats/reset zeroes the process tables; the store's range keeps every request
    expect((await fetch(`${h.url}/stats/reset`, { method: 'POST' })).status).toBe(200);
    const reset = await fetchJson(`${h.url}/stats`);
    expect(reset.attribution.sessions.rows).toEqual([]);
    expect(reset.attribution.users.total.requests).toBe(0);
    expect((await fetchJson(`${h.url}/stats-history`)).attribution.sessions.total.requests).toBe(n);
  }, 60_000);
});

describe('a schema-1 store file is upgraded in place', () => {
  it('keeps what the file held, records attribution afterwards', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'headroom-attr-migrate-'));
    try {
      const first = await startHarness({ config: { workspaceDir: workspace } });
      const c = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: first.url, maxRetries: 0 });
      await c.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 8, messages: [{ role: 'user', content: 'before the upgrade' }] });
      await first.waitForOutcomes(1);
      const before = (await fetchJson(`${first.url}/stats-history`)).lifetime;
      await first.close();
      // make it the file an earlier version wrote: schema 1 had no attribution table
      const file = join(workspace, 'headroom_stats.sqlite');
      const db = new Database(file);
      db.exec("DROP TABLE attribution_day; UPDATE meta SET value = '1' WHERE key = 'schema_version'");
      db.close();

      const second = await startHarness({ config: { workspaceDir: workspace } });
      try {
        const c2 = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: second.url, maxRetries: 0, defaultHeaders: { 'x-claude-code-session-id': 'after-upgrade' } });
        await c2.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 8, messages: [{ role: 'user', content: 'after the upgrade' }] });
        await second.waitForOutcomes(1);
        const after = await fetchJson(`${second.url}/stats-history`);
        expect(after.lifetime.requests).toBe(before.requests + 1);
        expect(after.lifetime.total_input_tokens).toBeGreaterThan(before.total_input_tokens);
        const rows = after.attribution.sessions.rows as Json[];
        expect(rows).toEqual([expect.objectContaining({ id: h12('after-upgrade'), requests: 1 })]);
        // the request stored before the upgrade has no attribution row: it is not invented
        expect(after.attribution.sessions.total.requests).toBe(1);
      } finally {
        await second.close();
      }
      const check = new Database(file, { readonly: true });
      expect((check.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string }).value).toBe('2');
      expect(check.prepare("SELECT count(*) AS n FROM attribution_day WHERE dim = 'session'").get()).toEqual({ n: 1 });
      check.close();
    } finally {
      rmSync(workspace, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('the store keeps at most MAX_IDS_PER_DAY ids per day and dimension', () => {
  it(`${MAX_IDS_PER_DAY + 5} new sessions in one day -> ${MAX_IDS_PER_DAY} rows and (other) with the 5 others, requests kept`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'headroom-attr-cap-'));
    const store = openStatsStore({ config: { savingsPath: null, workspaceDir: dir, stateless: false, statsRetentionDays: 365, statsFlushMs: 50 }, log: silentLogger() });
    try {
      const ts = Date.now();
      for (let i = 0; i < MAX_IDS_PER_DAY + 5; i++) {
        store.record({
          ts, kind: 'proxy', provider: 'anthropic', model: 'm', project: null, inputTokens: 10, outputTokens: 1, tokensSaved: 0, newInputTokens: 0,
          cacheReadTokens: 0, cacheWriteTokens: 0, savingsUsd: 0, inputCostUsd: 0.001, outputCostUsd: 0, session: `s${String(i).padStart(11, '0')}`, user: 'u00000000000',
        });
        if (i % 100 === 99) await store.flush(); // several batches, as the store writes them
      }
      await store.flush();
      const rows = await store.attribution();
      const sessions = rows.filter((r) => r.dim === 'session');
      expect(sessions.filter((r) => r.id !== OTHER_ID)).toHaveLength(MAX_IDS_PER_DAY);
      expect(sessions.find((r) => r.id === OTHER_ID)?.requests).toBe(5);
      expect(sum(sessions as unknown as Json[], 'requests')).toBe(MAX_IDS_PER_DAY + 5);
      expect(rows.filter((r) => r.dim === 'user')).toEqual([expect.objectContaining({ id: 'u00000000000', requests: MAX_IDS_PER_DAY + 5 })]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ids (unit)', () => {
  it('splits the session out of Claude Code user ids (both forms) and hashes everything', () => {
    expect(splitUserId('user_abc_account_def_session_123-456')).toEqual({ user: 'user_abc_account_def', session: '123-456' });
    expect(splitUserId('{"device_id":"d1","account_uuid":"a1","session_id":"s1"}')).toEqual({ user: '{"account_uuid":"a1","device_id":"d1"}', session: 's1' });
    expect(splitUserId('plain-id')).toEqual({ user: 'plain-id', session: null });
    const ids = attributionIds({ 'x-claude-code-session-id': 'hdr' }, 'messages', { metadata: { user_id: 'user_u_account_a_session_s' } });
    expect(ids).toEqual({ session: h12('hdr'), user: h12('user_u_account_a') });
    expect(attributionIds({}, 'messages', { metadata: { user_id: 'user_u_account_a_session_s' } }).session).toBe(h12('s'));
    expect(attributionIds({}, 'chat', { metadata: { user_id: 'not-for-openai' } })).toEqual({ session: null, user: null });
    expect(attributionIds({}, 'responses', { user: 'u', safety_identifier: 's' }).user).toBe(h12('s'));
    expect(attributionIds({}, 'messages', { metadata: { user_id: 'x'.repeat(2000) } }).user).toBeNull();
  });

  it('a stored (other) bucket stays (other) and leaves room for one name less', () => {
    const row = (id: string | null, requests: number, spend: number) => ({
      id, requests, inputTokens: 0, outputTokens: 0, tokensSaved: 0, inputCostUsd: spend, outputCostUsd: 0, savingsUsd: 0, firstTs: 1, lastTs: 2,
    });
    const t = dimensionJson([row('a', 1, 3), row('b', 1, 2), row(OTHER_ID, 5, 1), row(null, 2, 0)], 2);
    expect((t.rows as Json[]).map((r) => [r.id, r.requests])).toEqual([['a', 1], [OTHER_ID, 6]]);
    expect((t.total as Json).requests).toBe(9);
  });
});
