/**
 * The SDK's local metrics: one row per compressed call (wrapped client call or `compress()`),
 * in SQLite (`<workspace>/sdk_metrics.sqlite`, or `:memory:`). Rows are queued and written in
 * one transaction a moment later, off the caller's path; reads flush first, and the queue is
 * flushed when the process exits. A failed write keeps its rows and is retried. A corrupt
 * file is moved aside; a file that cannot be opened (permissions, full disk) is kept: rows go
 * to an in-memory copy meanwhile and are written to the file once it opens
 * (`src/storage/sqlite-file.ts`).
 */
import Database from 'better-sqlite3';
import { describeError } from '../storage/sqlite-errors.js';
import { readSnapshot, SqliteFile } from '../storage/sqlite-file.js';
import { silentLogger } from '../storage/logger.js';
import { roundTo } from '../util/round.js';

type Db = InstanceType<typeof Database>;

/** One recorded call, as `getMetrics()` returns it (snake_case, like Headroom's SDK metrics). */
export interface SdkRequestMetric {
  /** ISO 8601 time the call started. */
  timestamp: string;
  provider: string;
  /** `messages`, `chat`, `responses`, or `compress` for direct `compress()` calls. */
  api: string;
  model: string | null;
  /** `optimize` (compressed messages sent) or `audit` (measured, originals sent). */
  mode: string;
  stream: boolean;
  tokens_input_before: number;
  tokens_input_after: number;
  tokens_saved: number;
  tokens_output: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  /** tokens_input_after / tokens_input_before (1 when nothing was counted). */
  compression_ratio: number;
  transforms_applied: string[];
  /** What the call cost at the provider's list price (null: no usage seen, e.g. a failed call). */
  cost_usd: number | null;
  /** What the saved input tokens would have cost. */
  cost_saved_usd: number;
  duration_ms: number;
  error: string | null;
}

export interface MetricsQuery {
  startTime?: Date | number | string;
  endTime?: Date | number | string;
  model?: string;
  limit?: number;
}

export interface MetricsSummary {
  total_requests: number;
  total_tokens_before: number;
  total_tokens_after: number;
  total_tokens_saved: number;
  total_output_tokens: number;
  /** Mean of the per-call compression ratios (after / before). */
  avg_compression_ratio: number;
  /** Saved / before over all calls. */
  savings_percent: number;
  total_cost_usd: number;
  total_cost_saved_usd: number;
  cache_hits: number;
  errors: number;
  first_request_at: string | null;
  last_request_at: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS sdk_requests (
  id INTEGER PRIMARY KEY,
  ts INTEGER NOT NULL,
  provider TEXT NOT NULL,
  api TEXT NOT NULL,
  model TEXT,
  mode TEXT NOT NULL,
  stream INTEGER NOT NULL,
  tokens_before INTEGER NOT NULL,
  tokens_after INTEGER NOT NULL,
  tokens_saved INTEGER NOT NULL,
  tokens_output INTEGER NOT NULL,
  cache_read INTEGER NOT NULL,
  cache_write INTEGER NOT NULL,
  ratio REAL NOT NULL,
  transforms TEXT NOT NULL,
  cost_usd REAL,
  cost_saved_usd REAL NOT NULL,
  duration_ms REAL NOT NULL,
  error TEXT
);
CREATE INDEX IF NOT EXISTS sdk_requests_ts ON sdk_requests (ts);
`;

const FLUSH_DELAY_MS = 200;
const RETRY_DELAY_MS = 2_000;
/** Rows kept while they cannot be written (oldest dropped beyond it). */
const MAX_QUEUED = 100_000;

const INSERT_SQL = `INSERT INTO sdk_requests (ts, provider, api, model, mode, stream, tokens_before, tokens_after, tokens_saved,
  tokens_output, cache_read, cache_write, ratio, transforms, cost_usd, cost_saved_usd, duration_ms, error)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

function insertRows(db: Db, rows: readonly SdkRequestMetric[]): void {
  const insert = db.prepare(INSERT_SQL);
  db.transaction(() => {
    for (const m of rows) {
      insert.run(Date.parse(m.timestamp), m.provider, m.api, m.model, m.mode, m.stream ? 1 : 0, m.tokens_input_before, m.tokens_input_after,
        m.tokens_saved, m.tokens_output, m.cache_read_tokens, m.cache_write_tokens, m.compression_ratio, JSON.stringify(m.transforms_applied),
        m.cost_usd, m.cost_saved_usd, m.duration_ms, m.error);
    }
  })();
}

/** Open stores, flushed by one exit handler (not one listener per store). */
const openStores = new Set<SdkMetricsStore>();
let exitHook = false;
function flushAllOnExit(store: SdkMetricsStore): void {
  openStores.add(store);
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const s of openStores) s.flush();
  });
}

