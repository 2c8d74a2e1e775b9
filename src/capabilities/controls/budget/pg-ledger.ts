/**
 * The budget ledger in the shared Postgres database (`--database-url`): exact across a fleet.
 *
 * Reserve-then-settle, with the reservation atomic in the database. A request's reservation
 * is ONE statement ({@link RESERVE_SQL}, autocommit, one round trip) that locks the request's
 * limited scope rows (in scope order, so two reservations never wait on each other crosswise),
 * reads their committed figures, and only if `spent_usd + reserved_usd + $amount <= $limit`
 * holds for every one adds the amount to all of them and records the reservation (all scopes
 * or none). The row lock serialises every instance's reservations of a scope for the length
 * of that one statement, and the condition is evaluated on the committed figures of all of
 * them: no two requests anywhere can both take the last dollars. A scope's row is created
 * (`INSERT ... ON CONFLICT DO NOTHING`) only when the statement finds it missing, i.e. by the
 * first request of the period. Settling (off the request path, batched: one statement per
 * chunk, {@link SETTLE_SQL}) releases exactly the amount that was reserved and adds the
 * actual cost, under an idempotency key (`budget_settled`), so a settlement replayed after an
 * outage is applied once.
 *
 * THE BOUND (what `docs/deploy.md` states): with the store reachable, the period's settled
 * spend never exceeds the limit by more than the sum, over the requests in flight at the
 * moment the limit is reached, of (actual cost - reserved cost) for those whose actual cost
 * exceeded their reservation. The reservation is the worst case (estimated input x input price
 * + max output tokens x output price), so the excess is only an under-estimated prompt; with
 * correct estimates the overshoot is zero, whatever the number of instances. An instance that
 * dies with reservations held does not overshoot: its reservations keep the dollars until its
 * heartbeat is {@link OWNER_TTL_MS} old, then any instance gives them back.
 *
 * While the store cannot be reached (every statement has a deadline, `database.ts`):
 * `--budget-on-store-failure open` (default) decides from the figures last read plus this
 * instance's own reservations and spend since, so within the outage each instance can admit
 * up to what was left when it last read (the fleet may overshoot by at most (instances - 1) x
 * that remainder); `closed` refuses metered requests with 503 until the store answers.
 * Settlements are kept in memory (bounded) and written once when it returns.
 */
import { AsyncResource } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../../../core/logger.js';
import { describePgError, type PgDatabase, type Queryable } from '../../../storage/postgres/database.js';
import type { PeriodWindow } from '../period.js';
import type { BudgetBook, StoreRefusal } from './book.js';
import { BUCKET_MS, type LedgerHealth, type Reservation, type ReserveResult, type ScopeRef, ScopeState } from './ledger.js';

const LABEL = 'budget store';
/** An instance whose heartbeat is older than this is dead: its reservations are given back. */
export const OWNER_TTL_MS = 30_000;
const HEARTBEAT_MS = 5_000;
const MAX_PENDING = 100_000;
const SETTLE_CHUNK = 200;
const EPS = 1e-9;

export interface PgReservation extends Reservation {
  id: string;
  /** The scopes whose reservation is held in the database (not when decided during an outage). */
  held: boolean;
}

interface Settlement {
  key: string;
  /** The reservation to release (null: a charge without one). */
  reservationId: string | null;
  periodStart: number;
  periodEnd: number;
  at: number;
  actual: number;
  states: ScopeState[];
}

interface ReserveRow {
  scope: string;
  spent_usd: number;
  reserved_usd: number;
  fits: boolean;
}

/**
 * A reservation in one statement (autocommit: the row locks last only for it): `cur` locks the
 * request's scope rows in scope order and reads their committed figures; `verdict` says whether
 * the amount fits in every one (and every row exists); only then `upd` adds it to each and
 * `held` records it. Returns the figures before the reservation and the verdict; fewer rows than
 * scopes means a row is missing (the period's first request of that scope).
 * $1 scopes, $2 limits, $3 period start, $4 amount, $5 reservation id, $6 owner, $7 now.
 */
