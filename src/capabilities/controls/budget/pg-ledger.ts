/**
 * The budget ledger in the shared Postgres database (`--database-url`): exact across a fleet,
 * and without a round trip per request while a budget is far from its limit.
 *
 * Reserve-then-settle under leases (`pg-lease.ts`). A *lease* is an amount held in the
 * database for this instance and one set of limited scopes in one period: rows in
 * `budget_reservations` (owner = this instance) and the same amount in `reserved_usd` of each
 * scope's `budget_period` row, so `spent_usd + reserved_usd <= limit` keeps holding fleet-wide.
 * - A request whose reservation (its worst-case cost) fits in a live lease of its scope set is
 *   admitted from it in memory, no I/O. Otherwise one statement ({@link LEASE_SQL}, autocommit,
 *   one round trip) locks the scope rows (in scope order), reads their committed figures and
 *   atomically grants a new lease: nothing when the request's amount `a` exceeds the room left
 *   (the least `limit - spent - reserved` over the scopes: refused), else a whole number of
 *   `a`, at most {@link LEASE_SHARE} of the room and about twice what the set reserved here over
 *   the last second. Near the limit (room < 2a / LEASE_SHARE) the grant is exactly `a`: one
 *   statement per request and per-request exactness, as without leases.
 * - Settling (off the request path, batched: one statement per chunk, `SETTLE_SQL`) adds the
 *   actual cost to `spent_usd` and takes what the lease gives up (the spend, at most what it
 *   still holds) off the lease and `reserved_usd`, so no dollar is counted both spent and
 *   reserved; an idempotency key per item (`budget_settled`) applies a batch replayed after an
 *   outage once.
 * - A lease is given back (its remainder released, batched in the same statement) when it is
 *   replaced by a newer one (its unused part at once, the rest as its requests settle), when
 *   nothing is in flight under it and it has no room left for another such request, when idle
 *   for {@link LEASE_IDLE_MS}, when its period ends, and on close. A dead instance's leases are
 *   given back by any other once its heartbeat is {@link OWNER_TTL_MS} old.
 *
 * THE BOUND (what `docs/deploy.md` states): with the store reachable, the period's settled
 * spend never exceeds the limit by more than the sum, over the requests in flight at the
 * moment the limit is reached, of (actual cost - reserved cost) for those whose actual cost
 * exceeded their reservation, whatever the number of instances. Every admitted request's
 * reservation is inside dollars the database holds for it (a lease only admits what it holds
 * minus what is in flight under it), and the database grants no dollar beyond the limit. The
 * reservation is the worst case (estimated input x input price + max output tokens x output
 * price), so the excess is only an under-estimated prompt; with correct estimates the overshoot
 * is zero. An instance that dies keeps its leases' dollars held until its heartbeat expires.
 *
 * Fairness: a request may be refused while other instances hold unused lease dollars; each
 * lease was granted from at most {@link LEASE_SHARE} of the room at the time, and idle ones are
 * given back within {@link LEASE_IDLE_MS} (the remainder of a replaced one at once).
 *
 * While the store cannot be reached (every statement has a deadline, `database.ts`): a lease
 * taken before keeps admitting the requests that fit in it (its dollars are held for this
 * instance), for up to half the owner TTL after the last heartbeat written (later, other
 * instances may give it back). A request that does not fit follows `--budget-on-store-failure`:
 * `open` (default) decides from the figures last read plus this instance's own reservations,
 * leases and spend since, so within the outage each instance can admit up to what was left
 * when it last read (the fleet may overshoot by at most (instances - 1) x that remainder);
 * `closed` refuses it with 503 until the store answers. Settlements are kept in memory
 * (bounded) and written once when it returns.
 */
import { AsyncResource } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../../../core/logger.js';
import { describePgError, type PgDatabase, type Queryable } from '../../../storage/postgres/database.js';
import type { PeriodWindow } from '../period.js';
import type { BudgetBook, StoreRefusal } from './book.js';
import { BUCKET_MS, type LedgerHealth, type Reservation, type ReserveResult, type ScopeRef, type ScopeState } from './ledger.js';
import { adjust, free, type Lease, LEASE_SQL, type LeaseSet, newSet, noteDemand, PgScopeState, SETTLE_SQL, setKey, wantFor } from './pg-lease.js';

