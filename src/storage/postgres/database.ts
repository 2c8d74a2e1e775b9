/**
 * One way for every durable store to use a shared Postgres database (`--database-url`): one
 * `pg` pool per process, shared by the stores, with deadlines everywhere so that no request
 * ever hangs on a dead or slow database:
 *
 * - `connectionTimeoutMillis`: opening a connection, and waiting for a free one in the pool;
 * - `statement_timeout` (server side) and `query_timeout` (client side, for a server that no
 *   longer answers at all): one statement;
 * - `idle_in_transaction_session_timeout`: a transaction left open by a process that died.
 *
 * Every failure is counted (`failures`, for the metrics) and remembered per store (`health`),
 * so `/health` and `/readyz` can name the store that is degraded; a later success clears it.
 */
import { writeFileSync } from 'node:fs';
import pg from 'pg';
import type { Logger } from '../logger.js';

export interface PgOptions {
  url: string;
  statementTimeoutMs: number;
  connectTimeoutMs: number;
  poolSize: number;
  /** `application_name` of the connections (shows in `pg_stat_activity`). */
  applicationName?: string;
}

export interface PgStoreHealth {
  /** The last operation of this store succeeded (or none failed yet). */
  ok: boolean;
  lastError: string | null;
  /** Epoch ms of the first failure of the current outage (null when ok). */
  failingSince: number | null;
  failures: number;
}

/** What a query runs on: the pool, or one client inside a transaction. */
export type Queryable = Pick<pg.PoolClient, 'query'>;

/** The URL without its password, for logs and health. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://<invalid>';
  }
}

const INT8 = 20;
const NUMERIC = 1700;

/** BIGINT and NUMERIC (what `sum()` of integers returns) as JS numbers: every figure we store fits a double. */
const numbersAsNumbers = ((oid: number, format?: 'text' | 'binary') =>
  oid === INT8 || oid === NUMERIC ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser;

export class PgDatabase {
  readonly pool: pg.Pool;
  readonly where: string;
  /** Failed operations since start, per store label (the store-failure metric). */
  readonly failures = new Map<string, number>();
  private readonly states = new Map<string, PgStoreHealth>();
  private closed = false;

  constructor(
    readonly opts: PgOptions,
    private readonly log: Logger,
  ) {
    this.where = redactUrl(opts.url);
    this.pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize,
      connectionTimeoutMillis: opts.connectTimeoutMs,
      statement_timeout: opts.statementTimeoutMs,
      query_timeout: opts.statementTimeoutMs + 500,
      idle_in_transaction_session_timeout: Math.max(opts.statementTimeoutMs * 2, 5_000),
      idleTimeoutMillis: 30_000,
      application_name: opts.applicationName ?? 'headroom-ts',
      keepAlive: true,
      types: { getTypeParser: numbersAsNumbers },
    });
    // an idle connection that breaks (server restarted) must not take the process down
    this.pool.on('error', (err) => this.log.warn({ db: this.where, err: err.message }, 'a Postgres connection broke; it is replaced on next use'));
    // a connection that breaks while checked out reports it to its query; the event itself is not fatal
    this.pool.on('connect', (client) => client.on('error', () => undefined));
    const countTo = process.env.HEADROOM_PG_QUERY_LOG;
    if (countTo) countQueries(this.pool, countTo);
  }

  /** Runs `fn` for store `label`, recording its success or failure; rethrows the failure. */
  async run<T>(label: string, fn: (q: Queryable) => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('database closed');
    try {
      const out = await fn(this.pool);
      this.ok(label);
      return out;
    } catch (err) {
      this.fail(label, err);
      throw err;
    }
  }

  /** Runs `fn` in one transaction (`BEGIN` .. `COMMIT`, rolled back when it throws). */
  async tx<T>(label: string, fn: (q: Queryable) => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('database closed');
    let client: pg.PoolClient | null = null;
    try {
      client = await this.pool.connect();
      await client.query('BEGIN');
      try {
        const out = await fn(client);
        await client.query('COMMIT');
        this.ok(label);
        return out;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    } catch (err) {
      this.fail(label, err);
      // a connection that timed out may be in any state: drop it rather than reuse it
      client?.release(err instanceof Error ? err : true);
      client = null;
      throw err;
    } finally {
      client?.release();
    }
  }

  private state(label: string): PgStoreHealth {
    let s = this.states.get(label);
    if (!s) {
      s = { ok: true, lastError: null, failingSince: null, failures: 0 };
      this.states.set(label, s);
    }
    return s;
  }

  private ok(label: string): void {
    const s = this.state(label);
    if (!s.ok) this.log.info({ db: this.where, store: label, unavailable_ms: s.failingSince === null ? null : Date.now() - s.failingSince }, `${label}: Postgres answers again`);
    s.ok = true;
    s.lastError = null;
    s.failingSince = null;
  }

  private fail(label: string, err: unknown): void {
    const s = this.state(label);
    const message = describePgError(err);
    if (s.ok || s.lastError !== message) this.log.warn({ db: this.where, store: label, err: message }, `${label}: Postgres operation failed`);
    s.ok = false;
    s.lastError = message;
    s.failingSince ??= Date.now();
    s.failures++;
    this.failures.set(label, (this.failures.get(label) ?? 0) + 1);
  }

  /** Marks a store failing without a query (e.g. its backlog overflowed). */
  noteFailure(label: string, err: unknown): void {
    this.fail(label, err);
  }

  health(label: string): PgStoreHealth {
    return { ...this.state(label) };
  }

  /** Every store label seen, with its health. */
  all(): Map<string, PgStoreHealth> {
    return new Map([...this.states].map(([k, v]) => [k, { ...v }]));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end().catch(() => undefined);
  }
}

/** A one-line reason: the SQLSTATE (when there is one) and the message. */
export function describePgError(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const message = typeof e?.message === 'string' && e.message ? e.message : String(err);
  return typeof e?.code === 'string' && !message.includes(e.code) ? `${e.code}: ${message}` : message;
}

/**
 * Diagnostics (`HEADROOM_PG_QUERY_LOG=<file>`): counts every statement sent, by its text, and
 * writes the counts to the file when the process exits (what the fleet bench reads to tell
 * round trips per request).
 */
function countQueries(pool: pg.Pool, file: string): void {
  const counts = new Map<string, number>();
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...a: unknown[]) => unknown;
    (client as { query: unknown }).query = (...args: unknown[]) => {
      const a = args[0] as string | { text?: string };
      const text = (typeof a === 'string' ? a : (a?.text ?? '?')).replace(/\s+/g, ' ').slice(0, 90);
      counts.set(text, (counts.get(text) ?? 0) + 1);
      return query(...args);
    };
  });
  const dump = (): void => {
    const total = [...counts.values()].reduce((s, n) => s + n, 0);
    writeFileSync(file, JSON.stringify({ total, statements: Object.fromEntries([...counts].sort((x, y) => y[1] - x[1])) }, null, 1));
  };
  process.on('exit', dump);
  setInterval(dump, 1_000).unref();
}