const RESERVE_SQL = `
WITH want AS (SELECT * FROM unnest($1::text[], $2::float8[]) AS w(scope, lim)),
cur AS (SELECT p.scope, p.spent_usd, p.reserved_usd FROM budget_period p
         WHERE p.period_start = $3 AND p.scope = ANY($1::text[]) ORDER BY p.scope FOR UPDATE),
verdict AS (SELECT count(*) = cardinality($1::text[]) AND coalesce(bool_and(c.spent_usd + c.reserved_usd + $4::float8 <= w.lim + ${EPS}), false) AS fits
              FROM cur c JOIN want w USING (scope)),
upd AS (UPDATE budget_period p SET reserved_usd = p.reserved_usd + $4::float8 FROM verdict
         WHERE verdict.fits AND p.period_start = $3 AND p.scope = ANY($1::text[]) RETURNING p.scope),
held AS (INSERT INTO budget_reservations (id, owner, scope, period_start, amount_usd, created_at)
         SELECT $5::text || ':' || upd.scope, $6, upd.scope, $3, $4::float8, $7 FROM upd)
SELECT c.scope, c.spent_usd, c.reserved_usd, v.fits FROM cur c CROSS JOIN verdict v`;

/**
 * A batch of settlements in one statement: each (settlement, scope) is an item; `fresh` keeps
 * the settlements not applied yet (idempotency keys), `gone` releases exactly their
 * reservations still held, and the period and bucket figures get the sums (rows in scope order).
 * $1 keys, $2 reservation ids (null: a charge), $3 scopes, $4 period starts, $5 buckets, $6 actual, $7 now.
 */
const SETTLE_SQL = `
WITH items AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::float8[]) AS i(key, rid, scope, ps, bucket, actual)),
fresh AS (INSERT INTO budget_settled (id, at) SELECT DISTINCT key, $7::bigint FROM items ON CONFLICT DO NOTHING RETURNING id),
applied AS (SELECT i.* FROM items i JOIN fresh f ON f.id = i.key),
gone AS (DELETE FROM budget_reservations r USING applied a WHERE a.rid IS NOT NULL AND r.id = a.rid || ':' || a.scope
         RETURNING r.scope, r.period_start, r.amount_usd),
released AS (SELECT scope, period_start, sum(amount_usd) AS amount FROM gone GROUP BY scope, period_start),
period AS (INSERT INTO budget_period AS p (scope, period_start, spent_usd, requests)
           SELECT scope, ps, sum(actual), count(*) FROM applied GROUP BY scope, ps ORDER BY scope, ps
           ON CONFLICT (scope, period_start) DO UPDATE SET spent_usd = p.spent_usd + excluded.spent_usd, requests = p.requests + excluded.requests,
             reserved_usd = greatest(p.reserved_usd - coalesce((SELECT r.amount FROM released r WHERE r.scope = excluded.scope AND r.period_start = excluded.period_start), 0), 0)
           RETURNING 1),
spend AS (INSERT INTO budget_spend AS b (scope, bucket, spent_usd, requests)
          SELECT scope, bucket, sum(actual), count(*) FROM applied GROUP BY scope, bucket ORDER BY scope, bucket
          ON CONFLICT (scope, bucket) DO UPDATE SET spent_usd = b.spent_usd + excluded.spent_usd, requests = b.requests + excluded.requests
          RETURNING 1)
SELECT (SELECT count(*) FROM period) AS periods, (SELECT count(*) FROM spend) AS buckets`;

class Refused extends Error {
  constructor(readonly state: ScopeState) {
    super('refused');
  }
}

export interface PgLedgerOptions {
  db: PgDatabase;
  log: Logger;
  onStoreFailure: 'open' | 'closed';
  now?: () => number;
  flushMs?: number;
  owner?: string;
}

export class PgBudgetLedger implements BudgetBook {
  readonly owner: string;
  private readonly db: PgDatabase;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly flushMs: number;
  private readonly onFailure: 'open' | 'closed';
  private readonly states = new Map<string, ScopeState>();
  private pending: Settlement[] = [];
  private dropped = 0;
  private timer: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  private lastError: string | null = null;
  private lastFlushAt: number | null = null;
  private closed = false;
  private topCache = new Map<string, { scope: string; spent: number; requests: number }[]>();
  private readonly onTimer = AsyncResource.bind(() => void this.write());
  private readonly onBeat = AsyncResource.bind(() => void this.beat());