const LABEL = 'budget store';
/** An instance whose heartbeat is older than this is dead: its leases are given back. */
export const OWNER_TTL_MS = 30_000;
const HEARTBEAT_MS = 5_000;
/** A lease with nothing in flight for this long is given back. */
export const LEASE_IDLE_MS = 1_500;
const MAX_PENDING = 100_000;
const SETTLE_CHUNK = 200;
/** A set of scopes with no lease, unused for this long, is forgotten. */
const SET_FORGET_MS = 60_000;
const EPS = 1e-9;

export interface PgReservation extends Reservation {
  id: string;
  /** The lease it was admitted under (null: decided during an outage, nothing held in the database). */
  lease: Lease | null;
  /** Its dollars are held in the database (under `lease`). */
  held: boolean;
}

interface Settlement {
  key: string;
  /** The lease whose dollars it uses or gives back (null: a charge without one). */
  leaseId: string | null;
  periodStart: number;
  periodEnd: number;
  at: number;
  actual: number;
  /** Dollars of the lease given back beyond `actual`. */
  free: number;
  /** The lease is given back entirely. */
  close: boolean;
  /** A request's spend (false: a lease change only). */
  request: boolean;
  states: ScopeState[];
}

interface LeaseRow {
  scope: string;
  spent_usd: number;
  reserved_usd: number;
  granted: number;
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
  /** Heartbeat age after which an instance counts as dead (default {@link OWNER_TTL_MS}). */
  ownerTtlMs?: number;
  heartbeatMs?: number;
  /** Idle time after which a lease is given back (default {@link LEASE_IDLE_MS}). */
  leaseIdleMs?: number;
}

export class PgBudgetLedger implements BudgetBook {
  readonly owner: string;
  private readonly db: PgDatabase;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly flushMs: number;
  private readonly ownerTtlMs: number;
  private readonly idleMs: number;
  private readonly onFailure: 'open' | 'closed';
  private readonly states = new Map<string, PgScopeState>();
  private readonly sets = new Map<string, LeaseSet>();
  /** Every lease whose rows may exist in the database (until its give-back is written). */
  private readonly leases = new Map<string, Lease>();
  /** Ids of lease statements in flight. */
  private readonly asking = new Set<string>();
  private pending: Settlement[] = [];
  private dropped = 0;
  private timer: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private sweeper: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  private lastError: string | null = null;
  private lastFlushAt: number | null = null;
  /** When this instance's heartbeat was last written (its leases are safe to use for ownerTtl/2 after). */
  private lastBeatAt = 0;
  private closed = false;
  private topCache = new Map<string, { scope: string; spent: number; requests: number }[]>();
  private readonly onTimer = AsyncResource.bind(() => void this.write());
  private readonly onBeat = AsyncResource.bind(() => void this.beat());
  private readonly onSweep = AsyncResource.bind(() => this.sweep());

  constructor(opts: PgLedgerOptions) {
    this.db = opts.db;
    this.log = opts.log;
    this.now = opts.now ?? Date.now;
    this.flushMs = opts.flushMs ?? 250;
    this.ownerTtlMs = opts.ownerTtlMs ?? OWNER_TTL_MS;
    this.idleMs = opts.leaseIdleMs ?? LEASE_IDLE_MS;
    this.onFailure = opts.onStoreFailure;
    this.owner = opts.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.heartbeat = setInterval(this.onBeat, opts.heartbeatMs ?? HEARTBEAT_MS);
    this.heartbeat.unref();
    this.sweeper = setInterval(this.onSweep, Math.max(50, Math.floor(this.idleMs / 3)));
    this.sweeper.unref();
    void this.beat();
  }

  state(ref: ScopeRef, window: PeriodWindow): PgScopeState {
    const key = `${ref.scope}\u0000${window.start}`;
    let s = this.states.get(key);
    if (!s) {
      s = new PgScopeState(ref.scope, window, ref.limit);
      this.states.set(key, s);
    }
    s.limit = ref.limit;
    return s;
  }

  read(ref: ScopeRef, window: PeriodWindow): ScopeState {
    return this.state(ref, window);
  }

  /**
   * Admits the request from a live lease of its scope set when one has room for it (no I/O);
   * otherwise takes a new lease in one statement (or waits for the one this instance is already
   * taking for the set, when far from the limit).
   */
  reserve(refs: ScopeRef[], window: PeriodWindow, amount: number): ReserveResult | StoreRefusal | Promise<ReserveResult | StoreRefusal> {
    const states = refs.map((r) => this.state(r, window));
    const limited = states.filter((s) => s.limit !== null).sort((a, b) => (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0));
    if (limited.length === 0) return this.admit(states, amount, null);
    const key = setKey(limited.map((s) => s.scope), window);
    let set = this.sets.get(key);
    if (!set) {
      set = newSet(key, limited, window);
      this.sets.set(key, set);
    }
    return this.reserveIn(set, states, amount, true);
  }

