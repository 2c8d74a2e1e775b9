/**
 * The SQLite stats store (WAL). Events are buffered in memory and written in one
 * `BEGIN IMMEDIATE` transaction per flush: the transaction reads the lifetime and session
 * rows, applies the batch and writes them back, so several processes sharing one file add
 * up exactly (SQLite serialises the writers; `busy_timeout` makes them wait their turn).
 * Each event row carries the lifetime totals right after it (cumulative checkpoints), and
 * rollup tables keep (UTC hour | UTC day, provider, model) totals maintained in the same
 * transaction, so the chart series never scan raw events.
 */
import { AsyncResource } from 'node:async_hooks';
import type { Database as Db, Statement, Transaction } from 'better-sqlite3';
import type { SqliteFile } from '../../../storage/sqlite-file.js';
import type { Logger } from '../../../core/logger.js';
import type { HeadroomSavings } from './headroom-import.js';
import { type AttributionStatements, attributionStatements, pruneAttribution, readAttribution, type StoredAttribution, writeAttribution } from './attribution-table.js';
import { BatchFold, type Cumulative } from './batch-fold.js';
import { migrate } from './migrations.js';
import {
  emptySession,
  type HistoryPoint,
  type Granularity,
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

/** `PRAGMA application_id` of a headroom-ts stats store ("HDRT"). */
export const APPLICATION_ID = 0x48445254;
export { SCHEMA_VERSION } from './migrations.js';

/** Backlog kept in memory while the store cannot be written (oldest dropped beyond it). */
const MAX_PENDING = 100_000;
/** A batch this large is written at once instead of waiting for the timer. */
const EAGER_BATCH = 2_000;
/**
 * Most events one background transaction writes (about 15 µs each): a larger backlog is written
 * in several transactions with the event loop free in between, so requests never wait behind a
 * long write (a 250 ms window at 500 req/s was one ~2 ms stall).
 */
const CHUNK = 32;
const PRUNE_EVERY_MS = 60 * 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Rollup tables, one per granularity: UTC hours and UTC days (weeks and months are built from days). */
const ROLLUP_TABLES = ['rollup_hour', 'rollup_day'] as const;
const GRANULARITY_MS = { hour: HOUR_MS, day: DAY_MS } as const;

const upsertRollupSql = (table: string) => `INSERT INTO ${table} (start, provider, model, requests, tokens_saved, savings_usd, input_tokens,
  input_cost_usd, output_tokens, output_cost_usd, cum_tokens_saved, cum_savings_usd, cum_input_tokens, cum_input_cost_usd)
  VALUES (@start, @provider, @model, @requests, @tokensSaved, @savingsUsd, @inputTokens, @inputCostUsd, @outputTokens, @outputCostUsd,
  @cumTokensSaved, @cumSavingsUsd, @cumInputTokens, @cumInputCostUsd)
  ON CONFLICT (start, provider, model) DO UPDATE SET requests = requests + excluded.requests,
  tokens_saved = tokens_saved + excluded.tokens_saved, savings_usd = savings_usd + excluded.savings_usd,
  input_tokens = input_tokens + excluded.input_tokens, input_cost_usd = input_cost_usd + excluded.input_cost_usd,
  output_tokens = output_tokens + excluded.output_tokens, output_cost_usd = output_cost_usd + excluded.output_cost_usd,
  cum_tokens_saved = max(cum_tokens_saved, excluded.cum_tokens_saved), cum_savings_usd = max(cum_savings_usd, excluded.cum_savings_usd),
  cum_input_tokens = max(cum_input_tokens, excluded.cum_input_tokens), cum_input_cost_usd = max(cum_input_cost_usd, excluded.cum_input_cost_usd)`;

const SCHEMA = () => `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS totals (
  scope TEXT PRIMARY KEY,
  requests INTEGER NOT NULL DEFAULT 0, tokens_saved INTEGER NOT NULL DEFAULT 0, savings_usd REAL NOT NULL DEFAULT 0,
  input_tokens INTEGER NOT NULL DEFAULT 0, input_cost_usd REAL NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0, output_cost_usd REAL NOT NULL DEFAULT 0,
  started_at INTEGER, last_activity_at INTEGER);
CREATE TABLE IF NOT EXISTS projects (
  name TEXT PRIMARY KEY,
  requests INTEGER NOT NULL DEFAULT 0, tokens_saved INTEGER NOT NULL DEFAULT 0, savings_usd REAL NOT NULL DEFAULT 0,
  input_tokens INTEGER NOT NULL DEFAULT 0, input_cost_usd REAL NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0, output_cost_usd REAL NOT NULL DEFAULT 0,
  last_activity_at INTEGER);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, kind TEXT NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL,
  project TEXT, requests INTEGER NOT NULL,
  input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, tokens_saved INTEGER NOT NULL,
  new_input_tokens INTEGER NOT NULL, cache_read_tokens INTEGER NOT NULL, cache_write_tokens INTEGER NOT NULL,
  savings_usd REAL NOT NULL, input_cost_usd REAL NOT NULL, output_cost_usd REAL NOT NULL,
  checkpoint INTEGER NOT NULL,
  cum_tokens_saved INTEGER NOT NULL, cum_savings_usd REAL NOT NULL, cum_input_tokens INTEGER NOT NULL, cum_input_cost_usd REAL NOT NULL,
  pid INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS events_ts ON events(ts);
CREATE INDEX IF NOT EXISTS events_checkpoint ON events(id) WHERE checkpoint = 1;
${ROLLUP_TABLES.map((t) => `CREATE TABLE IF NOT EXISTS ${t} (
  start INTEGER NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL,
  requests INTEGER NOT NULL, tokens_saved INTEGER NOT NULL, savings_usd REAL NOT NULL,
  input_tokens INTEGER NOT NULL, input_cost_usd REAL NOT NULL, output_tokens INTEGER NOT NULL, output_cost_usd REAL NOT NULL,
  cum_tokens_saved INTEGER NOT NULL, cum_savings_usd REAL NOT NULL, cum_input_tokens INTEGER NOT NULL, cum_input_cost_usd REAL NOT NULL,
  PRIMARY KEY (start, provider, model)) WITHOUT ROWID;`).join('\n')}
INSERT OR IGNORE INTO totals (scope) VALUES ('lifetime'), ('session');
`;

/** Creates the tables of version 1 (idempotent), stamps the file as ours and upgrades it (`migrations.ts`). */
export function initSchema(db: Db): void {
  db.exec(SCHEMA());
  db.pragma(`application_id = ${APPLICATION_ID}`);
  db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '1'), ('created_at', ?)").run(new Date().toISOString());
  migrate(db);
}

