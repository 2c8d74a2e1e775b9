/**
 * The shared database of a fleet (`--database-url`): one pool per process, and the schema of
 * each store that uses it, migrated when that store starts (`migrate(schema)`: every
 * capability hands its own component, so this one knows none of them).
 *
 * Start-up never waits on a database that does not answer: a migration is tried once with
 * the connect deadline; when the database is down the proxy starts anyway (the stores buffer
 * their writes, budgets follow `--budget-on-store-failure`) and the migration is retried in
 * the background until it succeeds. A database with a NEWER schema is refused: start-up
 * fails with the reason (`NewerSchemaError`).
 */
import { AsyncResource } from 'node:async_hooks';
import type { Config } from '../../config/index.js';
import type { Logger } from '../../core/logger.js';
import { describePgError, PgDatabase } from '../../storage/postgres/database.js';
import { type ComponentSchema, migrateComponent, NewerSchemaError } from '../../storage/postgres/migrate.js';

export type DatabaseConfig = Pick<Config, 'databaseUrl' | 'databaseStatementTimeoutMs' | 'databaseConnectTimeoutMs' | 'databasePoolSize'>;

export interface SharedDatabase {
  db: PgDatabase | null;
  /** Every component handed to `migrate` is at its latest version (stores may write). */
  readonly migrated: boolean;
  readonly migrationError: string | null;
  /**
   * Brings a store's component up to date. Resolves once tried: when the database does not
   * answer it is retried in the background. Rejects only with `NewerSchemaError`.
   */
  migrate(schema: ComponentSchema): Promise<void>;
}

export function pgDatabase(config: DatabaseConfig, log: Logger): PgDatabase {
  if (!config.databaseUrl) throw new Error('no --database-url');
  return new PgDatabase(
    { url: config.databaseUrl, statementTimeoutMs: config.databaseStatementTimeoutMs, connectTimeoutMs: config.databaseConnectTimeoutMs, poolSize: config.databasePoolSize },
    log,
  );
}

class Shared implements SharedDatabase {
  migrationError: string | null = null;
  private readonly waiting = new Map<string, ComponentSchema>();
  private timer: NodeJS.Timeout | null = null;
  private delay = 500;
  private closed = false;
  private readonly onTimer = AsyncResource.bind(() => void this.retry());

  constructor(
    readonly db: PgDatabase,
    private readonly log: Logger,
  ) {}

  get migrated(): boolean {
    return this.waiting.size === 0;
  }

  async migrate(schema: ComponentSchema): Promise<void> {
    this.waiting.set(schema.component, schema);
    // the database did not answer a moment ago: the background retry takes this one too (start-up does not wait again)
    if (this.migrationError !== null && this.timer !== null) return;
    await this.attempt(schema);
  }

  private async attempt(schema: ComponentSchema): Promise<boolean> {
    try {
      const r = await migrateComponent(this.db, schema);
      this.waiting.delete(schema.component);
      if (this.migrated) this.migrationError = null;
      if (r.applied.length) this.log.info({ component: r.component, from: r.from, to: r.to, db: this.db.where }, 'database schema migrated');
      return true;
    } catch (err) {
      if (err instanceof NewerSchemaError) throw err;
      const message = describePgError(err);
      if (this.migrationError !== message) this.log.error({ db: this.db.where, component: schema.component, err: message }, 'shared database unavailable; serving with buffered writes and retrying its migration');
      this.migrationError = message;
      this.schedule();
      return false;
    }
  }

  private schedule(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(this.onTimer, this.delay);
    this.timer.unref();
    this.delay = Math.min(this.delay * 2, 5_000);
  }

  private async retry(): Promise<void> {
    this.timer = null;
    for (const schema of [...this.waiting.values()]) {
      try {
        if (!(await this.attempt(schema))) return;
      } catch (err) {
        // a newer schema appeared meanwhile (another instance upgraded): stop writing to it
        this.migrationError = (err as Error).message;
        this.log.error({ db: this.db.where, err: this.migrationError }, 'shared database schema is newer than this version; upgrade this instance');
        return;
      }
    }
    this.delay = 500;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.db.close();
  }
}

/** Opens the shared database (null when none is configured); stores migrate their components. */
export function openSharedDatabase(config: DatabaseConfig, log: Logger): (SharedDatabase & { close(): Promise<void> }) | null {
  if (!config.databaseUrl) return null;
  return new Shared(pgDatabase(config, log), log);
}