  constructor(opts: PgLedgerOptions) {
    this.db = opts.db;
    this.log = opts.log;
    this.now = opts.now ?? Date.now;
    this.flushMs = opts.flushMs ?? 250;
    this.onFailure = opts.onStoreFailure;
    this.owner = opts.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.heartbeat = setInterval(this.onBeat, HEARTBEAT_MS);
    this.heartbeat.unref();
    void this.beat();
  }

  state(ref: ScopeRef, window: PeriodWindow): ScopeState {
    const key = `${ref.scope}\u0000${window.start}`;
    let s = this.states.get(key);
    if (!s) {
      s = new ScopeState(ref.scope, window, ref.limit);
      this.states.set(key, s);
    }
    s.limit = ref.limit;
    return s;
  }

  read(ref: ScopeRef, window: PeriodWindow): ScopeState {
    return this.state(ref, window);
  }

  async reserve(refs: ScopeRef[], window: PeriodWindow, amount: number): Promise<ReserveResult | StoreRefusal> {
    const states = refs.map((r) => this.state(r, window));
    const limited = states.filter((s) => s.limit !== null).sort((a, b) => (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0));
    const id = randomUUID();
    const take = (held: boolean): ReserveResult => {
      for (const s of states) {
        s.inflight += amount;
        s.lastUsed = this.now();
      }
      const reservation: PgReservation = { states, amount, id, held };
      return { ok: true, reservation };
    };
    if (limited.length === 0) return take(false);
    try {
      const scopes = limited.map((s) => s.scope);
      // prepared once per connection (`name`): each reservation is then parsed and planned no more
      let rows = await this.db.run(LABEL, (q) => q.query<ReserveRow>({ name: 'budget-reserve', text: RESERVE_SQL, values: [scopes, limited.map((s) => s.limit), window.start, amount, id, this.owner, this.now()] }));
      if (rows.rows.length < limited.length) {
        // the period's first request of a scope: its row is created (once), then the reservation runs again
        await this.db.run(LABEL, (q) => q.query(`INSERT INTO budget_period (scope, period_start) SELECT unnest($1::text[]), $2 ON CONFLICT DO NOTHING`, [scopes, window.start]));
        rows = await this.db.run(LABEL, (q) => q.query<ReserveRow>({ name: 'budget-reserve', text: RESERVE_SQL, values: [scopes, limited.map((s) => s.limit), window.start, amount, id, this.owner, this.now()] }));
      }
      const byScope = new Map(rows.rows.map((r) => [r.scope, r]));
      // the figures are those before this reservation (read under the row locks)
      for (const s of limited) this.absorb(s, byScope.get(s.scope), 0);
      if (!rows.rows[0]?.fits) {
        const refused = limited.find((s) => {
          const r = byScope.get(s.scope);
          return !r || Number(r.spent_usd) + Number(r.reserved_usd) + amount > (s.limit as number) + EPS;
        });
        if (!refused) throw new Error('budget reservation neither held nor refused');
        throw new Refused(refused);
      }
    } catch (err) {
      if (err instanceof Refused) return { ok: false, state: err.state };
      this.noteError(err);
      if (this.onFailure === 'closed') return { ok: false, unavailable: `budget store unavailable: ${describePgError(err)}` };
      // open: decide from what was last read plus this instance's own reservations and spend since
      for (const s of limited) {
        if (s.spent + s.inflight + s.others + amount > (s.limit as number) + EPS) return { ok: false, state: s };
      }
      return take(false);
    }
    return take(true);
  }

  /** Takes the figures a statement returned; `mine` is this request's amount already counted in `reserved_usd`. */
  private absorb(s: ScopeState, row: { spent_usd: number; reserved_usd: number } | undefined, mine: number): void {
    if (!row) return;
    s.dbSpent = Number(row.spent_usd);
    // reserved by everything else than this instance's requests in flight (and the one being reserved)
    s.others = Math.max(0, Number(row.reserved_usd) - mine - s.inflight);
  }

