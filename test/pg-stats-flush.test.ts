/**
 * The Postgres stats store writes one batch in one statement, with the figures of the
 * SQLite store: the same batches give the same totals, session, projects, history, rollups
 * and attribution, to the last bit; two stores flushing at once into one database add up; a
 * batch whose commit was not acknowledged, or whose events a concurrent retry stored while it
 * waited for the lock, is applied once.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { PgStatsStore } from '../src/capabilities/stats/store/pg.js';
import { statsSchema } from '../src/capabilities/stats/store/pg-schema.js';
import { initSchema, SqliteStatsStore } from '../src/capabilities/stats/store/sqlite.js';
import { DEFAULT_LIMITS, type SavingsEvent, type StatsStore, type StoreLimits } from '../src/capabilities/stats/store/types.js';
import { PgDatabase } from '../src/storage/postgres/database.js';
import { migrateComponent } from '../src/storage/postgres/migrate.js';
import { freshDatabase, PG_SKIP_REASON, type TestDatabase, TEST_PG_URL } from './helpers/postgres.js';

const log = pino({ level: 'silent' });
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 11, 7, 9, 0, 0);
const BATCH = /^WITH\s+ev AS/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the store wrote its backlog (its retries run on their own timer). */
async function written(s: PgStatsStore): Promise<void> {
  for (let i = 0; i < 100 && !(s.health().ok && s.health().pending === 0); i++) await sleep(50);
  expect(s.health()).toMatchObject({ ok: true, pending: 0 });
}

interface Counted {
  db: PgDatabase;
  /** Statement texts sent since the last `take()`. */
  take(): string[];
  /** Fails the next statement whose text matches after the server ran it (its answer is lost). */
  loseAnswerOf(text: RegExp): void;
}

/** A database handle whose connections count (and can lose the answer of) what they send. */
function counted(url: string): Counted {
  const db = new PgDatabase({ url, statementTimeoutMs: 5000, connectTimeoutMs: 3000, poolSize: 2 }, log);
  let sent: string[] = [];
  let lose: RegExp | null = null;
  db.pool.on('connect', (client: pg.PoolClient) => {
    const query = client.query.bind(client) as (...a: unknown[]) => Promise<unknown>;
    (client as { query: unknown }).query = (...args: unknown[]) => {
      const a = args[0] as string | { text: string };
      const text = typeof a === 'string' ? a : a.text;
      sent.push(text);
      // the pool passes a callback; direct users await the promise
      const cb = typeof args[args.length - 1] === 'function' ? (args.pop() as (err: unknown, res?: unknown) => void) : null;
      const lost = lose !== null && lose.test(text);
      if (lost) lose = null;
      const out = query(...args).then((res) => {
        if (lost) throw new Error('connection lost before the answer arrived (test)');
        return res;
      });
      if (!cb) return out;
      out.then((res) => cb(null, res), (err: unknown) => cb(err));
      return undefined;
    };
  });
  return {
    db,
    take: () => sent.splice(0),
    loseAnswerOf: (text) => {
      lose = text;
    },
  };
}

function event(i: number, over: Partial<SavingsEvent> = {}): SavingsEvent {
  return {
    ts: T0 + i * 60_000, kind: 'proxy', provider: i % 3 ? 'anthropic' : 'openai', model: i % 2 ? 'claude-haiku-4-5' : 'gpt-5-mini',
    project: i % 4 === 0 ? null : `p${i % 5}`, inputTokens: 1000 + i, outputTokens: 10 + (i % 7), tokensSaved: i % 3 === 0 ? 0 : 100 + i,
    newInputTokens: 900, cacheReadTokens: i % 2 ? 50 : 0, cacheWriteTokens: 0,
    // values whose sums depend on the order of the additions
    savingsUsd: i % 5 === 0 ? -0.3 : 0.1 + i * 1e-7, inputCostUsd: 0.2 + i * 3e-9, outputCostUsd: 0.7 / (i + 3),
    session: i % 6 === 0 ? null : `s${i % 4}`, user: i % 2 ? `u${i % 3}` : null,
    ...over,
  };
}

