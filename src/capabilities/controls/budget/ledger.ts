/**
 * The budget ledger: period spend per scope (global, an API-key hash, a project), kept
 * durable in SQLite and exact under concurrency, within one process and across processes
 * sharing the file.
 *
 * How it stays exact without I/O on most requests:
 * - Spend is stored in 15-minute buckets per scope (`budget_spend`); a period's spend is the
 *   sum of its buckets, so any period and timezone can be asked for.
 * - Each process holds a *lease* per limited scope (`budget_leases`): dollars it may commit
 *   to requests. In the database, period spend + all live leases <= limit always holds;
 *   it is kept by `BEGIN IMMEDIATE` transactions, which SQLite serialises across processes.
 * - A request reserves its worst-case cost from the lease in memory. Only when the lease is
 *   too small does the process grow it in a transaction (taking a little spare so that the
 *   next requests need none).
 * - Settled spend and released leases are written in batches off the request path (every
 *   `flushMs`), and a live process refreshes its leases (heartbeat) so that others can tell
 *   a crashed process's lease (ignored after 30 s) from a live one.
 * The guarantee is relative to reservations: a request whose actual cost exceeds its
 * reservation (an under-estimated prompt) can take spend past the limit by the difference.
 */
import { AsyncResource } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Database as Db, Statement } from 'better-sqlite3';
import type { Logger } from '../../../core/logger.js';
import type { PeriodWindow } from '../period.js';

export const BUCKET_MS = 15 * 60_000;
/** A lease not refreshed for this long belongs to a dead process and is ignored. */
export const LEASE_TTL_MS = 30_000;
const HEARTBEAT_MS = 5_000;
/** Spare taken when a lease grows: up to this share of the limit (and half of what is left). */
const SPARE_SHARE = 0.1;
const IDLE_DROP_MS = 60_000;
const KEEP_SPEND_MS = 62 * 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;
const EPS = 1e-12;

export const APPLICATION_ID = 0x48445242; // "HDRB"

const SCHEMA = `
CREATE TABLE IF NOT EXISTS budget_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS budget_spend (
  scope TEXT NOT NULL, bucket INTEGER NOT NULL, spent_usd REAL NOT NULL, requests INTEGER NOT NULL,
  PRIMARY KEY (scope, bucket)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS budget_leases (
  owner TEXT NOT NULL, scope TEXT NOT NULL, period_start INTEGER NOT NULL, leased_usd REAL NOT NULL, updated_at INTEGER NOT NULL,
  PRIMARY KEY (owner, scope, period_start)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS budget_leases_scope ON budget_leases (scope, updated_at);
`;

export function initBudgetSchema(db: Db): void {
  db.exec(SCHEMA);
  db.pragma(`application_id = ${APPLICATION_ID}`);
  db.prepare("INSERT OR IGNORE INTO budget_meta (key, value) VALUES ('schema_version', '1'), ('created_at', ?)").run(new Date().toISOString());
}

/** A scope and its limit (null: spend is tracked but not limited). */
export interface ScopeRef {
  scope: string;
  limit: number | null;
}

export class ScopeState {
  /** Dollars this process may commit (mirrors its lease row). */
  lease = 0;
  /** Reservations of requests in flight in this process. */
  inflight = 0;
  /** Settled spend not yet written. */
  unflushed = 0;
  unflushedRequests = 0;
  /** Period spend in the store as last read (every process's written spend). */
  dbSpent = 0;
  /** Live leases of other processes as last read. */
  others = 0;
  lastUsed = 0;

  constructor(
    readonly scope: string,
    readonly window: PeriodWindow,
    public limit: number | null,
  ) {}

  get spent(): number {
    return this.dbSpent + this.unflushed;
  }

  /** What is left for new requests (null when unlimited). */
  get remaining(): number | null {
    return this.limit === null ? null : Math.max(0, this.limit - this.spent - this.inflight - this.others);
  }
}