  settle(r: Reservation, actualUsd: number): void {
    const pr = r as PgReservation;
    for (const s of r.states) {
      s.inflight = Math.max(0, s.inflight - r.amount);
      if (s.inflight < EPS) s.inflight = 0;
    }
    this.enqueue(pr.held ? pr.id : null, r.states, actualUsd, pr.id);
  }

  charge(refs: ScopeRef[], window: PeriodWindow, actualUsd: number): void {
    this.enqueue(null, refs.map((ref) => this.state(ref, window)), actualUsd, randomUUID());
  }

  private enqueue(reservationId: string | null, states: ScopeState[], actual: number, key: string): void {
    const first = states[0];
    if (!first) return;
    const usd = Math.max(0, actual);
    for (const s of states) {
      s.unflushed += usd;
      s.unflushedRequests++;
      s.lastUsed = this.now();
    }
    this.pending.push({ key, reservationId, periodStart: first.window.start, periodEnd: first.window.end, at: this.now(), actual: usd, states });
    if (this.pending.length > MAX_PENDING) {
      const lost = this.pending.shift() as Settlement;
      this.dropped++;
      for (const s of lost.states) s.unflushed = Math.max(0, s.unflushed - lost.actual);
    }
    this.schedule(this.lastError === null ? this.flushMs : 1_000);
  }

  private schedule(ms: number): void {
    if (this.closed || this.timer || this.writing) return;
    this.timer = setTimeout(this.onTimer, ms);
    this.timer.unref();
  }

  flush(): void {
    void this.write();
  }

  /** Writes pending settlements (each once: `budget_settled`), chunk by chunk; stops at the first failure. */
  write(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.writing ??= (async () => {
      try {
        while (this.pending.length > 0) {
          const batch = this.pending.slice(0, SETTLE_CHUNK);
          try {
            await this.db.run(LABEL, (q) => this.applySettlements(q, batch));
          } catch (err) {
            this.noteError(err);
            return;
          }
          this.pending.splice(0, batch.length);
          for (const st of batch) {
            for (const s of st.states) {
              s.unflushed = Math.max(0, s.unflushed - st.actual);
              s.unflushedRequests = Math.max(0, s.unflushedRequests - 1);
              s.dbSpent += st.actual;
            }
          }
          this.lastFlushAt = this.now();
          if (this.lastError !== null) this.log.info({ pending: this.pending.length }, 'budget store written again; settlements kept in memory were saved');
          this.lastError = null;
        }
      } finally {
        this.writing = null;
        if (this.pending.length > 0 && !this.closed) this.schedule(this.lastError === null ? 0 : 1_000);
      }
    })();
    return this.writing;
  }

  private async applySettlements(q: Queryable, batch: Settlement[]): Promise<void> {
    const keys: string[] = [];
    const rids: (string | null)[] = [];
    const scopes: string[] = [];
    const starts: number[] = [];
    const buckets: number[] = [];
    const actual: number[] = [];
    for (const st of batch) {
      const bucket = Math.floor(Math.min(Math.max(st.at, st.periodStart), st.periodEnd - 1) / BUCKET_MS) * BUCKET_MS;
      for (const s of st.states) {
        keys.push(st.key);
        rids.push(st.reservationId);
        scopes.push(s.scope);
        starts.push(st.periodStart);
        buckets.push(bucket);
        actual.push(st.actual);
      }
    }
    // a prepared statement per connection (parsed and planned once)
    await q.query({ name: 'budget-settle', text: SETTLE_SQL, values: [keys, rids, scopes, starts, buckets, actual, this.now()] });
  }

