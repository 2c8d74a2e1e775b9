/**
 * The stats store on a real Postgres, through the proxy over HTTP: the same traffic gives the
 * same `/stats` and `/stats-history` figures from the SQLite and the Postgres store, and two
 * instances sharing one database report the same lifetime (the sum of both instances' traffic).
 */
import Anthropic from '@anthropic-ai/sdk';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { PgStatsStore } from '../src/capabilities/stats/store/pg.js';
import { statsSchema } from '../src/capabilities/stats/store/pg-schema.js';
import { DEFAULT_LIMITS, type SavingsEvent } from '../src/capabilities/stats/store/types.js';
import { PgDatabase } from '../src/storage/postgres/database.js';
import { migrateComponent } from '../src/storage/postgres/migrate.js';
import type { Exchange, ProxyStage } from '../src/capabilities/proxy/api.js';
import { FAKE_ANTHROPIC_KEY, type Harness, startHarness } from './helpers/harness.js';
import { freshDatabase, PG_SKIP_REASON, type TestDatabase, TEST_PG_URL } from './helpers/postgres.js';

type Json = Record<string, any>;
const BIG = 'compile ok; test ok; lint ok; '.repeat(200);
const approx = (s: string) => Math.ceil(Buffer.byteLength(s) / 4);

/** Cuts long user texts, so that requests save tokens (the figures the store keeps). */
const compressor: ProxyStage = {
  name: 'test-compressor',
  beforeUpstream(ex: Exchange) {
    const body = ex.json as Json | null;
    const last = Array.isArray(body?.messages) ? body.messages[body.messages.length - 1] : null;
    if (!last || typeof last.content !== 'string' || last.content.length <= 2000) return;
    const kept = `${last.content.slice(0, 200)} [compressed]`;
    ex.setForwardBody(Buffer.from(JSON.stringify({ ...body, messages: [...body!.messages.slice(0, -1), { ...last, content: kept }] })));
    const before = approx(ex.body.toString('utf8'));
    const saved = approx(last.content) - approx(kept);
    delete ex.rec.ext.placement;
    ex.rec.compression = { tokensBefore: before, tokensAfter: before - saved, tokensSaved: saved, newInputTokens: approx(last.content), transforms: ['log_compressor'], timingsMs: { log_compressor: 0.1 }, error: null };
  },
};

async function instance(databaseUrl: string | null): Promise<Harness> {
  const h = await startHarness({ config: { skipUpstreamCheck: true, logLevel: 'warn', statsFlushMs: 20, ...(databaseUrl ? { databaseUrl } : {}) } });
  h.app.service('proxy')!.addStage(compressor);
  return h;
}

async function traffic(url: string, from: number, to: number): Promise<void> {
  const client = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: url, maxRetries: 0 });
  for (let i = from; i < to; i++) {
    const model = i % 3 === 0 ? 'claude-sonnet-4-5' : 'claude-haiku-4-5';
    await client.messages.create({ model, max_tokens: 8, messages: [{ role: 'user', content: i % 2 ? `turn ${i}\n${BIG}` : `turn ${i}` }] }, { headers: { 'x-headroom-project': i % 4 === 0 ? 'alpha' : 'beta' } });
  }
}

const get = async (url: string, path: string): Promise<Json> => (await (await fetch(`${url}${path}`)).json()) as Json;

/** What must agree between stores and instances (times and locations differ by nature). */
function figures(history: Json, stats: Json): Json {
  const series = (rows: Json[]) => rows.map((r) => ({ ...r, timestamp: undefined, start: undefined, end: undefined, label: undefined }));
  return {
    lifetime: history.lifetime,
    session: { ...history.display_session, started_at: undefined, last_activity_at: undefined },
    projects: Object.fromEntries(Object.entries(history.projects as Json).map(([k, v]) => [k, { ...(v as Json), last_activity_at: undefined }])),
    history: (history.history as Json[]).map((p) => ({ ...p, timestamp: undefined })),
    daily: series(history.series.daily),
    stats_lifetime: stats.persistent_savings.lifetime,
    stats_points: stats.persistent_savings.history_points,
  };
}

async function settled(url: string, requests: number): Promise<{ history: Json; stats: Json }> {
  // readers flush first; a second instance's batch may still be in flight for a moment
  for (let i = 0; i < 200; i++) {
    const history = await get(url, '/stats-history?history_mode=full');
    if (history.lifetime.requests >= requests) return { history, stats: await get(url, '/stats') };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`lifetime never reached ${requests} requests at ${url}`);
}