interface TotalsRow {
  requests: number;
  tokens_saved: number;
  savings_usd: number;
  input_tokens: number;
  input_cost_usd: number;
  output_tokens: number;
  output_cost_usd: number;
  started_at: number | null;
  last_activity_at: number | null;
}

const totalsOf = (r: TotalsRow | undefined): Totals =>
  r
    ? {
        requests: r.requests,
        tokensSaved: r.tokens_saved,
        savingsUsd: r.savings_usd,
        inputTokens: r.input_tokens,
        inputCostUsd: r.input_cost_usd,
        outputTokens: r.output_tokens,
        outputCostUsd: r.output_cost_usd,
      }
    : zeroTotals();

const isBusy = (err: unknown) => /SQLITE_BUSY|database is locked/i.test((err as { code?: string })?.code ?? (err as Error)?.message ?? '');

export interface SqliteStoreOptions {
  db: Db;
  backend: 'sqlite' | 'memory';
  location: string | null;
  limits: StoreLimits;
  flushMs: number;
  log: Logger;
  movedAside?: string | null;
  /** Why the configured store could not be opened (this one then runs in memory). */
  openError?: string | null;
  /**
   * The configured file while it cannot be opened: `db` is then an in-memory copy, every batch
   * written to it is also kept for the file, and `attachFile` writes them there once it opens.
   */
  file?: SqliteFile | null;
}