export interface Reservation {
  states: ScopeState[];
  amount: number;
}

export type ReserveResult = { ok: true; reservation: Reservation } | { ok: false; state: ScopeState };

export interface LedgerOptions {
  db: Db;
  log: Logger;
  now?: () => number;
  flushMs?: number;
  /** Identifies this process's leases (default: host, pid and a random id). */
  owner?: string;
  /**
   * `db` is an in-memory copy of a file that cannot be opened yet: spend and leases are kept
   * in memory (not written to the copy) until `attach` hands over the file.
   */
  detached?: boolean;
}

export interface LedgerHealth {
  ok: boolean;
  lastError: string | null;
  lastFlushAt: number | null;
}

type StatementName = 'spent' | 'others' | 'upLease' | 'delLease' | 'addSpend' | 'top';

function statementsFor(db: Db): Record<StatementName, Statement> {
  return {
    spent: db.prepare('SELECT coalesce(sum(spent_usd), 0) AS v FROM budget_spend WHERE scope = ? AND bucket >= ? AND bucket < ?').pluck(),
    others: db.prepare('SELECT coalesce(sum(leased_usd), 0) AS v FROM budget_leases WHERE scope = ? AND owner <> ? AND updated_at >= ?').pluck(),
    upLease: db.prepare(`INSERT INTO budget_leases (owner, scope, period_start, leased_usd, updated_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (owner, scope, period_start) DO UPDATE SET leased_usd = excluded.leased_usd, updated_at = excluded.updated_at`),
    delLease: db.prepare('DELETE FROM budget_leases WHERE owner = ? AND scope = ? AND period_start = ?'),
    addSpend: db.prepare(`INSERT INTO budget_spend (scope, bucket, spent_usd, requests) VALUES (?, ?, ?, ?)
      ON CONFLICT (scope, bucket) DO UPDATE SET spent_usd = spent_usd + excluded.spent_usd, requests = requests + excluded.requests`),
    top: db.prepare(`SELECT scope, sum(spent_usd) AS spent, sum(requests) AS requests FROM budget_spend
      WHERE scope >= ? AND scope < ? AND bucket >= ? AND bucket < ? GROUP BY scope ORDER BY spent DESC LIMIT ?`),
  };
}

export class BudgetLedger {
  readonly owner: string;
  private db: Db;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly flushMs: number;
  private readonly states = new Map<string, ScopeState>();
  private readonly dirty = new Set<ScopeState>();
  private st: Record<StatementName, Statement>;
  private detached: boolean;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = 0;
  private closed = false;
  private lastPrune = 0;
  private lastError: string | null = null;
  private lastFlushAt: number | null = null;
  private readonly onTimer = AsyncResource.bind(() => this.flush());

  constructor(opts: LedgerOptions) {
    this.db = opts.db;
    this.log = opts.log;
    this.now = opts.now ?? Date.now;
    this.flushMs = opts.flushMs ?? 250;
    this.owner = opts.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.detached = opts.detached ?? false;
    this.st = statementsFor(this.db);
  }

  /**
   * The file opened after start-up: from now on spend and leases go to it. What was settled
   * meanwhile is written now; a failure throws (the file is then retried later).
   */
  attach(db: Db): void {
    const [memory, memorySt] = [this.db, this.st];
    this.db = db;
    this.st = statementsFor(db);
    this.detached = false;
    this.lastError = null;
    this.flush();
    if (this.lastError !== null) {
      const err = this.lastError;
      [this.db, this.st, this.detached] = [memory, memorySt, true];
      throw new Error(err);
    }
    for (const s of this.states.values()) this.refresh(s, this.now());
  }

  private othersSince(now: number): number {
    return now - LEASE_TTL_MS;
  }

  /** The state of a scope in a period (read from the store the first time). */
  state(ref: ScopeRef, window: PeriodWindow): ScopeState {
    const key = `${ref.scope}\u0000${window.start}`;
    let s = this.states.get(key);
    if (!s) {
      s = new ScopeState(ref.scope, window, ref.limit);
      this.refresh(s, this.now());
      this.states.set(key, s);
    }
    s.limit = ref.limit;
    return s;
  }