  /** Heartbeat: this instance is alive; dead instances' reservations are given back; figures refreshed. */
  private async beat(): Promise<void> {
    if (this.closed) return;
    const now = this.now();
    try {
      await this.db.tx(LABEL, async (q) => {
        await q.query(
          'INSERT INTO budget_owners (owner, updated_at) VALUES ($1, $2) ON CONFLICT (owner) DO UPDATE SET updated_at = excluded.updated_at',
          [this.owner, now],
        );
        await q.query('DELETE FROM budget_owners WHERE updated_at < $1', [now - OWNER_TTL_MS]);
        await releaseWhere(q, `owner NOT IN (SELECT owner FROM budget_owners) AND created_at < $1`, [now - OWNER_TTL_MS]);
        await q.query('DELETE FROM budget_settled WHERE at < $1', [now - 7 * 86_400_000]);
      });
      await this.refresh();
    } catch (err) {
      this.noteError(err);
    }
  }

  /** Reads every known scope's figures (headers, reports). */
  private async refresh(): Promise<void> {
    const list = [...this.states.values()];
    if (list.length === 0) return;
    const rows = await this.db.run(LABEL, (q) =>
      q.query<{ scope: string; period_start: number; spent_usd: number; reserved_usd: number }>(
        `SELECT scope, period_start, spent_usd, reserved_usd FROM budget_period
          WHERE (scope, period_start) IN (SELECT * FROM unnest($1::text[], $2::bigint[]))`,
        [list.map((s) => s.scope), list.map((s) => s.window.start)],
      ),
    );
    for (const r of rows.rows) {
      const s = this.states.get(`${r.scope}\u0000${r.period_start}`);
      if (!s) continue;
      const unwritten = this.pending.filter((p) => p.states.includes(s)).reduce((a, p) => a + p.actual, 0);
      s.unflushed = unwritten;
      this.absorb(s, r, 0);
    }
  }

  top(prefix: string, window: PeriodWindow, limit: number): { scope: string; spent: number; requests: number }[] {
    const key = `${prefix}\u0000${window.start}\u0000${limit}`;
    void this.db
      .run(LABEL, (q) =>
        q.query<{ scope: string; spent: number; requests: number }>(
          `SELECT scope, sum(spent_usd) AS spent, sum(requests) AS requests FROM budget_spend
            WHERE scope >= $1 AND scope < $2 AND bucket >= $3 AND bucket < $4 GROUP BY scope ORDER BY spent DESC LIMIT $5`,
          [prefix, `${prefix}\uffff`, window.start, window.end, limit],
        ),
      )
      .then((r) => this.topCache.set(key, r.rows.map((x) => ({ scope: x.scope, spent: Number(x.spent), requests: Number(x.requests) }))))
      .catch((err: unknown) => this.noteError(err));
    return this.topCache.get(key) ?? [];
  }

  private noteError(err: unknown): void {
    const message = describePgError(err);
    if (this.lastError !== message) this.log.warn({ err: message, on_store_failure: this.onFailure }, 'budget store (Postgres) unavailable');
    this.lastError = message;
  }

  health(): LedgerHealth & { pending: number; dropped: number } {
    return { ok: this.lastError === null, lastError: this.lastError, lastFlushAt: this.lastFlushAt, pending: this.pending.length, dropped: this.dropped };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.writing) await this.writing;
    await this.write();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    try {
      await this.db.tx(LABEL, async (q) => {
        await releaseWhere(q, 'owner = $1', [this.owner]);
        await q.query('DELETE FROM budget_owners WHERE owner = $1', [this.owner]);
      });
    } catch {
      // the store is gone; the heartbeat expires and another instance gives the reservations back
    }
    if (this.pending.length > 0) this.log.error({ pending: this.pending.length, err: this.lastError }, 'budget store closed with unwritten settlements');
  }
}

/** Deletes the reservations matching `where` and gives their dollars back to their periods. */
async function releaseWhere(q: Queryable, where: string, params: unknown[]): Promise<void> {
  await q.query(
    `WITH gone AS (DELETE FROM budget_reservations WHERE ${where} RETURNING scope, period_start, amount_usd),
          total AS (SELECT scope, period_start, sum(amount_usd) AS amount FROM gone GROUP BY scope, period_start)
     UPDATE budget_period p SET reserved_usd = greatest(p.reserved_usd - total.amount, 0)
       FROM total WHERE p.scope = total.scope AND p.period_start = total.period_start`,
    params,
  );
}