/** Everything a store answers, read the same way from both backends. */
async function everything(s: StatsStore, now: number) {
  return {
    lifetime: await s.lifetime(),
    session: await s.session(now),
    projects: await s.projects(),
    history: await s.history(10_000),
    hours: await s.rollups('hour'),
    days: await s.rollups('day'),
    attribution: (await s.attribution()).sort((a, b) => `${a.dim}:${a.id}`.localeCompare(`${b.dim}:${b.id}`)),
  };
}

const DYADIC = { savingsUsd: 0.125, inputCostUsd: 0.25, outputCostUsd: 0.0625 };

function sqliteStore(limits: StoreLimits): SqliteStatsStore {
  const db = new Database(':memory:');
  initSchema(db);
  return new SqliteStatsStore({ db, backend: 'memory', location: null, limits, flushMs: 3_600_000, log });
}

describe.skipIf(!TEST_PG_URL)(`Postgres stats store batches${TEST_PG_URL ? '' : ` (skipped: ${PG_SKIP_REASON})`}`, () => {
  const dbs: TestDatabase[] = [];
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
    for (const d of dbs.splice(0)) await d.drop();
  });

  async function setup(): Promise<{ d: TestDatabase; c: Counted }> {
    const d = await freshDatabase();
    dbs.push(d);
    const c = counted(d.url);
    closers.push(() => c.db.close());
    await migrateComponent(c.db, statsSchema);
    return { d, c };
  }

  function pgStore(c: Counted, limits: StoreLimits = DEFAULT_LIMITS, instance = 'one'): PgStatsStore {
    const s = new PgStatsStore({ db: c.db, limits, flushMs: 3_600_000, log, instance });
    closers.push(() => s.close());
    return s;
  }

  it('one flush sends one statement, whatever the batch holds', async () => {
    const { c } = await setup();
    const store = pgStore(c);
    store.record(event(0));
    await store.flush(); // the first flush also runs the retention prune
    c.take();
    for (let i = 1; i < 120; i++) store.record(event(i));
    await store.flush();
    const sent = c.take();
    // the batch, then the newest event id (what readers key their views on)
    expect(sent).toHaveLength(2);
    expect(sent[0]).toMatch(BATCH);
    expect(sent[1]).toBe('SELECT max(id) AS n FROM stats_events');
    expect((await store.lifetime()).requests).toBe(120);
  });

  it('the same batches give exactly the figures of the SQLite store (session gaps, project cap, attribution cap)', async () => {
    const { c } = await setup();
    const limits: StoreLimits = { ...DEFAULT_LIMITS, maxProjects: 3 };
    const lite = sqliteStore(limits);
    closers.push(() => lite.close());
    const shared = pgStore(c, limits);
    const batches: SavingsEvent[][] = [
      Array.from({ length: 40 }, (_, i) => event(i)),
      // more than the rollover after the batch's previous event, but not after the stored session's last activity: no rollover
      [event(3, { ts: T0 + 10 * 60_000 }), event(4, { ts: T0 + 89 * 60_000 })],
      // a rollover inside the batch: the session restarts at its last gap
      [event(50, { ts: T0 + 6 * HOUR }), event(51, { ts: T0 + 6 * HOUR + 1000 }), event(52, { ts: T0 + 9 * HOUR }), event(53, { ts: T0 + 9 * HOUR + 5 })],
      // unsorted, across a day boundary, new and known projects
      [event(70, { ts: T0 + 20 * HOUR, project: 'late' }), event(71, { ts: T0 + 14 * HOUR }), event(72, { ts: T0 + 15 * HOUR, project: 'p1' })],
      // more new session ids in one day than the day keeps: the rest are summed under (other) (figures that add exactly in any order)
      Array.from({ length: 500 }, (_, i) => event(100 + i, { ts: T0 + 21 * HOUR + i, session: `many-${i}`, ...DYADIC })),
      Array.from({ length: 500 }, (_, i) => event(600 + i, { ts: T0 + 22 * HOUR + i, session: `many-b-${i}`, ...DYADIC })),
      Array.from({ length: 60 }, (_, i) => event(1100 + i, { ts: T0 + 23 * HOUR + i, session: i % 2 ? `many-${i}` : `more-${i}`, ...DYADIC })),
    ];
    for (const b of batches) {
      for (const e of b) {
        lite.record(e);
        shared.record(e);
      }
      await lite.flush();
      await shared.flush();
      expect(shared.health()).toMatchObject({ ok: true, pending: 0 });
      const at = Math.max(...b.map((e) => e.ts));
      expect(await shared.session(at)).toEqual(await lite.session(at));
    }
    const now = T0 + 23 * HOUR + 100_000;
    const a = await everything(lite, now);
    const b = await everything(shared, now);
    expect(b).toEqual(a);
    expect(a.lifetime.requests).toBe(1109);
    expect(Object.keys(a.projects)).toHaveLength(3);
    expect(a.attribution.find((r) => r.id === '(other)')?.requests).toBeGreaterThan(0);
    expect(a.history.points.length).toBeGreaterThan(100);
  });

  it('two stores flushing at once into one database add up; every checkpoint is the running sum in commit order', async () => {
    const { d, c } = await setup();
    const c2 = counted(d.url);
    closers.push(() => c2.db.close());
    const one = pgStore(c, DEFAULT_LIMITS, 'one');
    const two = pgStore(c2, DEFAULT_LIMITS, 'two');
    const all: SavingsEvent[] = [];
    for (let round = 0; round < 12; round++) {
      for (let i = 0; i < 30; i++) {
        const a = event(round * 100 + i, { ts: T0 + round * 1000 + i * 2 });
        const b = event(round * 100 + 50 + i, { ts: T0 + round * 1000 + i * 2 + 1 });
        one.record(a);
        two.record(b);
        all.push(a, b);
      }
      await Promise.all([one.flush(), two.flush()]);
    }
    expect(one.health()).toMatchObject({ ok: true, pending: 0 });
    expect(two.health()).toMatchObject({ ok: true, pending: 0 });
    const life = await one.lifetime();
    const sum = (f: (e: SavingsEvent) => number) => all.reduce((s, e) => s + f(e), 0);
    expect(life.requests).toBe(all.length);
    expect(life.tokensSaved).toBe(sum((e) => e.tokensSaved));
    expect(life.inputTokens).toBe(sum((e) => e.inputTokens));
    expect(life.outputTokens).toBe(sum((e) => e.outputTokens));
    expect(life.savingsUsd).toBeCloseTo(sum((e) => e.savingsUsd), 9);
    expect(life.inputCostUsd).toBeCloseTo(sum((e) => e.inputCostUsd), 9);
    expect(await two.lifetime()).toEqual(life);
    const session = await one.session(T0 + 20_000);
    expect(session.requests).toBe(all.length);
    expect(session.tokensSaved).toBe(life.tokensSaved);

    // checkpoints: in id order each one is the running sum of what was committed before it
    const rows = await d.query<{ tokens_saved: number; input_tokens: number; cum_tokens_saved: number; cum_input_tokens: number }>(
      'SELECT tokens_saved::int, input_tokens::int, cum_tokens_saved::int, cum_input_tokens::int FROM stats_events ORDER BY id');
    let saved = 0;
    let input = 0;
    for (const r of rows) {
      saved += r.tokens_saved;
      input += r.input_tokens;
      expect([r.cum_tokens_saved, r.cum_input_tokens]).toEqual([saved, input]);
    }
    expect(rows).toHaveLength(all.length);

    const hours = await one.rollups('hour');
    expect(hours.reduce((s, r) => s + r.requests, 0)).toBe(all.length);
    expect(hours.reduce((s, r) => s + r.tokensSaved, 0)).toBe(life.tokensSaved);
    expect(Math.max(...hours.map((r) => r.cumTokensSaved))).toBe(life.tokensSaved);
    const projects = await one.projects();
    for (const [name, p] of Object.entries(projects)) {
      expect(p.requests).toBe(all.filter((e) => e.project === name).length);
      expect(p.tokensSaved).toBe(all.filter((e) => e.project === name).reduce((s, e) => s + e.tokensSaved, 0));
    }
    const attribution = await one.attribution();
    for (const dim of ['session', 'user'] as const) {
      expect(attribution.filter((r) => r.dim === dim).reduce((s, r) => s + r.requests, 0)).toBe(all.length);
      for (const r of attribution.filter((x) => x.dim === dim)) expect(r.requests).toBe(all.filter((e) => (e[dim] ?? null) === r.id).length);
    }
  });

  it('a batch whose commit was not acknowledged is applied once when written again, with what was recorded meanwhile', async () => {
    const { d, c } = await setup();
    const store = pgStore(c);
    store.record(event(0));
    await store.flush();
    for (let i = 1; i <= 10; i++) store.record(event(i));
    c.take();
    c.loseAnswerOf(BATCH);
    await store.flush();
    expect(store.health()).toMatchObject({ ok: false, pending: 10 });
    for (let i = 11; i <= 15; i++) store.record(event(i));
    await written(store);
    // the lost one; then the retry looks the keys up, drops the 10 stored events and writes the 5 new ones
    expect(c.take().filter((t) => BATCH.test(t) || t.startsWith('SELECT uid'))).toEqual([
      expect.stringMatching(BATCH), expect.stringMatching(/^SELECT uid FROM stats_events/), expect.stringMatching(BATCH),
    ]);
    const life = await store.lifetime();
    expect(life.requests).toBe(16);
    expect(life.tokensSaved).toBe(Array.from({ length: 16 }, (_, i) => event(i).tokensSaved).reduce((s, x) => s + x, 0));
    expect(await d.query('SELECT count(*)::int AS n, count(DISTINCT uid)::int AS uids FROM stats_events')).toEqual([{ n: 16, uids: 16 }]);
    expect((await store.rollups('day')).reduce((s, r) => s + r.requests, 0)).toBe(16);
    expect((await store.attribution()).filter((r) => r.dim === 'user').reduce((s, r) => s + r.requests, 0)).toBe(16);
  });

  it('events a concurrent retry stored while the batch waited for the lock are not counted twice', async () => {
    const { d, c } = await setup();
    const store = pgStore(c, DEFAULT_LIMITS, 'racer');
    store.record(event(0));
    await store.flush();
    for (let i = 1; i <= 4; i++) store.record(event(i));
    // another session holds the totals lock, as a retry whose first attempt is still committing would
    const other = new pg.Client({ connectionString: d.url });
    await other.connect();
    closers.push(() => other.end());
    await other.query('BEGIN');
    await other.query("SELECT 1 FROM stats_totals WHERE scope = 'lifetime' FOR UPDATE");
    const flushing = store.flush();
    await sleep(300); // the batch's statement started and waits for the lock
    // that earlier attempt stored event 2 (uid racer:3) and its totals
    await other.query(
      `INSERT INTO stats_events (uid, ts, kind, provider, model, project, requests, input_tokens, output_tokens, tokens_saved, new_input_tokens,
        cache_read_tokens, cache_write_tokens, savings_usd, input_cost_usd, output_cost_usd, checkpoint, cum_tokens_saved, cum_savings_usd,
        cum_input_tokens, cum_input_cost_usd, instance) VALUES ('racer:3', $1, 'proxy', 'x', 'y', NULL, 1, 0, 0, 7, 0, 0, 0, 0, 0, 0, true, 7, 0, 0, 0, 'racer')`,
      [T0],
    );
    await other.query("UPDATE stats_totals SET requests = requests + 1, tokens_saved = tokens_saved + 7 WHERE scope = 'lifetime'");
    await other.query('COMMIT');
    await flushing;
    // (the statement fails on the stored key; the retry finds it and writes the other three)
    await written(store);
    const life = await store.lifetime();
    const saved = [0, 1, 3, 4].map((i) => event(i).tokensSaved).reduce((s, x) => s + x, 0) + 7;
    expect([life.requests, life.tokensSaved]).toEqual([5, saved]);
    expect(await d.query('SELECT count(*)::int AS n FROM stats_events')).toEqual([{ n: 5 }]);
  });
});