  private reserveIn(set: LeaseSet, states: PgScopeState[], amount: number, mayWait: boolean): ReserveResult | StoreRefusal | Promise<ReserveResult | StoreRefusal> {
    const lease = this.fitting(set, amount);
    if (lease) return this.admit(states, amount, lease);
    // far from the limit, the lease being taken will likely have room for this request too
    if (mayWait && set.asking && !set.tight) return set.asking.then(() => this.reserveIn(set, states, amount, false));
    return this.ask(set, states, amount);
  }

  /** A live lease of the set with room for `amount`; leases no longer safe to use are retired. */
  private fitting(set: LeaseSet, amount: number): Lease | null {
    if (set.live.length === 0) return null;
    const now = this.now();
    let found: Lease | null = null;
    // (retire() replaces set.live with a new array, so the one iterated here is not changed under it)
    for (const l of set.live) {
      if (!this.usable(l, now)) this.retire(l);
      else if (!found && free(l) + EPS >= amount) found = l;
    }
    return found;
  }

  /**
   * A lease admits while its period lasts and while this instance's heartbeat (or the grant) is
   * younger than half the owner TTL: past the TTL other instances may give it back.
   */
  private usable(l: Lease, now: number): boolean {
    return !l.retired && now < l.set.window.end && now - Math.max(this.lastBeatAt, l.grantedAt) < this.ownerTtlMs / 2;
  }

  private admit(states: PgScopeState[], amount: number, lease: Lease | null): ReserveResult {
    const now = this.now();
    for (const s of states) {
      s.inflight += amount;
      s.lastUsed = now;
    }
    if (lease) {
      adjust(lease, () => (lease.inflight += amount));
      lease.lastUsed = now;
      noteDemand(lease.set, amount, now);
    }
    const reservation: PgReservation = { states, amount, id: randomUUID(), lease, held: lease !== null };
    return { ok: true, reservation };
  }

  /** Takes a new lease for the set (one statement) and admits the request under it. */
  private ask(set: LeaseSet, states: PgScopeState[], amount: number): Promise<ReserveResult | StoreRefusal> {
    const id = randomUUID();
    const now = this.now();
    const want = wantFor(set, amount, now);
    this.asking.add(id);
    const p = this.take(set, amount, want, id, now).then(
      (granted): ReserveResult => {
        const lease: Lease = { id, set, held: 0, inflight: 0, grantedAt: now, lastUsed: now, retired: false, closed: false, releases: 0 };
        this.leases.set(id, lease);
        adjust(lease, () => (lease.held = granted));
        // the room held the grant back: near the limit, requests ask on their own rather than wait
        set.tight = granted + EPS < want;
        // replaced: the older leases' unused dollars are given back
        for (const old of set.live) this.retire(old);
        set.live.push(lease);
        return this.admit(states, amount, lease);
      },
      (err: unknown): ReserveResult | StoreRefusal => {
        if (err instanceof Refused) {
          set.tight = true;
          return { ok: false, state: err.state };
        }
        this.noteError(err);
        if (this.onFailure === 'closed') return { ok: false, unavailable: `budget store unavailable: ${describePgError(err)}` };
        // open: decide from what was last read plus this instance's own reservations, unused leases and spend since
        for (const s of set.states) {
          if (s.spent + s.inflight + s.lease + s.others + amount > (s.limit as number) + EPS) return { ok: false, state: s };
        }
        return this.admit(states, amount, null);
      },
    );
    const waited = p.finally(() => {
      this.asking.delete(id);
      if (set.asking === waited) set.asking = null;
    });
    set.asking = waited;
    return waited;
  }