type StatementName = 'selTotals' | 'setTotals' | 'insEvent' | 'upHour' | 'upDay' | 'upProject' | 'countProjects' | 'projectsAsc' | 'delProject';

type Statements = Record<StatementName, Statement> & { attribution: AttributionStatements };

function statementsFor(db: Db): Statements {
  return {
    attribution: attributionStatements(db),
    selTotals: db.prepare('SELECT * FROM totals WHERE scope = ?'),
    setTotals: db.prepare(`UPDATE totals SET requests = @requests, tokens_saved = @tokensSaved, savings_usd = @savingsUsd,
      input_tokens = @inputTokens, input_cost_usd = @inputCostUsd, output_tokens = @outputTokens, output_cost_usd = @outputCostUsd,
      started_at = @startedAt, last_activity_at = @lastActivityAt WHERE scope = @scope`),
    insEvent: db.prepare(`INSERT INTO events (ts, kind, provider, model, project, requests, input_tokens, output_tokens, tokens_saved,
      new_input_tokens, cache_read_tokens, cache_write_tokens, savings_usd, input_cost_usd, output_cost_usd, checkpoint,
      cum_tokens_saved, cum_savings_usd, cum_input_tokens, cum_input_cost_usd, pid)
      VALUES (@ts, @kind, @provider, @model, @project, @requests, @inputTokens, @outputTokens, @tokensSaved, @newInputTokens,
      @cacheReadTokens, @cacheWriteTokens, @savingsUsd, @inputCostUsd, @outputCostUsd, @checkpoint,
      @cumTokensSaved, @cumSavingsUsd, @cumInputTokens, @cumInputCostUsd, @pid)`),
    upHour: db.prepare(upsertRollupSql('rollup_hour')),
    upDay: db.prepare(upsertRollupSql('rollup_day')),
    upProject: db.prepare(`INSERT INTO projects (name, requests, tokens_saved, savings_usd, input_tokens, input_cost_usd, output_tokens, output_cost_usd, last_activity_at)
      VALUES (@name, @requests, @tokensSaved, @savingsUsd, @inputTokens, @inputCostUsd, @outputTokens, @outputCostUsd, @lastActivityAt)
      ON CONFLICT (name) DO UPDATE SET requests = requests + excluded.requests, tokens_saved = tokens_saved + excluded.tokens_saved,
      savings_usd = savings_usd + excluded.savings_usd, input_tokens = input_tokens + excluded.input_tokens,
      input_cost_usd = input_cost_usd + excluded.input_cost_usd, output_tokens = output_tokens + excluded.output_tokens,
      output_cost_usd = output_cost_usd + excluded.output_cost_usd,
      last_activity_at = max(coalesce(last_activity_at, 0), coalesce(excluded.last_activity_at, 0))`),
    countProjects: db.prepare('SELECT count(*) AS n FROM projects'),
    projectsAsc: db.prepare('SELECT name FROM projects ORDER BY tokens_saved ASC, coalesce(last_activity_at, 0) ASC'),
    delProject: db.prepare('DELETE FROM projects WHERE name = ?'),
  };
}