function toMs(v: Date | number | string | undefined, name: string): number | null {
  if (v === undefined) return null;
  const ms = v instanceof Date ? v.getTime() : typeof v === 'number' ? v : Date.parse(v);
  if (!Number.isFinite(ms)) throw new TypeError(`${name} must be a Date, epoch milliseconds or an ISO 8601 string`);
  return ms;
}

type Row = [number, string, string, string | null, string, number, number, number, number, number, number, number, number, string, number | null, number, number, string | null];

export class SdkMetricsStore {
  private db: Db;
  private readonly file: SqliteFile | null = null;
  private queue: SdkRequestMetric[] = [];
  /** Rows written to the in-memory copy while the file cannot be opened, to be written to it. */
  private forFile: SdkRequestMetric[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** Last write failure (reported by validateSetup), null when writes succeed. */
  lastError: string | null = null;
  /** Rows given up because they could not be written for too long. */
  dropped = 0;

  constructor(readonly path: string) {
    if (path === ':memory:') {
      this.db = new Database(path);
      this.db.exec(SCHEMA);
    } else {
      let opened: Db | null = null;
      this.file = new SqliteFile({ path, label: 'SDK metrics store', busyTimeoutMs: 5000, init: (db) => db.exec(SCHEMA) }, silentLogger(), {
        onOpen: (db, late) => {
          if (late) this.attach(db);
          else opened = db;
        },
      });
      if (this.file.open() && opened) this.db = opened;
      else {
        this.db = readSnapshot(path) ?? new Database(':memory:');
        this.db.exec(SCHEMA);
      }
    }
    flushAllOnExit(this);
  }

  /** Why the configured file is not in use (rows then live in memory until it opens), or null. */
  get openError(): string | null {
    const f = this.file?.health();
    return f && !f.open ? (f.reason ?? 'not open yet') : null;
  }

  private get waitingForFile(): boolean {
    return this.file !== null && !this.file.isOpen;
  }

  private attach(db: Db): void {
    this.flush();
    if (this.forFile.length) insertRows(db, this.forFile);
    this.forFile = [];
    const memory = this.db;
    this.db = db;
    memory.close();
  }

  add(m: SdkRequestMetric): void {
    this.queue.push(m);
    if (this.queue.length > MAX_QUEUED) {
      this.queue.shift();
      this.dropped++;
    }
    this.schedule(FLUSH_DELAY_MS);
  }

  private schedule(ms: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, ms);
    this.timer.unref();
  }