  /** The lease statement; resolves to the dollars granted, throws {@link Refused} when the amount does not fit. */
  private async take(set: LeaseSet, amount: number, want: number, id: string, now: number): Promise<number> {
    const limited = set.states;
    const scopes = limited.map((s) => s.scope);
    const values = (): unknown[] => [scopes, limited.map((s) => s.limit), set.window.start, amount, want, id, this.owner, now];
    // prepared once per connection (`name`): each lease is then parsed and planned no more
    let rows = await this.db.run(LABEL, (q) => q.query<LeaseRow>({ name: 'budget-lease', text: LEASE_SQL, values: values() }));
    if (rows.rows.length < limited.length) {
      // the period's first request of a scope: its row is created (once), then the lease is asked again
      await this.db.run(LABEL, (q) => q.query(`INSERT INTO budget_period (scope, period_start) SELECT unnest($1::text[]), $2 ON CONFLICT DO NOTHING`, [scopes, set.window.start]));
      rows = await this.db.run(LABEL, (q) => q.query<LeaseRow>({ name: 'budget-lease', text: LEASE_SQL, values: values() }));
    }
    const byScope = new Map(rows.rows.map((r) => [r.scope, r]));
    // the figures are those before this grant (read under the row locks)
    for (const s of limited) this.absorb(s, byScope.get(s.scope));
    const granted = Number(rows.rows[0]?.granted ?? 0);
    if (granted > 0) return granted;
    const refused = limited.find((s) => {
      const r = byScope.get(s.scope);
      return !r || Number(r.spent_usd) + Number(r.reserved_usd) + amount > (s.limit as number) + EPS;
    });
    if (!refused) throw new Error('budget lease neither granted nor refused');
    throw new Refused(refused);
  }

  /** Takes the figures a statement returned (before this instance's changes it has not seen answered). */
  private absorb(s: PgScopeState, row: { spent_usd: number; reserved_usd: number } | undefined): void {
    if (!row) return;
    s.dbSpent = Number(row.spent_usd);
    // held by other instances: everything reserved but this instance's leases
    s.others = Math.max(0, Number(row.reserved_usd) - s.held);
  }

  /** The lease admits nothing more: its unused dollars are given back (entirely once nothing is in flight under it). */
  private retire(l: Lease): void {
    if (l.retired) return;
    l.set.live = l.set.live.filter((x) => x !== l);
    if (l.inflight <= EPS) {
      this.giveBack(l);
      return;
    }
    const unused = free(l);
    adjust(l, () => {
      l.retired = true;
      l.held -= unused;
    });
    if (unused > EPS) this.enqueueLease(l, unused, false);
  }

  /** Gives a lease back entirely (nothing in flight under it). */
  private giveBack(l: Lease): void {
    if (l.closed) return;
    l.set.live = l.set.live.filter((x) => x !== l);
    adjust(l, () => {
      l.retired = true;
      l.closed = true;
      l.held = 0;
    });
    this.enqueueLease(l, 0, true);
  }

  private enqueueLease(l: Lease, freeUsd: number, close: boolean): void {
    this.push({
      key: `${l.id}:${close ? 'close' : `free${++l.releases}`}`, leaseId: l.id, periodStart: l.set.window.start, periodEnd: l.set.window.end,
      at: this.now(), actual: 0, free: freeUsd, close, request: false, states: l.set.states,
    });
  }

  settle(r: Reservation, actualUsd: number): void {
    const pr = r as PgReservation;
    for (const s of r.states) {
      s.inflight = Math.max(0, s.inflight - r.amount);
      if (s.inflight < EPS) s.inflight = 0;
    }
    const usd = Math.max(0, actualUsd);
    const l = pr.lease;
    let freeUsd = 0;
    let close = false;
    if (l) {
      adjust(l, () => {
        l.inflight = Math.max(0, l.inflight - r.amount);
        if (l.inflight < EPS) l.inflight = 0;
        // a retired lease gives back the request's unused reservation at once
        freeUsd = l.retired ? Math.max(0, r.amount - usd) : 0;
        l.held = Math.max(0, l.held - Math.min(usd + freeUsd, l.held));
        l.lastUsed = this.now();
        // nothing else in flight and no room for another request like it (or retired): given back now
        close = l.inflight === 0 && (l.retired || l.held + EPS < r.amount || !this.usable(l, this.now()));
        if (close) {
          l.retired = true;
          l.closed = true;
          l.held = 0;
        }
      });
      if (close) l.set.live = l.set.live.filter((x) => x !== l);
    }
    this.enqueue(l ? l.id : null, r.states, usd, pr.id, freeUsd, close);
  }

  charge(refs: ScopeRef[], window: PeriodWindow, actualUsd: number): void {
    this.enqueue(null, refs.map((ref) => this.state(ref, window)), actualUsd, randomUUID(), 0, false);
  }

  private enqueue(leaseId: string | null, states: ScopeState[], actual: number, key: string, freeUsd: number, close: boolean): void {
    const first = states[0];
    if (!first) return;
    const usd = Math.max(0, actual);
    for (const s of states) {
      s.unflushed += usd;
      s.unflushedRequests++;
      s.lastUsed = this.now();
    }
    this.push({ key, leaseId, periodStart: first.window.start, periodEnd: first.window.end, at: this.now(), actual: usd, free: freeUsd, close, request: true, states });
  }

