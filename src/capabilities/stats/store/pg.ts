/**
 * The stats store in a shared Postgres database (`--database-url`): every instance of a fleet
 * writes to the same totals, events and rollups, so `/stats` and `/stats-history` report the
 * same lifetime wherever a request is asked.
 *
 * Writes are buffered exactly as in the SQLite store: `record()` never blocks and never
 * throws; batches are written off the request path within `flushMs`. One batch is one
 * transaction that first locks the lifetime and session rows (`FOR UPDATE`: the instances'
 * batches are serialised, so cumulative checkpoints and totals add up exactly), skips the
 * events whose idempotency key (`uid`) is already stored, then applies the rest.
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
import { type AttributionDrafts, MAX_IDS_PER_DAY, OTHER, type StoredAttribution } from './attribution-table.js';
import { BatchFold, type RollupDraft } from './batch-fold.js';
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

interface Keyed {
  uid: string;
  e: SavingsEvent;
}

type Row = Record<string, number | string | null>;

const totalsOf = (r: Row | undefined): Totals =>
  r
    ? {
        requests: Number(r.requests), tokensSaved: Number(r.tokens_saved), savingsUsd: Number(r.savings_usd), inputTokens: Number(r.input_tokens),
        inputCostUsd: Number(r.input_cost_usd), outputTokens: Number(r.output_tokens), outputCostUsd: Number(r.output_cost_usd),
      }
    : zeroTotals();

const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** `($1, $2, ...), (...)` for `rows` rows of `cols` parameters. */
function placeholders(rows: number, cols: number): string {
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    const p: string[] = [];
    for (let c = 1; c <= cols; c++) p.push(`$${r * cols + c}`);
    out.push(`(${p.join(', ')})`);
  }
  return out.join(', ');
}

const rollupUpsert = (table: string, rows: number) => `INSERT INTO ${table} (start, provider, model, requests, tokens_saved, savings_usd,
  input_tokens, input_cost_usd, output_tokens, output_cost_usd, cum_tokens_saved, cum_savings_usd, cum_input_tokens, cum_input_cost_usd)
  VALUES ${placeholders(rows, 14)}
  ON CONFLICT (start, provider, model) DO UPDATE SET requests = ${table}.requests + excluded.requests,
  tokens_saved = ${table}.tokens_saved + excluded.tokens_saved, savings_usd = ${table}.savings_usd + excluded.savings_usd,
  input_tokens = ${table}.input_tokens + excluded.input_tokens, input_cost_usd = ${table}.input_cost_usd + excluded.input_cost_usd,
  output_tokens = ${table}.output_tokens + excluded.output_tokens, output_cost_usd = ${table}.output_cost_usd + excluded.output_cost_usd,
  cum_tokens_saved = greatest(${table}.cum_tokens_saved, excluded.cum_tokens_saved), cum_savings_usd = greatest(${table}.cum_savings_usd, excluded.cum_savings_usd),
  cum_input_tokens = greatest(${table}.cum_input_tokens, excluded.cum_input_tokens), cum_input_cost_usd = greatest(${table}.cum_input_cost_usd, excluded.cum_input_cost_usd)`;

const rollupParams = (d: RollupDraft) => [
  d.start, d.provider, d.model, d.requests, d.tokensSaved, d.savingsUsd, d.inputTokens, d.inputCostUsd, d.outputTokens, d.outputCostUsd,
  d.cumTokensSaved, d.cumSavingsUsd, d.cumInputTokens, d.cumInputCostUsd,
];