describe.skipIf(!TEST_PG_URL)(`stats store on Postgres${TEST_PG_URL ? '' : ` (skipped: ${PG_SKIP_REASON})`}`, () => {
  const open: Harness[] = [];
  const dbs: TestDatabase[] = [];
  afterEach(async () => {
    for (const h of open.splice(0)) await h.close();
    for (const d of dbs.splice(0)) await d.drop();
  });

  it('the same traffic gives the same /stats and /stats-history lifetime from SQLite and Postgres', async () => {
    const d = await freshDatabase();
    dbs.push(d);
    const lite = await instance(null);
    const shared = await instance(d.url);
    open.push(lite, shared);
    await traffic(lite.url, 0, 12);
    await traffic(shared.url, 0, 12);
    const a = await settled(lite.url, 12);
    const b = await settled(shared.url, 12);
    expect(a.history.lifetime.requests).toBe(12);
    expect(a.history.lifetime.tokens_saved).toBeGreaterThan(0);
    expect(figures(b.history, b.stats)).toEqual(figures(a.history, a.stats));
    expect(a.history.history.length).toBeGreaterThan(0);
    expect(Object.keys(a.history.projects).sort()).toEqual(['alpha', 'beta']);
    expect(b.stats.persistent_savings.storage).toMatchObject({ backend: 'postgres', pending_events: 0, last_error: null });
    expect(a.stats.persistent_savings.storage).toMatchObject({ backend: 'sqlite' });
    expect(b.history.storage_path).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1/);
    const health = await get(shared.url, '/health');
    expect(health.checks.store).toMatchObject({ backend: 'postgres', degraded: false, status: 'healthy' });
    expect(health.checks.database).toMatchObject({ enabled: true, migrated: true, degraded_stores: [], status: 'healthy' });
  });

  it('two instances sharing one database report the same lifetime: the sum of both', async () => {
    const d = await freshDatabase();
    dbs.push(d);
    const lite = await instance(null);
    const one = await instance(d.url);
    const two = await instance(d.url);
    open.push(lite, one, two);
    await traffic(lite.url, 0, 16);
    await Promise.all([traffic(one.url, 0, 8), traffic(two.url, 8, 16)]);
    const ref = await settled(lite.url, 16);
    const a = await settled(one.url, 16);
    const b = await settled(two.url, 16);
    expect(a.history.lifetime).toEqual(ref.history.lifetime);
    expect(b.history.lifetime).toEqual(ref.history.lifetime);
    expect(a.history.projects).toEqual(b.history.projects);
    expect(a.history.history.length).toBe(ref.history.history.length);
    const events = await d.query<{ n: number; instances: number }>('SELECT count(*)::int AS n, count(DISTINCT instance)::int AS instances FROM stats_events');
    expect(events).toEqual([{ n: 16, instances: 2 }]);
  });

  it('a batch written again (its commit was not acknowledged) is applied once: the events\' idempotency keys', async () => {
    const d = await freshDatabase();
    dbs.push(d);
    const db = new PgDatabase({ url: d.url, statementTimeoutMs: 5000, connectTimeoutMs: 3000, poolSize: 2 }, pino({ level: 'silent' }));
    await migrateComponent(db, statsSchema);
    const event = (i: number): SavingsEvent => ({
      ts: Date.now() + i, kind: 'proxy', provider: 'anthropic', model: 'claude-haiku-4-5', project: null, inputTokens: 100, outputTokens: 10,
      tokensSaved: 40, newInputTokens: 100, cacheReadTokens: 0, cacheWriteTokens: 0, savingsUsd: 0.001, inputCostUsd: 0.0001, outputCostUsd: 0.00005,
    });
    const opts = { db, log: pino({ level: 'silent' }), flushMs: 5, limits: DEFAULT_LIMITS, instance: 'replayed-instance' };
    const first = new PgStatsStore(opts);
    for (let i = 0; i < 5; i++) first.record(event(i));
    await first.flush();
    await first.close();
    // the same instance id and sequence: the same keys, as when a batch is retried after a lost answer
    const again = new PgStatsStore(opts);
    for (let i = 0; i < 7; i++) again.record(event(i));
    await again.flush();
    await again.close();
    expect(await d.query("SELECT requests::int AS n, tokens_saved::int AS saved FROM stats_totals WHERE scope = 'lifetime'")).toEqual([{ n: 7, saved: 280 }]);
    expect(await d.query('SELECT count(*)::int AS n FROM stats_events')).toEqual([{ n: 7 }]);
    await db.close();
  });
});
