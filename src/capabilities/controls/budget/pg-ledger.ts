/**
 * The budget ledger in the shared Postgres database (`--database-url`): exact across a fleet.
 *
 * Reserve-then-settle, with the reservation atomic in the database. A request's reservation
 * is one transaction that, for each limited scope (in scope order, so two transactions never
 * wait on each other crosswise), runs
 *
 *     UPDATE budget_period SET reserved_usd = reserved_usd + $amount
 *      WHERE scope = $scope AND period_start = $start AND spent_usd + reserved_usd + $amount <= $limit
 *      RETURNING spent_usd, reserved_usd
 *
 * The row lock the UPDATE takes serialises every instance's reservations of that scope, and
 * the condition is evaluated on the committed figures of all of them: no two requests anywhere
 * can both take the last dollars. A scope that does not fit rolls the whole reservation back
 * (all scopes or none). Settling (off the request path, batched) releases exactly the amount
 * that was reserved and adds the actual cost, under an idempotency key (`budget_settled`), so
 * a settlement replayed after an outage is applied once.
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
      await this.db.tx(LABEL, async (q) => {
        await q.query(
          `INSERT INTO budget_period (scope, period_start) SELECT unnest($1::text[]), $2 ON CONFLICT DO NOTHING`,
          [limited.map((s) => s.scope), window.start],
        );
        for (const s of limited) {
          const r = await q.query<{ spent_usd: number; reserved_usd: number }>(
            `UPDATE budget_period SET reserved_usd = reserved_usd + $3
              WHERE scope = $1 AND period_start = $2 AND spent_usd + reserved_usd + $3 <= $4 + ${EPS}
              RETURNING spent_usd, reserved_usd`,
            [s.scope, window.start, amount, s.limit],
          );
          const row = r.rows[0];
          if (!row) {
            const cur = await q.query<{ spent_usd: number; reserved_usd: number }>('SELECT spent_usd, reserved_usd FROM budget_period WHERE scope = $1 AND period_start = $2', [s.scope, window.start]);
            this.absorb(s, cur.rows[0], 0);
            throw new Refused(s);
          }
          this.absorb(s, row, amount);
        }
        await q.query(
          `INSERT INTO budget_reservations (id, owner, scope, period_start, amount_usd, created_at)
           SELECT $1 || ':' || sc, $2, sc, $3, $4, $5 FROM unnest($6::text[]) AS sc`,
          [id, this.owner, window.start, amount, this.now(), limited.map((s) => s.scope)],
        );
      });
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
            await this.db.tx(LABEL, (q) => this.applySettlements(q, batch));
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
    const fresh = await q.query<{ id: string }>(
      'INSERT INTO budget_settled (id, at) SELECT unnest($1::text[]), $2 ON CONFLICT DO NOTHING RETURNING id',
      [batch.map((s) => s.key), this.now()],
    );
    const apply = new Set(fresh.rows.map((r) => r.id));
    for (const st of batch) {
      if (!apply.has(st.key)) continue;
      const released = new Map<string, number>();
      if (st.reservationId !== null) {
        const ids = st.states.map((s) => `${st.reservationId}:${s.scope}`);
        const gone = await q.query<{ scope: string; amount_usd: number }>('DELETE FROM budget_reservations WHERE id = ANY($1::text[]) RETURNING scope, amount_usd', [ids]);
        for (const r of gone.rows) released.set(r.scope, Number(r.amount_usd));
      }
      const bucket = Math.floor(Math.min(Math.max(st.at, st.periodStart), st.periodEnd - 1) / BUCKET_MS) * BUCKET_MS;
      for (const s of st.states) {
        await q.query(
          `INSERT INTO budget_period (scope, period_start, spent_usd, requests) VALUES ($1, $2, $3, 1)
           ON CONFLICT (scope, period_start) DO UPDATE SET spent_usd = budget_period.spent_usd + $3, requests = budget_period.requests + 1,
           reserved_usd = greatest(budget_period.reserved_usd - $4, 0)`,
          [s.scope, st.periodStart, st.actual, released.get(s.scope) ?? 0],
        );
        await q.query(
          `INSERT INTO budget_spend (scope, bucket, spent_usd, requests) VALUES ($1, $2, $3, 1)
           ON CONFLICT (scope, bucket) DO UPDATE SET spent_usd = budget_spend.spent_usd + $3, requests = budget_spend.requests + 1`,
          [s.scope, bucket, st.actual],
        );
      }
    }
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
