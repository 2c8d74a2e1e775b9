/**
 * Budget leases in the shared Postgres ledger (`pg-lease.ts`, `pg-ledger.ts`), on a real server:
 *
 * - far from the limit, many requests cost far fewer statements than one per request (most are
 *   admitted from a lease in memory); near the limit every admitted request takes its own
 *   statement again (grants of exactly its amount);
 * - two ledgers (two instances) racing to the limit never let settled spend, nor spend plus
 *   what is held, exceed it;
 * - an idle lease is given back (reserved_usd back to 0, no rows left);
 * - a killed instance's lease is given back by another once the owner TTL has passed;
 * - a settlement batch replayed after its answer was lost is applied once (spend and lease);
 * - during an outage a lease taken before keeps admitting what fits in it; what does not fit
 *   follows --budget-on-store-failure (closed: refused as unavailable).
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { PgBudgetLedger, type PgLedgerOptions } from '../src/capabilities/controls/budget/pg-ledger.js';
import type { ReserveResult, ScopeRef } from '../src/capabilities/controls/budget/ledger.js';
import type { StoreRefusal } from '../src/capabilities/controls/budget/book.js';
import { PeriodClock } from '../src/capabilities/controls/period.js';
import { ALL_SCHEMAS } from '../src/compose/schemas.js';
import { PgDatabase, type Queryable } from '../src/storage/postgres/database.js';
import { migrateAll } from '../src/storage/postgres/migrate.js';
import { freshDatabase, PG_SKIP_REASON, type TestDatabase, TEST_PG_URL } from './helpers/postgres.js';

const log = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Outcome = ReserveResult | StoreRefusal;

/** A pool whose statements are counted by name (or text) and which can be made to fail. */
interface Probe {
  db: PgDatabase;
  counts: Map<string, number>;
  total(): number;
  /** Every statement fails (the database cannot be reached). */
  down: boolean;
  /** The next settlement batch is applied, then its answer is lost. */
  loseNextSettleAnswer: boolean;
}

function probe(url: string): Probe {
  const db = new PgDatabase({ url, statementTimeoutMs: 5000, connectTimeoutMs: 3000, poolSize: 10 }, log);
  const p: Probe = {
    db,
    counts: new Map(),
    total: () => [...p.counts.values()].reduce((a, b) => a + b, 0),
    down: false,
    loseNextSettleAnswer: false,
  };
  const wrap = (q: Queryable): Queryable => ({
    query: (async (...args: unknown[]) => {
      if (p.down) throw new Error('connect ECONNREFUSED (test outage)');
      const a = args[0] as string | { name?: string; text?: string };
      const name = typeof a === 'string' ? a.trim().split(/\s+/).slice(0, 3).join(' ') : (a.name ?? a.text ?? '?');
      p.counts.set(name, (p.counts.get(name) ?? 0) + 1);
      const out = await (q.query as (...x: unknown[]) => Promise<unknown>)(...args);
      if (name === 'budget-settle' && p.loseNextSettleAnswer) {
        p.loseNextSettleAnswer = false;
        throw new Error('Connection terminated unexpectedly (test: answer lost)');
      }
      return out;
    }) as Queryable['query'],
  });
  const run = db.run.bind(db);
  const tx = db.tx.bind(db);
  db.run = ((label: string, fn: (q: Queryable) => Promise<unknown>) => run(label, (q) => fn(wrap(q)))) as PgDatabase['run'];
  db.tx = ((label: string, fn: (q: Queryable) => Promise<unknown>) => (p.down ? Promise.reject(new Error('connect ECONNREFUSED (test outage)')) : tx(label, (q) => fn(wrap(q))))) as PgDatabase['tx'];
  return p;
}