  private push(st: Settlement): void {
    this.pending.push(st);
    if (this.pending.length > MAX_PENDING) {
      const lost = this.pending.shift() as Settlement;
      this.dropped++;
      if (lost.request) for (const s of lost.states) s.unflushed = Math.max(0, s.unflushed - lost.actual);
    }
    this.schedule(this.lastError === null ? this.flushMs : 1_000);
  }

  private schedule(ms: number): void {
    if (this.closed || this.timer || this.writing) return;
    this.timer = setTimeout(this.onTimer, ms);
    this.timer.unref();
  }

  /** Gives back leases idle (nothing in flight for `idleMs`), of a period that ended, or no longer safe to use. */
  private sweep(): void {
    if (this.closed) return;
    const now = this.now();
    for (const l of this.leases.values()) {
      if (l.closed || l.inflight > EPS) continue;
      if (now - l.lastUsed >= this.idleMs || !this.usable(l, now)) this.giveBack(l);
    }
    for (const [key, set] of this.sets) {
      if (set.live.length === 0 && !set.asking && now - set.lastUsed > SET_FORGET_MS) this.sets.delete(key);
    }
  }

  flush(): void {
    void this.write();
  }

  /** Writes pending settlements and lease changes (each once: `budget_settled`), chunk by chunk; stops at the first failure. */
  write(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    // nothing to write: the body below would finish synchronously and leave `writing` set for good
    if (!this.writing && this.pending.length === 0) return Promise.resolve();
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
            if (st.close && st.leaseId) this.leases.delete(st.leaseId);
            if (!st.request) continue;
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
    const lids: (string | null)[] = [];
    const scopes: string[] = [];
    const starts: number[] = [];
    const buckets: number[] = [];
    const actual: number[] = [];
    const frees: number[] = [];
    const closes: boolean[] = [];
    const reqs: number[] = [];
    for (const st of batch) {
      const bucket = Math.floor(Math.min(Math.max(st.at, st.periodStart), st.periodEnd - 1) / BUCKET_MS) * BUCKET_MS;
      for (const s of st.states) {
        keys.push(st.key);
        lids.push(s.limit === null ? null : st.leaseId);
        scopes.push(s.scope);
        starts.push(st.periodStart);
        buckets.push(bucket);
        actual.push(st.actual);
        frees.push(st.free);
        closes.push(st.close);
        reqs.push(st.request ? 1 : 0);
      }
    }
    // a prepared statement per connection (parsed and planned once)
    await q.query({ name: 'budget-settle', text: SETTLE_SQL, values: [keys, lids, scopes, starts, buckets, actual, frees, closes, reqs, this.now()] });
  }

  /**
   * Heartbeat: this instance is alive; dead instances' leases are given back, and so are this
   * instance's own rows it no longer knows (a lease statement that timed out here but committed
   * there); figures refreshed.
   */
  private async beat(): Promise<void> {
    if (this.closed) return;
    const now = this.now();
    const known = [...this.leases.keys(), ...this.asking];
    try {
      await this.db.tx(LABEL, async (q) => {
        await q.query(
          'INSERT INTO budget_owners (owner, updated_at) VALUES ($1, $2) ON CONFLICT (owner) DO UPDATE SET updated_at = excluded.updated_at',
          [this.owner, now],
        );
        await q.query('DELETE FROM budget_owners WHERE updated_at < $1', [now - this.ownerTtlMs]);
        await releaseWhere(q, `owner NOT IN (SELECT owner FROM budget_owners) AND created_at < $1`, [now - this.ownerTtlMs]);
        await releaseWhere(q, `owner = $1 AND created_at < $2 AND NOT (split_part(id, ':', 1) = ANY($3::text[]))`, [this.owner, now - 1_000, known]);
        await q.query('DELETE FROM budget_settled WHERE at < $1', [now - 7 * 86_400_000]);
      });
      this.lastBeatAt = now;
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
      const unwritten = this.pending.filter((p) => p.request && p.states.includes(s)).reduce((a, p) => a + p.actual, 0);
      s.unflushed = unwritten;
      this.absorb(s, r);
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
    if (this.sweeper) clearInterval(this.sweeper);
    // every lease is given back: first what is queued (settlements under them), then the rest below
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
      // the store is gone; the heartbeat expires and another instance gives the leases back
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