  /** Writes queued rows now; a failure keeps them for the next attempt. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.queue.length || !this.db.open) return;
    const rows = this.queue;
    this.queue = [];
    try {
      insertRows(this.db, rows);
      this.lastError = null;
      if (this.waitingForFile) {
        this.forFile.push(...rows);
        if (this.forFile.length > MAX_QUEUED) {
          this.dropped += this.forFile.length - MAX_QUEUED;
          this.forFile = this.forFile.slice(-MAX_QUEUED);
        }
      }
    } catch (err) {
      this.lastError = describeError(err);
      this.queue = rows.concat(this.queue);
      if (this.queue.length > MAX_QUEUED) {
        this.dropped += this.queue.length - MAX_QUEUED;
        this.queue = this.queue.slice(-MAX_QUEUED);
      }
      this.schedule(RETRY_DELAY_MS);
    }
  }

  /** Stored calls, newest first, filtered by time range and model. */
  query(q: MetricsQuery = {}): SdkRequestMetric[] {
    this.flush();
    const where: string[] = [];
    const args: (string | number)[] = [];
    const start = toMs(q.startTime, 'startTime');
    const end = toMs(q.endTime, 'endTime');
    if (start !== null) (where.push('ts >= ?'), args.push(start));
    if (end !== null) (where.push('ts <= ?'), args.push(end));
    if (q.model !== undefined) (where.push('model = ?'), args.push(q.model));
    const limit = q.limit === undefined ? 1000 : q.limit;
    if (!Number.isInteger(limit) || limit < 1) throw new TypeError('limit must be a positive integer');
    const sql = `SELECT ts, provider, api, model, mode, stream, tokens_before, tokens_after, tokens_saved, tokens_output, cache_read, cache_write,
      ratio, transforms, cost_usd, cost_saved_usd, duration_ms, error FROM sdk_requests
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ts DESC, id DESC LIMIT ?`;
    const rows = this.db.prepare(sql).raw(true).all(...args, limit) as Row[];
    return rows.map((r) => ({
      timestamp: new Date(r[0]).toISOString(), provider: r[1], api: r[2], model: r[3], mode: r[4], stream: r[5] === 1,
      tokens_input_before: r[6], tokens_input_after: r[7], tokens_saved: r[8], tokens_output: r[9], cache_read_tokens: r[10],
      cache_write_tokens: r[11], compression_ratio: r[12], transforms_applied: JSON.parse(r[13]) as string[], cost_usd: r[14],
      cost_saved_usd: r[15], duration_ms: r[16], error: r[17],
    }));
  }

  /** Totals over every stored call. */
  summary(): MetricsSummary {
    this.flush();
    const r = this.db.prepare(`SELECT count(*), coalesce(sum(tokens_before), 0), coalesce(sum(tokens_after), 0), coalesce(sum(tokens_saved), 0),
      coalesce(sum(tokens_output), 0), coalesce(avg(ratio), 1), coalesce(sum(cost_usd), 0), coalesce(sum(cost_saved_usd), 0),
      coalesce(sum(cache_read > 0), 0), coalesce(sum(error IS NOT NULL), 0), min(ts), max(ts) FROM sdk_requests`).raw(true).get() as
      [number, number, number, number, number, number, number, number, number, number, number | null, number | null];
    return {
      total_requests: r[0],
      total_tokens_before: r[1],
      total_tokens_after: r[2],
      total_tokens_saved: r[3],
      total_output_tokens: r[4],
      avg_compression_ratio: roundTo(r[5], 4),
      savings_percent: r[1] > 0 ? roundTo((r[3] / r[1]) * 100, 2) : 0,
      total_cost_usd: roundTo(r[6], 8),
      total_cost_saved_usd: roundTo(r[7], 8),
      cache_hits: r[8],
      errors: r[9],
      first_request_at: r[10] === null ? null : new Date(r[10]).toISOString(),
      last_request_at: r[11] === null ? null : new Date(r[11]).toISOString(),
    };
  }

  /** Whether the store can be written (a real write, rolled back). */
  probeWrite(): string | null {
    try {
      this.db.transaction(() => {
        this.db.prepare('CREATE TABLE IF NOT EXISTS sdk_probe (x INTEGER)').run();
        throw new Error('rollback');
      })();
    } catch (err) {
      if ((err as Error).message !== 'rollback') return (err as Error).message;
    }
    return this.lastError;
  }

  close(): void {
    this.flush();
    openStores.delete(this);
    this.file?.close(false);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.db.open) this.db.close();
  }
}
