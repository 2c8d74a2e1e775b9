/**
 * The shared database of a fleet (`--database-url`): one pool per process, its schema
 * migrated at start (every store's component, `schemas.ts`), and its state for health.
 *
 * Start-up never waits on a database that does not answer: the migration is tried once with
 * the connect deadline; when the database is down the proxy starts anyway (the stores buffer
 * their writes, budgets follow `--budget-on-store-failure`) and the migration is retried in
 * the background until it succeeds. A database with a NEWER schema is refused: start-up
 * fails with the reason (`NewerSchemaError`).
 */
import { AsyncResource } from 'node:async_hooks';
import type { Config } from '../../config/index.js';
import type { Logger } from '../../core/logger.js';
import { describePgError, PgDatabase } from '../../storage/postgres/database.js';
import { type MigrationReport, migrateAll, NewerSchemaError } from '../../storage/postgres/migrate.js';
import { ALL_SCHEMAS } from './schemas.js';

export type DatabaseConfig = Pick<Config, 'databaseUrl' | 'databaseStatementTimeoutMs' | 'databaseConnectTimeoutMs' | 'databasePoolSize'>;

export interface SharedDatabase {
  db: PgDatabase | null;
  /** The schema is migrated (stores may write). */
  readonly migrated: boolean;
  readonly migrationError: string | null;
}

export function pgDatabase(config: DatabaseConfig, log: Logger): PgDatabase {
  if (!config.databaseUrl) throw new Error('no --database-url');
  return new PgDatabase(
    { url: config.databaseUrl, statementTimeoutMs: config.databaseStatementTimeoutMs, connectTimeoutMs: config.databaseConnectTimeoutMs, poolSize: config.databasePoolSize },
    log,
  );
}

class Shared implements SharedDatabase {
  migrated = false;
  migrationError: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private delay = 500;
  private closed = false;
  private readonly onTimer = AsyncResource.bind(() => void this.migrate());

  constructor(
    readonly db: PgDatabase,
    private readonly log: Logger,
  ) {}

  /** One attempt; a newer schema throws, any other failure schedules a retry. */
  async migrate(): Promise<MigrationReport[] | null> {
    this.timer = null;
    if (this.closed) return null;
    try {
      const reports = await migrateAll(this.db, ALL_SCHEMAS);
      this.migrated = true;
      this.migrationError = null;
      for (const r of reports) {
        if (r.applied.length) this.log.info({ component: r.component, from: r.from, to: r.to, db: this.db.where }, 'database schema migrated');
      }
      return reports;
    } catch (err) {
      if (err instanceof NewerSchemaError) throw err;
      const message = describePgError(err);
      if (this.migrationError !== message) this.log.error({ db: this.db.where, err: message }, 'shared database unavailable at start; serving with buffered writes and retrying');
      this.migrationError = message;
      if (!this.closed) {
        this.timer = setTimeout(this.onTimer, this.delay);
        this.timer.unref();
        this.delay = Math.min(this.delay * 2, 5_000);
      }
      return null;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.db.close();
  }
}

/** Opens and migrates the shared database (null when none is configured). */
export async function openSharedDatabase(config: DatabaseConfig, log: Logger): Promise<(SharedDatabase & { close(): Promise<void> }) | null> {
  if (!config.databaseUrl) return null;
  const shared = new Shared(pgDatabase(config, log), log);
  await shared.migrate();
  return shared;
}
