/**
 * The stats store in a shared Postgres database (`--database-url`): every instance of a fleet
 * writes to the same totals, events and rollups, so `/stats` and `/stats-history` report the
 * same lifetime wherever a request is asked.
 *
 * Writes are buffered exactly as in the SQLite store: `record()` never blocks and never
 * throws; batches are written off the request path within `flushMs`. One batch is one
 * autocommit statement (`pg-batch.ts`) that locks the lifetime and session rows (`FOR UPDATE`:
 * the instances' batches are serialised, so cumulative checkpoints and totals add up exactly)
 * and applies the whole batch; an event whose idempotency key (`uid`) is already stored (a
 * batch retried after a commit whose answer was lost) is dropped, never applied twice.
 *
 * When the database is down or slow (every statement has a deadline, `database.ts`), the
 * batch stays in memory (bounded: beyond {@link MAX_PENDING} the oldest events are dropped and
 * counted) and is retried with a backoff; when the database answers again the backlog is
 * written once. Reads that fail answer the last figures read (plus nothing invented), so
 * `/stats` keeps answering during an outage.
 */
import { AsyncResource } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../../core/logger.js';
import { describePgError, type PgDatabase, type Queryable } from '../../../storage/postgres/database.js';
import type { StoredAttribution } from './attribution-table.js';
import { BatchFold } from './batch-fold.js';
import { type BatchResult, batchStatement, type Keyed } from './pg-batch.js';
import {
  emptySession,
  type Granularity,
  type HistoryPoint,
  type ProjectTotals,
  type RollupRow,
  type SavingsEvent,
  type SessionTotals,
  type StatsStore,
  type StoreHealth,
  type StoreLimits,
  type Totals,
  zeroTotals,
} from './types.js';

const LABEL = 'stats store';
export const MAX_PENDING = 100_000;
/** Most events one transaction writes (a backlog is written in several). */
const CHUNK = 500;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const PRUNE_EVERY_MS = 60 * 60_000;
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 5_000;

type Row = Record<string, number | string | null>;

const totalsOf = (r: Row | undefined): Totals =>
  r
    ? {
        requests: Number(r.requests), tokensSaved: Number(r.tokens_saved), savingsUsd: Number(r.savings_usd), inputTokens: Number(r.input_tokens),
        inputCostUsd: Number(r.input_cost_usd), outputTokens: Number(r.output_tokens), outputCostUsd: Number(r.output_cost_usd),
      }
    : zeroTotals();

const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

const TOTALS_COLUMNS = 'requests, tokens_saved, savings_usd, input_tokens, input_cost_usd, output_tokens, output_cost_usd';

const PRUNE = `WITH events AS (DELETE FROM stats_events WHERE ts < $1),
  hours AS (DELETE FROM stats_rollup_hour WHERE start < $2),
  days AS (DELETE FROM stats_rollup_day WHERE start < $3),
  attribution AS (DELETE FROM stats_attribution_day WHERE start < $3)
  SELECT 1`;

export interface PgStatsStoreOptions {
  db: PgDatabase;
  limits: StoreLimits;
  flushMs: number;
  log: Logger;
  /** Prefix of this instance's idempotency keys (default: a random id). */
  instance?: string;
}