export class SqliteStatsStore implements StatsStore {
  backend: string;
  readonly location: string | null;
  readonly limits: StoreLimits;
  private db: Db;
  private readonly log: Logger;
  private readonly flushMs: number;
  private pending: SavingsEvent[] = [];
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private lastFlushAt: number | null = null;
  private lastError: string | null = null;
  private dropped = 0;
  private lastPruneAt = 0;
  /** Transactions this connection committed (with PRAGMA data_version: the store's version). */
  private commits = 0;
  private readonly movedAside: string | null;
  private openError: string | null;
  private readonly file: SqliteFile | null;
  /** Events written to the in-memory copy while the file is unavailable, to be written to the file. */
  private forFile: SavingsEvent[] = [];
  /** The Headroom JSON file this store was seeded from, if any. */
  importedFrom: string | null = null;
  private st: Statements;
  private writeBatch: Transaction<(events: SavingsEvent[]) => void>;
  /** Timer callback bound to the (request-free) context the store was opened in. */
  private readonly onTimer = AsyncResource.bind(() => this.flushChunk());

  constructor(opts: SqliteStoreOptions) {
    this.db = opts.db;
    this.backend = opts.backend;
    this.location = opts.location;
    this.limits = opts.limits;
    this.flushMs = opts.flushMs;
    this.log = opts.log;
    this.movedAside = opts.movedAside ?? null;
    this.openError = opts.openError ?? null;
    this.file = opts.file ?? null;
    this.st = statementsFor(this.db);
    this.writeBatch = this.db.transaction((events: SavingsEvent[]) => this.applyBatch(this.st, events));
  }

  /** Whether batches go to the in-memory copy and wait for the file. */
  private get waitingForFile(): boolean {
    return this.file !== null && this.backend === 'memory';
  }

  /**
   * The file opened after start-up: the events recorded meanwhile are written to it (in
   * transactions of EAGER_BATCH; those committed are not written again if a later one fails),
   * then it replaces the in-memory copy. Throws when the file cannot take them (retried later).
   */
  attachFile(db: Db): void {
    this.flushNow();
    const st = statementsFor(db);
    const write = db.transaction((events: SavingsEvent[]) => this.applyBatch(st, events));
    while (this.forFile.length > 0) {
      const chunk = this.forFile.slice(0, EAGER_BATCH);
      write.immediate(chunk);
      this.forFile = this.forFile.slice(chunk.length);
    }
    const memory = this.db;
    this.db = db;
    this.st = st;
    this.writeBatch = db.transaction((events: SavingsEvent[]) => this.applyBatch(st, events));
    this.backend = 'sqlite';
    this.openError = null;
    this.commits++;
    memory.close();
  }

  record(event: SavingsEvent): void {
    if (this.closed) return;
    this.pending.push(event);
    if (this.pending.length > MAX_PENDING) {
      this.pending.shift();
      this.dropped++;
    }
    if (this.pending.length >= EAGER_BATCH) setImmediate(this.onTimer);
    else if (!this.timer) {
      this.timer = setTimeout(this.onTimer, this.flushMs);
      this.timer.unref();
    }
  }

  /** Writes the backlog now (synchronously). Keeps it for the next attempt when the write fails. */
  flushNow(): void {
    this.write(this.pending.length);
  }

  /** Background flush: one transaction of at most CHUNK events, the rest after the event loop had a turn. */
  private flushChunk(): void {
    this.write(CHUNK);
    if (this.pending.length > 0 && !this.timer && !this.closed && this.lastError === null) setImmediate(this.onTimer);
  }