const ATTR_ADD = (t: string) => `requests = ${t}.requests + $4, input_tokens = ${t}.input_tokens + $5, output_tokens = ${t}.output_tokens + $6,
  tokens_saved = ${t}.tokens_saved + $7, input_cost_usd = ${t}.input_cost_usd + $8, output_cost_usd = ${t}.output_cost_usd + $9,
  savings_usd = ${t}.savings_usd + $10, first_ts = least(${t}.first_ts, $11), last_ts = greatest(${t}.last_ts, $12)`;

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
            await this.db.tx(LABEL, (q) => this.applyBatch(q, batch));
          } catch (err) {
            const message = describePgError(err);
            if (this.lastError !== message) this.log.warn({ err: message, pending: this.pending.length }, 'stats store write failed; kept in memory and retried');
            this.lastError = message;
            this.failedAt = Date.now();
            this.retryDelay = Math.min(this.retryDelay * 2, RETRY_MAX_MS);
            return;
          }
          // events recorded meanwhile were appended; the batch is the head
          this.pending.splice(0, batch.length);
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

  private async applyBatch(q: Queryable, batch: Keyed[]): Promise<void> {
    const tot = await q.query<Row>("SELECT * FROM stats_totals WHERE scope IN ('lifetime', 'session') FOR UPDATE");
    const byScope = new Map(tot.rows.map((r) => [r.scope as string, r]));
    const seen = await q.query<{ uid: string }>('SELECT uid FROM stats_events WHERE uid = ANY($1::text[])', [batch.map((k) => k.uid)]);
    const already = new Set(seen.rows.map((r) => r.uid));
    const fresh = batch.filter((k) => !already.has(k.uid)).sort((a, b) => a.e.ts - b.e.ts);
    if (fresh.length === 0) return;

    const sessRow = byScope.get('session');
    const fold = new BatchFold(
      totalsOf(byScope.get('lifetime')),
      { ...totalsOf(sessRow), startedAt: numOrNull(sessRow?.started_at), lastActivityAt: numOrNull(sessRow?.last_activity_at) },
      this.limits.sessionRolloverMs,
    );
    const eventParams: unknown[] = [];
    for (const { uid, e } of fresh) {
      const cum = fold.add(e);
      eventParams.push(
        uid, e.ts, e.kind, e.provider, e.model, e.project, 1, e.inputTokens, e.outputTokens, e.tokensSaved, e.newInputTokens,
        e.cacheReadTokens, e.cacheWriteTokens, e.savingsUsd, e.inputCostUsd, e.outputCostUsd, e.tokensSaved > 0,
        cum.cumTokensSaved, cum.cumSavingsUsd, cum.cumInputTokens, cum.cumInputCostUsd, this.instance,
      );
    }
    await q.query(
      `INSERT INTO stats_events (uid, ts, kind, provider, model, project, requests, input_tokens, output_tokens, tokens_saved,
        new_input_tokens, cache_read_tokens, cache_write_tokens, savings_usd, input_cost_usd, output_cost_usd, checkpoint,
        cum_tokens_saved, cum_savings_usd, cum_input_tokens, cum_input_cost_usd, instance) VALUES ${placeholders(fresh.length, 22)}`,
      eventParams,
    );
    for (const [table, drafts] of [['stats_rollup_hour', fold.hours], ['stats_rollup_day', fold.days]] as const) {
      const rows = [...drafts.values()];
      if (rows.length) await q.query(rollupUpsert(table, rows.length), rows.flatMap(rollupParams));
    }
    for (const [name, p] of fold.projects) {
      await q.query(
        `INSERT INTO stats_projects (name, requests, tokens_saved, savings_usd, input_tokens, input_cost_usd, output_tokens, output_cost_usd, last_activity_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (name) DO UPDATE SET requests = stats_projects.requests + excluded.requests,
         tokens_saved = stats_projects.tokens_saved + excluded.tokens_saved, savings_usd = stats_projects.savings_usd + excluded.savings_usd,
         input_tokens = stats_projects.input_tokens + excluded.input_tokens, input_cost_usd = stats_projects.input_cost_usd + excluded.input_cost_usd,
         output_tokens = stats_projects.output_tokens + excluded.output_tokens, output_cost_usd = stats_projects.output_cost_usd + excluded.output_cost_usd,
         last_activity_at = greatest(coalesce(stats_projects.last_activity_at, 0), coalesce(excluded.last_activity_at, 0))`,
        [name, p.requests, p.tokensSaved, p.savingsUsd, p.inputTokens, p.inputCostUsd, p.outputTokens, p.outputCostUsd, p.lastActivityAt],
      );
    }
    await this.writeAttribution(q, fold.attribution);
    const setTotals = `UPDATE stats_totals SET requests = $2, tokens_saved = $3, savings_usd = $4, input_tokens = $5, input_cost_usd = $6,
      output_tokens = $7, output_cost_usd = $8, started_at = $9, last_activity_at = $10 WHERE scope = $1`;
    const t = (scope: string, x: Totals, startedAt: number | null, lastActivityAt: number | null) =>
      [scope, x.requests, x.tokensSaved, x.savingsUsd, x.inputTokens, x.inputCostUsd, x.outputTokens, x.outputCostUsd, startedAt, lastActivityAt];
    await q.query(setTotals, t('lifetime', fold.life, null, null));
    const session = fold.session;
    await q.query(setTotals, t('session', session, session.startedAt, session.lastActivityAt));
    if (fold.current !== null) await this.capProjects(q, fold.current);
  }

  /** As the SQLite store: a known id is added to; a new one while the day has fewer than MAX_IDS_PER_DAY ids, else `(other)`. */
  private async writeAttribution(q: Queryable, drafts: AttributionDrafts): Promise<void> {
    const counts = new Map<string, number>();
    const T = 'stats_attribution_day';
    const insert = `INSERT INTO ${T} (start, dim, id, requests, input_tokens, output_tokens, tokens_saved, input_cost_usd, output_cost_usd,
      savings_usd, first_ts, last_ts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`;
    for (const d of drafts.values()) {
      const params = (id: string) => [d.start, d.dim, id, d.requests, d.inputTokens, d.outputTokens, d.tokensSaved, d.inputCostUsd, d.outputCostUsd, d.savingsUsd, d.firstTs, d.lastTs];
      const upd = await q.query(`UPDATE ${T} SET ${ATTR_ADD(T)} WHERE start = $1 AND dim = $2 AND id = $3`, params(d.id));
      if ((upd.rowCount ?? 0) > 0) continue;
      let id = d.id;
      if (id !== '' && id !== OTHER) {
        const key = `${d.start}\u0000${d.dim}`;
        let n = counts.get(key);
        if (n === undefined) {
          const r = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${T} WHERE start = $1 AND dim = $2 AND id NOT IN ('', '(other)')`, [d.start, d.dim]);
          n = r.rows[0]?.n ?? 0;
        }
        if (n < MAX_IDS_PER_DAY) counts.set(key, n + 1);
        else {
          counts.set(key, n);
          id = OTHER;
        }
      }
      await q.query(`${insert} ON CONFLICT (start, dim, id) DO UPDATE SET ${ATTR_ADD(T)}`, params(id));
    }
  }

  private async capProjects(q: Queryable, keep: string): Promise<void> {
    await q.query(
      `DELETE FROM stats_projects WHERE name IN (
         SELECT name FROM stats_projects WHERE name <> $1 ORDER BY tokens_saved ASC, coalesce(last_activity_at, 0) ASC
         LIMIT greatest((SELECT count(*) FROM stats_projects) - $2, 0))`,
      [keep, this.limits.maxProjects],
    );
  }

  private async maybePrune(now = Date.now()): Promise<void> {
    if (now - this.lastPruneAt < PRUNE_EVERY_MS) return;
    this.lastPruneAt = now;
    const cutoff = now - this.limits.retentionMs;
    try {
      await this.db.tx(LABEL, async (q) => {
        await q.query('DELETE FROM stats_events WHERE ts < $1', [cutoff]);
        await q.query('DELETE FROM stats_rollup_hour WHERE start < $1', [Math.ceil(cutoff / HOUR_MS) * HOUR_MS]);
        await q.query('DELETE FROM stats_rollup_day WHERE start < $1', [Math.ceil(cutoff / DAY_MS) * DAY_MS]);
        await q.query('DELETE FROM stats_attribution_day WHERE start < $1', [Math.ceil(cutoff / DAY_MS) * DAY_MS]);
      });
    } catch (err) {
      this.log.warn({ err: describePgError(err) }, 'stats store retention prune failed');
    }
  }

  /** Writes what is buffered; resolves (never rejects) once tried. Answers at once while the database is failing. */
  async flush(): Promise<void> {
    if (this.lastError !== null && Date.now() - this.failedAt < this.retryDelay) return;
    if (this.pending.length > 0 || this.writing) await this.drain();
    // what every instance committed so far (readers flush first, then derive views keyed by `version()`)
    this.seen = await this.read('seen', this.seen, async (q) => (await q.query<{ n: number | null }>('SELECT max(id) AS n FROM stats_events')).rows[0]?.n ?? 0);
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
    return this.read('lifetime', zeroTotals(), async (q) => totalsOf((await q.query<Row>("SELECT * FROM stats_totals WHERE scope = 'lifetime'")).rows[0]));
  }

  async session(now = Date.now()): Promise<SessionTotals> {
    const r = await this.read<Row | null>('session', null, async (q) => (await q.query<Row>("SELECT * FROM stats_totals WHERE scope = 'session'")).rows[0] ?? null);
    const last = numOrNull(r?.last_activity_at);
    if (!r || last === null || now - last > this.limits.sessionRolloverMs) return emptySession();
    return { ...totalsOf(r), startedAt: numOrNull(r.started_at), lastActivityAt: last };
  }

  projects(): Promise<Record<string, ProjectTotals>> {
    return this.read('projects', {}, async (q) => {
      const rows = (await q.query<Row>('SELECT * FROM stats_projects ORDER BY tokens_saved DESC, name')).rows;
      const out: Record<string, ProjectTotals> = {};
      for (const r of rows) out[r.name as string] = { ...totalsOf(r), lastActivityAt: numOrNull(r.last_activity_at) };
      return out;
    });
  }

  history(limit: number): Promise<{ points: HistoryPoint[]; stored: number }> {
    const cap = Math.min(limit, this.limits.maxHistoryPoints);
    return this.read(`history:${cap}`, { points: [], stored: 0 }, async (q) => {
      const rows = (await q.query<HistoryPoint>(`SELECT ts, provider, model, cum_tokens_saved AS "cumTokensSaved", cum_savings_usd AS "cumSavingsUsd",
        cum_input_tokens AS "cumInputTokens", cum_input_cost_usd AS "cumInputCostUsd"
        FROM stats_events WHERE checkpoint ORDER BY id DESC LIMIT $1`, [cap])).rows;
      const total = (await q.query<{ n: number }>('SELECT count(*)::int AS n FROM stats_events WHERE checkpoint')).rows[0]?.n ?? 0;
      return { points: rows.reverse(), stored: Math.min(total, this.limits.maxHistoryPoints) };
    });
  }

  rollups(granularity: Granularity, since = 0): Promise<RollupRow[]> {
    const table = granularity === 'hour' ? 'stats_rollup_hour' : 'stats_rollup_day';
    const step = granularity === 'hour' ? HOUR_MS : DAY_MS;
    const start = Math.floor(since / step) * step;
    return this.read(`rollups:${granularity}:${start}`, [], async (q) =>
      (await q.query<RollupRow>(`SELECT start, provider, model, requests, tokens_saved AS "tokensSaved", savings_usd AS "savingsUsd",
        input_tokens AS "inputTokens", input_cost_usd AS "inputCostUsd", output_tokens AS "outputTokens", output_cost_usd AS "outputCostUsd",
        cum_tokens_saved AS "cumTokensSaved", cum_savings_usd AS "cumSavingsUsd", cum_input_tokens AS "cumInputTokens", cum_input_cost_usd AS "cumInputCostUsd"
        FROM ${table} WHERE start >= $1 ORDER BY start, provider COLLATE "C", model COLLATE "C"`, [start])).rows);
  }

  attribution(since = 0): Promise<StoredAttribution[]> {
    return this.read(`attribution:${since}`, [], async (q) => {
      const rows = (await q.query<Row>(`SELECT dim, id, sum(requests) AS requests, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
        sum(tokens_saved) AS tokens_saved, sum(input_cost_usd) AS input_cost_usd, sum(output_cost_usd) AS output_cost_usd,
        sum(savings_usd) AS savings_usd, min(first_ts) AS first_ts, max(last_ts) AS last_ts
        FROM stats_attribution_day WHERE start >= $1 GROUP BY dim, id`, [Math.floor(since / DAY_MS) * DAY_MS])).rows;
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