export class PgStatsStore implements StatsStore {
  readonly backend = 'postgres';
  readonly location: string;
  readonly limits: StoreLimits;
  readonly importedFrom: string | null = null;
  readonly instance: string;
  private readonly db: PgDatabase;
  private readonly log: Logger;
  private readonly flushMs: number;
  private pending: Keyed[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  private retryDelay = RETRY_MIN_MS;
  private closed = false;
  private lastFlushAt: number | null = null;
  private lastError: string | null = null;
  private failedAt = 0;
  private dropped = 0;
  private commits = 0;
  /** The newest event id any instance committed, as of the last flush. */
  private seen = 0;
  private lastPruneAt = 0;
  /** A write failed: some of the backlog may be stored already. */
  private unsure = false;
  /** The last figures read, answered while the database cannot be read. */
  private readonly last = new Map<string, unknown>();
  private readonly onTimer = AsyncResource.bind(() => void this.drain());

  constructor(opts: PgStatsStoreOptions) {
    this.db = opts.db;
    this.location = opts.db.where;
    this.limits = opts.limits;
    this.flushMs = opts.flushMs;
    this.log = opts.log;
    this.instance = opts.instance ?? randomUUID();
  }

  record(event: SavingsEvent): void {
    if (this.closed) return;
    this.pending.push({ uid: `${this.instance}:${++this.seq}`, e: event });
    if (this.pending.length > MAX_PENDING) {
      this.pending.shift();
      this.dropped++;
    }
    this.schedule(this.lastError === null ? this.flushMs : this.retryDelay);
  }

  private schedule(ms: number): void {
    if (this.closed || this.timer || this.writing) return;
    this.timer = setTimeout(this.onTimer, ms);
    this.timer.unref();
  }

  /** Writes the backlog chunk by chunk; stops at the first failure (kept, retried later). */
  private drain(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.writing ??= (async () => {
      try {
        while (this.pending.length > 0) {
          const batch = this.pending.slice(0, CHUNK);
          try {
            await this.applyBatch(batch);
          } catch (err) {
            // the commit may have happened: the next attempt looks the keys up first
            this.unsure = true;
            const message = describePgError(err);
            if (this.lastError !== message) this.log.warn({ err: message, pending: this.pending.length }, 'stats store write failed; kept in memory and retried');
            this.lastError = message;
            this.failedAt = Date.now();
            this.retryDelay = Math.min(this.retryDelay * 2, RETRY_MAX_MS);
            return;
          }
          this.commits++;
          this.lastFlushAt = Date.now();
          if (this.lastError !== null) this.log.info({ pending: this.pending.length }, 'stats store written again; the events kept in memory were saved');
          this.lastError = null;
          this.retryDelay = RETRY_MIN_MS;
        }
        await this.maybePrune();
      } finally {
        this.writing = null;
        if (this.pending.length > 0 && !this.closed) this.schedule(this.lastError === null ? 0 : this.retryDelay);
      }
    })();
    return this.writing;
  }

  /**
   * Writes one batch in one statement (`pg-batch.ts`). Events already stored are never applied
   * twice: after a failed write (its commit may have happened, its answer lost) the batch's
   * keys are looked up first and the stored ones dropped; an event stored meanwhile anyway
   * (a concurrent retry) fails the statement on the unique key, and the lookup runs then.
   */
  private async applyBatch(batch: Keyed[]): Promise<void> {
    await this.db.run(LABEL, async (q) => {
      let todo = batch;
      if (this.unsure) {
        todo = await this.dropStored(q, batch);
        this.unsure = false;
        if (todo.length === 0) return;
      }
      const sorted = [...todo].sort((a, b) => a.e.ts - b.e.ts);
      // the fold gives the batch's own figures; the statement adds them to the stored ones under its row lock
      const fold = new BatchFold(zeroTotals(), emptySession(), this.limits.sessionRolloverMs);
      for (const { e } of sorted) fold.add(e);
      let out: BatchResult | undefined;
      try {
        out = (await q.query<BatchResult>(batchStatement(sorted, fold, this.instance, this.limits))).rows[0];
      } catch (err) {
        const e = err as { code?: string; constraint?: string };
        if (e.code !== '23505' || e.constraint !== 'stats_events_uid_key') throw err;
        // nothing of the batch was applied: drop what is stored, the rest is written next
        if ((await this.dropStored(q, todo)).length === todo.length) throw err;
        return;
      }
      if (!out || out.written !== sorted.length || out.totals !== 2) {
        throw new Error(`stats batch not written: ${out?.written ?? 0} of ${sorted.length} events, ${out?.totals ?? 0} of 2 totals rows (are the stats_totals rows missing?)`);
      }
      // events recorded meanwhile were appended; the batch (without what was dropped) is the head
      this.pending.splice(0, todo.length);
    });
  }

  /** Drops the events of `batch` already stored from the backlog; returns the others. */
  private async dropStored(q: Queryable, batch: Keyed[]): Promise<Keyed[]> {
    const r = await q.query<{ uid: string }>('SELECT uid FROM stats_events WHERE uid = ANY($1::text[])', [batch.map((k) => k.uid)]);
    if (r.rows.length === 0) return batch;
    const stored = new Set(r.rows.map((x) => x.uid));
    this.pending = this.pending.filter((k) => !stored.has(k.uid));
    return batch.filter((k) => !stored.has(k.uid));
  }

  private async maybePrune(now = Date.now()): Promise<void> {
    if (now - this.lastPruneAt < PRUNE_EVERY_MS) return;
    this.lastPruneAt = now;
    const cutoff = now - this.limits.retentionMs;
    try {
      const day = Math.ceil(cutoff / DAY_MS) * DAY_MS;
      await this.db.run(LABEL, (q) => q.query({ name: 'stats-prune', text: PRUNE, values: [cutoff, Math.ceil(cutoff / HOUR_MS) * HOUR_MS, day] }));
    } catch (err) {
      this.log.warn({ err: describePgError(err) }, 'stats store retention prune failed');
    }
  }

  /** Writes what is buffered; resolves (never rejects) once tried. Answers at once while the database is failing. */
  async flush(): Promise<void> {
    if (this.lastError !== null && Date.now() - this.failedAt < this.retryDelay) return;
    if (this.pending.length > 0 || this.writing) await this.drain();
    // what every instance committed so far (readers flush first, then derive views keyed by `version()`)
    this.seen = await this.read('seen', this.seen, async (q) => (await q.query<{ n: number | null }>({ name: 'stats-seen', text: 'SELECT max(id) AS n FROM stats_events' })).rows[0]?.n ?? 0);
  }

  /** Runs a read; while the database fails (or just failed), the last answer. */
  private async read<T>(key: string, empty: T, fn: (q: Queryable) => Promise<T>): Promise<T> {
    const known = (this.last.has(key) ? this.last.get(key) : empty) as T;
    if (this.lastError !== null && Date.now() - this.failedAt < this.retryDelay) return known;
    try {
      const v = await this.db.run(LABEL, fn);
      this.last.set(key, v);
      return v;
    } catch (err) {
      this.lastError = describePgError(err);
      this.failedAt = Date.now();
      return known;
    }
  }

  lifetime(): Promise<Totals> {
    return this.read('lifetime', zeroTotals(), async (q) => totalsOf((await q.query<Row>({ name: 'stats-lifetime', text: `SELECT ${TOTALS_COLUMNS} FROM stats_totals WHERE scope = 'lifetime'` })).rows[0]));
  }

  async session(now = Date.now()): Promise<SessionTotals> {
    const r = await this.read<Row | null>('session', null, async (q) => (await q.query<Row>({ name: 'stats-session', text: `SELECT ${TOTALS_COLUMNS}, started_at, last_activity_at FROM stats_totals WHERE scope = 'session'` })).rows[0] ?? null);
    const last = numOrNull(r?.last_activity_at);
    if (!r || last === null || now - last > this.limits.sessionRolloverMs) return emptySession();
    return { ...totalsOf(r), startedAt: numOrNull(r.started_at), lastActivityAt: last };
  }

  projects(): Promise<Record<string, ProjectTotals>> {
    return this.read('projects', {}, async (q) => {
      const rows = (await q.query<Row>({ name: 'stats-projects', text: `SELECT name, ${TOTALS_COLUMNS}, last_activity_at FROM stats_projects ORDER BY tokens_saved DESC, name` })).rows;
      const out: Record<string, ProjectTotals> = {};
      for (const r of rows) out[r.name as string] = { ...totalsOf(r), lastActivityAt: numOrNull(r.last_activity_at) };
      return out;
    });
  }

  history(limit: number): Promise<{ points: HistoryPoint[]; stored: number }> {
    const cap = Math.min(limit, this.limits.maxHistoryPoints);
    return this.read(`history:${cap}`, { points: [], stored: 0 }, async (q) => {
      const rows = (await q.query<HistoryPoint>({ name: 'stats-history', text: `SELECT ts, provider, model, cum_tokens_saved AS "cumTokensSaved", cum_savings_usd AS "cumSavingsUsd",
        cum_input_tokens AS "cumInputTokens", cum_input_cost_usd AS "cumInputCostUsd"
        FROM stats_events WHERE checkpoint ORDER BY id DESC LIMIT $1`, values: [cap] })).rows;
      const total = (await q.query<{ n: number }>({ name: 'stats-history-count', text: 'SELECT count(*)::int AS n FROM stats_events WHERE checkpoint' })).rows[0]?.n ?? 0;
      return { points: rows.reverse(), stored: Math.min(total, this.limits.maxHistoryPoints) };
    });
  }

  rollups(granularity: Granularity, since = 0): Promise<RollupRow[]> {
    const table = granularity === 'hour' ? 'stats_rollup_hour' : 'stats_rollup_day';
    const step = granularity === 'hour' ? HOUR_MS : DAY_MS;
    const start = Math.floor(since / step) * step;
    return this.read(`rollups:${granularity}:${start}`, [], async (q) =>
      (await q.query<RollupRow>({ name: `stats-rollups-${granularity}`, text: `SELECT start, provider, model, requests, tokens_saved AS "tokensSaved", savings_usd AS "savingsUsd",
        input_tokens AS "inputTokens", input_cost_usd AS "inputCostUsd", output_tokens AS "outputTokens", output_cost_usd AS "outputCostUsd",
        cum_tokens_saved AS "cumTokensSaved", cum_savings_usd AS "cumSavingsUsd", cum_input_tokens AS "cumInputTokens", cum_input_cost_usd AS "cumInputCostUsd"
        FROM ${table} WHERE start >= $1 ORDER BY start, provider COLLATE "C", model COLLATE "C"`, values: [start] })).rows);
  }

  attribution(since = 0): Promise<StoredAttribution[]> {
    return this.read(`attribution:${since}`, [], async (q) => {
      const rows = (await q.query<Row>({ name: 'stats-attribution', text: `SELECT dim, id, sum(requests) AS requests, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
        sum(tokens_saved) AS tokens_saved, sum(input_cost_usd) AS input_cost_usd, sum(output_cost_usd) AS output_cost_usd,
        sum(savings_usd) AS savings_usd, min(first_ts) AS first_ts, max(last_ts) AS last_ts
        FROM stats_attribution_day WHERE start >= $1 GROUP BY dim, id`, values: [Math.floor(since / DAY_MS) * DAY_MS] })).rows;
      return rows.map((r) => ({
        dim: r.dim as 'session' | 'user', id: r.id === '' ? null : (r.id as string), requests: Number(r.requests), inputTokens: Number(r.input_tokens),
        outputTokens: Number(r.output_tokens), tokensSaved: Number(r.tokens_saved), inputCostUsd: Number(r.input_cost_usd),
        outputCostUsd: Number(r.output_cost_usd), savingsUsd: Number(r.savings_usd), firstTs: numOrNull(r.first_ts), lastTs: numOrNull(r.last_ts),
      }));
    });
  }

  /**
   * Changes with every batch this instance wrote and, as of the last `flush()`, with every
   * event any instance committed (the newest event id), so views derived from the shared
   * tables are rebuilt when another instance wrote.
   */
  version(): string {
    return `${this.commits}:${this.seen}`;
  }

  /** Raw event count (tests). */
  async eventCount(): Promise<number> {
    return this.db.run(LABEL, async (q) => (await q.query<{ n: number }>('SELECT count(*)::int AS n FROM stats_events')).rows[0]?.n ?? 0);
  }

  health(): StoreHealth {
    return {
      backend: this.backend,
      path: this.location,
      ok: this.lastError === null,
      pending: this.pending.length,
      lastFlushAt: this.lastFlushAt,
      lastError: this.lastError === null ? null : `stats store (Postgres) unavailable; ${this.pending.length} events kept in memory and retried: ${this.lastError}`,
      dropped: this.dropped,
      movedAside: null,
      importedFrom: null,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.writing) await this.writing;
    this.lastError = null;
    await this.drain();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.length > 0) this.log.error({ pending: this.pending.length, err: this.lastError }, 'stats store closed with unwritten events');
  }
}