  /** The state with what every process has written, read now (for reports, not the request path). */
  read(ref: ScopeRef, window: PeriodWindow): ScopeState {
    const s = this.state(ref, window);
    this.refresh(s, this.now());
    return s;
  }

  private refresh(s: ScopeState, now: number): void {
    try {
      s.dbSpent = this.st.spent.get(s.scope, s.window.start, s.window.end) as number;
      s.others = s.limit === null ? 0 : (this.st.others.get(s.scope, this.owner, this.othersSince(now)) as number);
    } catch (err) {
      this.noteError(err, 'read');
    }
  }

  /**
   * Reserves `amount` in every scope, or in none. Synchronous: requests in this process are
   * admitted one at a time, so concurrent requests cannot both take the last dollars.
   */
  reserve(refs: ScopeRef[], window: PeriodWindow, amount: number): ReserveResult {
    const now = this.now();
    const states = refs.map((r) => this.state(r, window));
    const short = states.filter((s) => s.limit !== null && s.inflight + s.unflushed + amount > s.lease + EPS);
    if (short.length > 0) {
      const failed = this.grow(short, amount, now);
      if (failed) return { ok: false, state: failed };
    }
    for (const s of states) {
      s.inflight += amount;
      s.lastUsed = now;
    }
    return { ok: true, reservation: { states, amount } };
  }

  /** Grows the leases of `short` to fit `amount` in one transaction; returns the scope that cannot. */
  private grow(short: ScopeState[], amount: number, now: number): ScopeState | null {
    const grants: number[] = [];
    let failed: ScopeState | null = null;
    const compute = () => {
      grants.length = 0;
      failed = null;
      for (const s of short) {
        this.refresh(s, now);
        const limit = s.limit as number;
        const available = limit - s.dbSpent - s.others - s.lease;
        const want = s.inflight + s.unflushed + amount - s.lease;
        if (want > available + EPS) {
          failed ??= s;
          grants.push(0);
          continue;
        }
        grants.push(want + Math.min(limit * SPARE_SHARE, Math.max(0, (available - want) / 2)));
      }
    };
    try {
      if (this.detached) throw new Error('budget store file not open yet');
      this.db.transaction(() => {
        compute();
        if (failed) return;
        short.forEach((s, i) => this.st.upLease.run(this.owner, s.scope, s.window.start, s.lease + (grants[i] as number), now));
      }).immediate();
      this.lastError = null;
    } catch (err) {
      // The store is unavailable (locked for too long, disk error, not open yet): decide from
      // what was last read; exact within this process, and logged as degraded.
      if (!this.detached) this.noteError(err, 'lease');
      grants.length = 0;
      failed = null;
      for (const s of short) {
        const available = (s.limit as number) - s.dbSpent - s.others - s.lease;
        const want = s.inflight + s.unflushed + amount - s.lease;
        if (want > available + EPS) failed ??= s;
        grants.push(Math.max(0, want));
      }
    }
    if (failed) return failed;
    short.forEach((s, i) => (s.lease += grants[i] as number));
    this.schedule(this.flushMs);
    return null;
  }

  /** Releases a reservation and records what the request actually cost. */
  settle(r: Reservation, actualUsd: number): void {
    for (const s of r.states) {
      s.inflight = Math.max(0, s.inflight - r.amount);
      if (s.inflight < EPS) s.inflight = 0;
      this.add(s, actualUsd);
    }
    this.schedule(this.flushMs);
  }

  /** Records spend of a request that held no reservation. */
  charge(refs: ScopeRef[], window: PeriodWindow, actualUsd: number): void {
    for (const ref of refs) this.add(this.state(ref, window), actualUsd);
    this.schedule(this.flushMs);
  }