describe.skipIf(!TEST_PG_URL)(`budget leases in the shared Postgres ledger${TEST_PG_URL ? '' : ` (skipped: ${PG_SKIP_REASON})`}`, () => {
  const dbs: TestDatabase[] = [];
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
    for (const d of dbs.splice(0)) await d.drop();
  });

  const setup = async () => {
    const d = await freshDatabase();
    dbs.push(d);
    const first = probe(d.url);
    closers.push(() => first.db.close());
    await migrateAll(first.db, ALL_SCHEMAS);
    first.counts.clear();
    return { d, first };
  };
  const ledgerOn = (p: Probe, opts: Partial<PgLedgerOptions> = {}) => {
    const l = new PgBudgetLedger({ db: p.db, log, onStoreFailure: 'open', flushMs: 20, ...opts });
    closers.push(() => l.close());
    return l;
  };
  const period = async (d: TestDatabase, scope: string) =>
    (await d.query<{ spent_usd: number; reserved_usd: number; requests: number }>('SELECT spent_usd, reserved_usd, requests::int AS requests FROM budget_period WHERE scope = $1', [scope]))[0];
  const rows = async (d: TestDatabase) => Number((await d.query<{ n: string }>('SELECT count(*) AS n FROM budget_reservations'))[0]!.n);
  const window = () => new PeriodClock('daily', 'UTC').at(Date.now());

  it('far from the limit, 300 requests cost far fewer statements than one each; near it, one per admitted request', async () => {
    const { d, first } = await setup();
    const ledger = ledgerOn(first);
    const w = window();
    const refs: ScopeRef[] = [{ scope: 'global', limit: null }, { scope: 'key:far', limit: 100 }];
    let actual = 0;
    let local = 0;
    for (let i = 0; i < 30; i++) {
      // ten at a time, a few ms apart: about the shape of steady traffic
      const batch = Array.from({ length: 10 }, () => {
        const r = ledger.reserve(refs, w, 0.002);
        if (!(r instanceof Promise)) local++;
        return r;
      });
      const got = (await Promise.all(batch)) as Outcome[];
      for (const r of got) {
        expect(r.ok).toBe(true);
        if (r.ok) {
          ledger.settle(r.reservation, 0.0015);
          actual += 0.0015;
        }
      }
      await sleep(3);
    }
    await ledger.write();
    const leases = first.counts.get('budget-lease') ?? 0;
    const settles = first.counts.get('budget-settle') ?? 0;
    expect(leases).toBeLessThan(30);
    expect(local).toBeGreaterThan(250);
    expect(leases + settles).toBeLessThan(300 / 4);
    const p = await period(d, 'key:far');
    expect(p!.requests).toBe(300);
    expect(p!.spent_usd).toBeCloseTo(actual, 9);

    // near the limit (room < 2 x amount / LEASE_SHARE) a grant is exactly the request's amount
    first.counts.clear();
    const near: ScopeRef[] = [{ scope: 'key:near', limit: 10 * 0.05 }];
    const results: Outcome[] = [];
    for (let i = 0; i < 12; i++) results.push(await ledger.reserve(near, w, 0.05));
    expect(results.filter((r) => r.ok)).toHaveLength(10);
    expect(first.counts.get('budget-lease')).toBe(12 + 1); // + 1: the first found no row and asked again
    const held = await d.query<{ amount_usd: number }>("SELECT amount_usd FROM budget_reservations WHERE scope = 'key:near'");
    expect(held.map((r) => Math.round(r.amount_usd * 1e9) / 1e9)).toEqual(Array.from({ length: 10 }, () => 0.05));
  });

  it('two ledgers racing to the limit: settled spend, and spend plus what is held, never exceed it', async () => {
    const { d, first } = await setup();
    const second = probe(d.url);
    closers.push(() => second.db.close());
    const ledgers = [ledgerOn(first, { owner: 'race-a', leaseIdleMs: 200 }), ledgerOn(second, { owner: 'race-b', leaseIdleMs: 200 })];
    const w = window();
    const limit = 0.6;
    const refs: ScopeRef[] = [{ scope: 'key:race', limit }];
    let settled = 0;
    let admitted = 0;
    let maxHeld = 0;
    let stop = false;
    const sampler = (async () => {
      while (!stop) {
        const p = await period(d, 'key:race');
        if (p) maxHeld = Math.max(maxHeld, p.spent_usd + p.reserved_usd);
        await sleep(5);
      }
    })();
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const worker = async (l: PgBudgetLedger) => {
      for (let i = 0; i < 60; i++) {
        const amount = 0.002 + rnd() * 0.008;
        const r = (await l.reserve(refs, w, amount)) as Outcome;
        if (r.ok) {
          admitted++;
          await sleep(rnd() * 15);
          const cost = amount * (0.4 + 0.6 * rnd());
          settled += cost;
          l.settle(r.reservation, cost);
        } else await sleep(5);
      }
    };
    await Promise.all(ledgers.flatMap((l) => Array.from({ length: 6 }, () => worker(l))));
    await Promise.all(ledgers.map((l) => l.write()));
    await sleep(600);
    stop = true;
    await sampler;
    const p = await period(d, 'key:race');
    expect(p!.requests).toBe(admitted);
    expect(p!.spent_usd).toBeCloseTo(settled, 9);
    expect(p!.spent_usd).toBeLessThanOrEqual(limit + 1e-9);
    expect(maxHeld).toBeLessThanOrEqual(limit + 1e-9);
    // the race did reach the limit: 720 attempts of ~$0.006 for $0.60
    expect(p!.spent_usd).toBeGreaterThan(limit * 0.5);
    // idle leases were given back
    expect(p!.reserved_usd).toBeCloseTo(0, 9);
  });

  it('an idle lease is given back: reserved_usd returns to 0 and no rows are left', async () => {
    const { d, first } = await setup();
    const ledger = ledgerOn(first, { leaseIdleMs: 300 });
    const w = window();
    const refs: ScopeRef[] = [{ scope: 'key:idle', limit: 50 }];
    for (let i = 0; i < 20; i++) {
      const r = (await ledger.reserve(refs, w, 0.01)) as Outcome;
      expect(r.ok).toBe(true);
      if (r.ok) ledger.settle(r.reservation, 0.006);
    }
    await ledger.write();
    // a lease is held beyond what was spent (the next requests need no statement)
    const held = await period(d, 'key:idle');
    expect(held!.spent_usd).toBeCloseTo(0.12, 9);
    expect(held!.reserved_usd).toBeGreaterThan(0.01);
    expect(await rows(d)).toBeGreaterThan(0);
    let after = held;
    for (let i = 0; i < 100 && after!.reserved_usd > 1e-12; i++) {
      await sleep(30);
      await ledger.write();
      after = await period(d, 'key:idle');
    }
    expect(after!.reserved_usd).toBeCloseTo(0, 12);
    expect(after!.spent_usd).toBeCloseTo(0.12, 9);
    expect(await rows(d)).toBe(0);
  });

  it("a killed instance's lease is given back by another once the owner TTL has passed", async () => {
    const { d, first } = await setup();
    const ttl = { ownerTtlMs: 1_000, heartbeatMs: 100 };
    const dead = ledgerOn(first, { owner: 'dead', ...ttl, leaseIdleMs: 60_000 });
    const w = window();
    const refs: ScopeRef[] = [{ scope: 'key:ttl', limit: 10 }];
    // a few requests in flight when the instance dies: its lease holds their dollars and more
    const inflight: Outcome[] = [];
    for (let i = 0; i < 5; i++) inflight.push(await dead.reserve(refs, w, 0.05));
    expect(inflight.every((r) => r.ok)).toBe(true);
    await sleep(250);
    const before = await period(d, 'key:ttl');
    expect(before!.reserved_usd).toBeGreaterThanOrEqual(0.25 - 1e-9);
    // kill: its connections are gone, it never beats, settles nor releases again
    await first.db.close();
    const other = probe(d.url);
    closers.push(() => other.db.close());
    const alive = ledgerOn(other, { owner: 'alive', ...ttl });
    await sleep(300);
    expect((await period(d, 'key:ttl'))!.reserved_usd).toBeCloseTo(before!.reserved_usd, 9);
    let after = before;
    for (let i = 0; i < 100 && after!.reserved_usd > 1e-12; i++) {
      await sleep(50);
      after = await period(d, 'key:ttl');
    }
    expect(after!.reserved_usd).toBeCloseTo(0, 12);
    expect(await rows(d)).toBe(0);
    // the whole budget is free again for the instance alive
    const all = (await alive.reserve(refs, w, 10)) as Outcome;
    expect(all.ok).toBe(true);
  });

  it('a settlement batch replayed after its answer was lost is applied once, to the spend and to the lease', async () => {
    const { d, first } = await setup();
    const ledger = ledgerOn(first, { flushMs: 60_000, leaseIdleMs: 60_000 });
    const w = window();
    const refs: ScopeRef[] = [{ scope: 'global', limit: null }, { scope: 'key:replay', limit: 20 }];
    const admitted: Outcome[] = [];
    for (let i = 0; i < 8; i++) admitted.push(await ledger.reserve(refs, w, 0.02));
    const before = await period(d, 'key:replay');
    for (const r of admitted) if (r.ok) ledger.settle(r.reservation, 0.015);
    first.loseNextSettleAnswer = true;
    await ledger.write();
    expect(ledger.health().ok).toBe(false);
    expect(ledger.health().pending).toBeGreaterThanOrEqual(8);
    const applied = await period(d, 'key:replay');
    expect(applied!.spent_usd).toBeCloseTo(0.12, 9);
    await ledger.write();
    expect(ledger.health()).toMatchObject({ ok: true, pending: 0 });
    const again = await period(d, 'key:replay');
    expect(again).toEqual(applied);
    expect(again!.requests).toBe(8);
    // what the leases gave up was taken off them once: the database holds what this instance thinks it holds
    expect(before!.reserved_usd).toBeGreaterThan(0.16 - 1e-9);
    expect(again!.reserved_usd).toBeCloseTo(ledger.state(refs[1]!, w).held, 9);
    const [sum] = await d.query<{ usd: number }>("SELECT coalesce(sum(amount_usd), 0) AS usd FROM budget_reservations WHERE scope = 'key:replay'");
    expect(sum!.usd).toBeCloseTo(again!.reserved_usd, 9);
    const g = await period(d, 'global');
    expect([g!.spent_usd, g!.requests]).toEqual([again!.spent_usd, 8]);
  });

  it('during an outage a lease taken before keeps admitting what fits; what does not fit is refused (closed)', async () => {
    const { d, first } = await setup();
    const ledger = ledgerOn(first, { onStoreFailure: 'closed', leaseIdleMs: 60_000 });
    const w = window();
    const refs: ScopeRef[] = [{ scope: 'key:out', limit: 100 }];
    const s = ledger.state(refs[0]!, w);
    let n = 0;
    // until a lease holds room for two more such requests
    for (; n < 30 && s.lease < 0.02 - 1e-9; n++) {
      const r = (await ledger.reserve(refs, w, 0.01)) as Outcome;
      if (r.ok) ledger.settle(r.reservation, 0.01);
    }
    await ledger.write();
    expect(s.lease).toBeGreaterThanOrEqual(0.02 - 1e-9);
    first.down = true;
    const within = ledger.reserve(refs, w, 0.01);
    // decided in memory: no statement, no promise
    expect(within instanceof Promise).toBe(false);
    expect((within as Outcome).ok).toBe(true);
    const beyond = (await ledger.reserve(refs, w, s.lease + 1)) as Outcome;
    expect(beyond).toMatchObject({ ok: false, unavailable: expect.stringMatching(/budget store unavailable/) });
    if ((within as Outcome).ok) ledger.settle((within as ReserveResult & { ok: true }).reservation, 0.01);
    await ledger.write();
    expect(ledger.health().ok).toBe(false);
    first.down = false;
    await ledger.write();
    const p = await period(d, 'key:out');
    expect(p!.requests).toBe(n + 1);
    expect(p!.spent_usd).toBeCloseTo((n + 1) * 0.01, 9);
  });
});