  private write(max: number): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.pending.length === 0 || !this.db.open) return;
    const batch = max >= this.pending.length ? this.pending : this.pending.slice(0, max);
    this.pending = max >= this.pending.length ? [] : this.pending.slice(max);
    try {
      this.writeBatch.immediate(batch);
      this.commits++;
      this.lastFlushAt = Date.now();
      this.lastError = null;
      if (this.waitingForFile) {
        this.forFile.push(...batch);
        if (this.forFile.length > MAX_PENDING) {
          this.dropped += this.forFile.length - MAX_PENDING;
          this.forFile = this.forFile.slice(-MAX_PENDING);
        }
      }
    } catch (err) {
      this.pending = batch.concat(this.pending);
      const message = (err as Error).message;
      if (this.lastError !== message) this.log.warn({ err: message, pending: this.pending.length, busy: isBusy(err) }, 'stats store write failed; will retry');
      this.lastError = message;
      if (!this.closed && !this.timer) {
        this.timer = setTimeout(this.onTimer, Math.max(this.flushMs, 1000));
        this.timer.unref();
      }
      return;
    }
    this.maybePrune();
  }

  private applyBatch(st: Statements, events: SavingsEvent[]): void {
    const sorted = events.length > 1 ? [...events].sort((a, b) => a.ts - b.ts) : events;
    const sessRow = st.selTotals.get('session') as TotalsRow | undefined;
    const fold = new BatchFold(
      totalsOf(st.selTotals.get('lifetime') as TotalsRow | undefined),
      { ...totalsOf(sessRow), startedAt: sessRow?.started_at ?? null, lastActivityAt: sessRow?.last_activity_at ?? null },
      this.limits.sessionRolloverMs,
    );
    const pid = process.pid;
    for (const e of sorted) {
      const cum: Cumulative = fold.add(e);
      // one literal, no spreads: this runs once per request
      st.insEvent.run({
        ts: e.ts, kind: e.kind, provider: e.provider, model: e.model, project: e.project, requests: 1,
        inputTokens: e.inputTokens, outputTokens: e.outputTokens, tokensSaved: e.tokensSaved, newInputTokens: e.newInputTokens,
        cacheReadTokens: e.cacheReadTokens, cacheWriteTokens: e.cacheWriteTokens, savingsUsd: e.savingsUsd,
        inputCostUsd: e.inputCostUsd, outputCostUsd: e.outputCostUsd, checkpoint: e.tokensSaved > 0 ? 1 : 0,
        cumTokensSaved: cum.cumTokensSaved, cumSavingsUsd: cum.cumSavingsUsd, cumInputTokens: cum.cumInputTokens, cumInputCostUsd: cum.cumInputCostUsd, pid,
      });
    }
    for (const d of fold.hours.values()) st.upHour.run(d);
    for (const d of fold.days.values()) st.upDay.run(d);
    for (const [name, p] of fold.projects) st.upProject.run({ ...p, name });
    writeAttribution(st.attribution, fold.attribution);
    st.setTotals.run({ ...fold.life, startedAt: null, lastActivityAt: null, scope: 'lifetime' });
    st.setTotals.run({ ...fold.session, scope: 'session' });
    if (fold.current !== null) this.capProjects(st, fold.current);
  }

  private upsertRollups(row: { ts: number } & Record<string, unknown>): void {
    this.st.upHour.run({ ...row, start: Math.floor(row.ts / HOUR_MS) * HOUR_MS });
    this.st.upDay.run({ ...row, start: Math.floor(row.ts / DAY_MS) * DAY_MS });
  }

  /** Evicts the smallest projects (tokens saved, then last activity) beyond the cap, never `keep`. */
  private capProjects(st: Statements, keep: string): void {
    let excess = (st.countProjects.get() as { n: number }).n - this.limits.maxProjects;
    if (excess <= 0) return;
    for (const { name } of st.projectsAsc.all() as { name: string }[]) {
      if (excess <= 0) break;
      if (name === keep) continue;
      st.delProject.run(name);
      excess--;
    }
  }

  private maybePrune(now = Date.now()): void {
    if (now - this.lastPruneAt < PRUNE_EVERY_MS) return;
    this.lastPruneAt = now;
    this.prune(now);
  }

  /** Drops events and rollup rows older than the retention window (whole hours and days only). */
  prune(now = Date.now()): void {
    const cutoff = now - this.limits.retentionMs;
    try {
      this.commits++;
      this.db.prepare('DELETE FROM events WHERE ts < ?').run(cutoff);
      this.db.prepare('DELETE FROM rollup_hour WHERE start < ?').run(Math.ceil(cutoff / HOUR_MS) * HOUR_MS);
      this.db.prepare('DELETE FROM rollup_day WHERE start < ?').run(Math.ceil(cutoff / DAY_MS) * DAY_MS);
      pruneAttribution(this.db, cutoff);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'stats store retention prune failed');
    }
  }

  /** Loads a Headroom proxy_savings.json into an empty store (once; recorded in meta). */
  importHeadroom(data: HeadroomSavings, source: string): boolean {
    const run = this.db.transaction(() => {
      if (this.db.prepare("SELECT 1 FROM meta WHERE key = 'headroom_import'").get()) return false;
      const cutoff = Date.now() - this.limits.retentionMs;
      let prev: HistoryPoint | null = null;
      for (const p of data.history) {
        // The first point is a baseline: its totals include whatever preceded the retained
        // history, so it is not attributed to any bucket.
        const d = (a: number, b: number) => (prev ? Math.max(a - b, 0) : 0);
        const delta = {
          tokensSaved: d(p.cumTokensSaved, prev?.cumTokensSaved ?? 0),
          savingsUsd: d(p.cumSavingsUsd, prev?.cumSavingsUsd ?? 0),
          inputTokens: d(p.cumInputTokens, prev?.cumInputTokens ?? 0),
          inputCostUsd: d(p.cumInputCostUsd, prev?.cumInputCostUsd ?? 0),
        };
        prev = p;
        if (p.ts < cutoff) continue;
        const row = {
          ts: p.ts, kind: 'import', provider: p.provider, model: p.model, project: null, requests: 0,
          ...delta, outputTokens: 0, outputCostUsd: 0, newInputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, checkpoint: 1,
          cumTokensSaved: p.cumTokensSaved, cumSavingsUsd: p.cumSavingsUsd, cumInputTokens: p.cumInputTokens, cumInputCostUsd: p.cumInputCostUsd,
          pid: process.pid,
        };
        this.st.insEvent.run(row);
        this.upsertRollups(row);
      }
      const life = totalsOf(this.st.selTotals.get('lifetime') as TotalsRow | undefined);
      const l = data.lifetime;
      this.st.setTotals.run({
        requests: life.requests + l.requests, tokensSaved: life.tokensSaved + l.tokensSaved, savingsUsd: life.savingsUsd + l.savingsUsd,
        inputTokens: life.inputTokens + l.inputTokens, inputCostUsd: life.inputCostUsd + l.inputCostUsd,
        outputTokens: life.outputTokens, outputCostUsd: life.outputCostUsd, startedAt: null, lastActivityAt: null, scope: 'lifetime',
      });
      if (data.session.startedAt !== null) this.st.setTotals.run({ ...data.session, scope: 'session' });
      for (const [name, p] of Object.entries(data.projects)) {
        this.st.upProject.run({ ...p, name, lastActivityAt: p.lastActivityAt });
      }
      this.db.prepare("INSERT INTO meta (key, value) VALUES ('headroom_import', ?)").run(
        JSON.stringify({ source, at: new Date().toISOString(), schema_version: data.schemaVersion, history_points: data.history.length }),
      );
      return true;
    });
    const done = run.immediate() as boolean;
    this.commits++;
    if (done) this.importedFrom = source;
    return done;
  }

  async flush(): Promise<void> {
    this.flushNow();
  }

  async lifetime(): Promise<Totals> {
    return totalsOf(this.st.selTotals.get('lifetime') as TotalsRow | undefined);
  }

  async session(now = Date.now()): Promise<SessionTotals> {
    const r = this.st.selTotals.get('session') as TotalsRow | undefined;
    if (!r || r.last_activity_at === null || now - r.last_activity_at > this.limits.sessionRolloverMs) return emptySession();
    return { ...totalsOf(r), startedAt: r.started_at, lastActivityAt: r.last_activity_at };
  }

  async projects(): Promise<Record<string, ProjectTotals>> {
    const rows = this.db.prepare('SELECT * FROM projects ORDER BY tokens_saved DESC, name').all() as (TotalsRow & { name: string })[];
    const out: Record<string, ProjectTotals> = {};
    for (const r of rows) out[r.name] = { ...totalsOf(r), lastActivityAt: r.last_activity_at };
    return out;
  }

  async history(limit: number): Promise<{ points: HistoryPoint[]; stored: number }> {
    const cap = Math.min(limit, this.limits.maxHistoryPoints);
    const rows = this.db
      .prepare(`SELECT ts, provider, model, cum_tokens_saved AS cumTokensSaved, cum_savings_usd AS cumSavingsUsd,
        cum_input_tokens AS cumInputTokens, cum_input_cost_usd AS cumInputCostUsd
        FROM events WHERE checkpoint = 1 ORDER BY id DESC LIMIT ?`)
      .all(cap) as HistoryPoint[];
    const total = (this.db.prepare('SELECT count(*) AS n FROM events WHERE checkpoint = 1').get() as { n: number }).n;
    return { points: rows.reverse(), stored: Math.min(total, this.limits.maxHistoryPoints) };
  }

  async rollups(granularity: Granularity, since = 0): Promise<RollupRow[]> {
    const table = granularity === 'hour' ? 'rollup_hour' : 'rollup_day';
    const start = Math.floor(since / GRANULARITY_MS[granularity]) * GRANULARITY_MS[granularity];
    // raw arrays: about twice as fast as row objects for the thousands of rows a year holds
    const rows = this.db
      .prepare(`SELECT start, provider, model, requests, tokens_saved, savings_usd, input_tokens, input_cost_usd, output_tokens,
        output_cost_usd, cum_tokens_saved, cum_savings_usd, cum_input_tokens, cum_input_cost_usd
        FROM ${table} WHERE start >= ? ORDER BY start, provider, model`)
      .raw(true)
      .all(start) as [number, string, string, number, number, number, number, number, number, number, number, number, number, number][];
    return rows.map((r) => ({
      start: r[0], provider: r[1], model: r[2], requests: r[3], tokensSaved: r[4], savingsUsd: r[5], inputTokens: r[6],
      inputCostUsd: r[7], outputTokens: r[8], outputCostUsd: r[9], cumTokensSaved: r[10], cumSavingsUsd: r[11],
      cumInputTokens: r[12], cumInputCostUsd: r[13],
    }));
  }

  async attribution(since = 0): Promise<StoredAttribution[]> {
    return readAttribution(this.db, since);
  }

  version(): string {
    const others = this.db.open ? (this.db.pragma('data_version', { simple: true }) as number) : -1;
    return `${others}:${this.commits}`;
  }

  /** Raw event count (tests, benchmarks). */
  eventCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
  }

  health(): StoreHealth {
    const f = this.file?.health() ?? null;
    const unavailable = this.waitingForFile ? (f?.reason ?? this.openError ?? 'not open yet') : this.openError;
    return {
      backend: this.backend,
      path: this.location,
      ok: this.db.open && this.lastError === null && unavailable === null,
      pending: this.pending.length + this.forFile.length,
      lastFlushAt: this.lastFlushAt,
      lastError:
        this.lastError ??
        (unavailable === null
          ? null
          : `stats store could not be opened (stats kept in memory only${this.waitingForFile ? '; the file is kept and opening it is retried' : ''}): ${unavailable}`),
      dropped: this.dropped,
      movedAside: f?.movedAside ?? this.movedAside,
      importedFrom: this.importedFrom,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flushNow();
    this.closed = true;
    this.file?.close(false);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const unwritten = this.pending.length + this.forFile.length;
    if (unwritten > 0) this.log.error({ pending: unwritten, err: this.lastError ?? this.file?.health().reason }, 'stats store closed with unwritten events');
    try {
      if (this.backend === 'sqlite') this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // another process may hold the database; its own checkpoint will run
    }
    this.db.close();
  }
}