  private add(s: ScopeState, usd: number): void {
    s.unflushed += Math.max(0, usd);
    s.unflushedRequests++;
    s.lastUsed = this.now();
    this.dirty.add(s);
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    const at = performance.now() + ms;
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(this.onTimer, ms);
    this.timer.unref();
  }

  /**
   * Writes settled spend, shrinks every lease to what is in flight (returning spare to the
   * other processes) and refreshes what the others spent and hold. Runs on a timer.
   */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (!this.db.open) return;
    if (this.detached) {
      // kept in memory (spent = what was read + unflushed) until the file opens
      if (this.dirty.size > 0) this.schedule(Math.max(this.flushMs, 1000));
      return;
    }
    const now = this.now();
    const work = new Set(this.dirty);
    for (const s of this.states.values()) if (s.lease > 0) work.add(s);
    if (work.size > 0) {
      try {
        this.db.transaction(() => {
          for (const s of work) {
            if (s.unflushedRequests > 0) {
              const bucket = Math.floor(Math.min(Math.max(now, s.window.start), s.window.end - 1) / BUCKET_MS) * BUCKET_MS;
              this.st.addSpend.run(s.scope, bucket, s.unflushed, s.unflushedRequests);
            }
            if (s.limit !== null && s.inflight > 0) this.st.upLease.run(this.owner, s.scope, s.window.start, s.inflight, now);
            else if (s.lease > 0) this.st.delLease.run(this.owner, s.scope, s.window.start);
          }
        }).immediate();
      } catch (err) {
        this.noteError(err, 'flush');
        this.schedule(Math.max(this.flushMs, 1000));
        return;
      }
      this.lastError = null;
      this.lastFlushAt = now;
      for (const s of work) {
        s.dbSpent += s.unflushed;
        s.unflushed = 0;
        s.unflushedRequests = 0;
        s.lease = s.limit !== null ? s.inflight : 0;
        this.refresh(s, now);
      }
      this.dirty.clear();
    }
    this.dropIdle(now);
    this.maybePrune(now);
    for (const s of this.states.values()) {
      if (s.lease > 0) {
        this.schedule(HEARTBEAT_MS);
        break;
      }
    }
  }

  private dropIdle(now: number): void {
    for (const [key, s] of this.states) {
      if (s.inflight > 0 || s.unflushedRequests > 0 || s.lease > 0) continue;
      if (now >= s.window.end || now - s.lastUsed > IDLE_DROP_MS) this.states.delete(key);
    }
  }

  private maybePrune(now: number): void {
    if (now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    try {
      this.db.prepare('DELETE FROM budget_spend WHERE bucket < ?').run(now - KEEP_SPEND_MS);
      this.db.prepare('DELETE FROM budget_leases WHERE updated_at < ?').run(now - 100 * LEASE_TTL_MS);
    } catch (err) {
      this.noteError(err, 'prune');
    }
  }

  private noteError(err: unknown, what: string): void {
    const message = (err as Error)?.message ?? String(err);
    if (this.lastError !== message) this.log.warn({ err: message, step: what }, 'budget store unavailable; deciding from the last known figures');
    this.lastError = message;
  }

  /** Spend of the scopes starting with `prefix` in a period, largest first (written spend plus this process's unwritten). */
  top(prefix: string, window: PeriodWindow, limit: number): { scope: string; spent: number; requests: number }[] {
    this.flush();
    try {
      return this.st.top.all(prefix, `${prefix}\uffff`, window.start, window.end, limit) as { scope: string; spent: number; requests: number }[];
    } catch (err) {
      this.noteError(err, 'read');
      return [];
    }
  }

  health(): LedgerHealth {
    return { ok: this.lastError === null, lastError: this.lastError, lastFlushAt: this.lastFlushAt };
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    try {
      this.db.prepare('DELETE FROM budget_leases WHERE owner = ?').run(this.owner);
    } catch {
      // the store is gone; the lease expires on its own
    }
  }
}
