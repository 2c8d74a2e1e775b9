/**
 * Opens the budget's SQLite file: `<workspace-dir>/headroom_budget.sqlite` (WAL), its own
 * file so that budget transactions never wait behind the stats store's batch writes.
 * Stateless mode keeps it in memory. A corrupt file (or another program's database) is moved
 * aside (`.corrupt-<time>`) with a warning. A file that cannot be opened for another reason
 * (full disk, permissions, a lock held too long) is kept: the budget decides from an
 * in-memory copy of what the file holds, the `budget` health check reports it degraded,
 * opening is retried in the background, and the spend settled meanwhile is written to the
 * file once it opens (`src/storage/sqlite-file.ts`).
 */
import { join } from 'node:path';
import Database, { type Database as Db } from 'better-sqlite3';
import type { Config } from '../../../config/index.js';
import { readSnapshot, SqliteFile } from '../../../storage/sqlite-file.js';
import type { Logger } from '../../../core/logger.js';
import { APPLICATION_ID, initBudgetSchema } from './ledger.js';

export const BUDGET_FILE = 'headroom_budget.sqlite';

export interface BudgetDb {
  /** The database in use: the file, or an in-memory copy while the file is unavailable. */
  readonly db: Db;
  readonly backend: 'sqlite' | 'memory';
  readonly path: string | null;
  /** Why the configured file cannot be used now (the budget then lives in memory). */
  readonly openError: string | null;
  /** Where a corrupt file was moved at start-up. */
  readonly movedAside: string | null;
  /** The file is not open yet; writes wait for it. */
  readonly waitingForFile: boolean;
  /** Called once with the file's database when it opens after start-up. */
  onAttach: ((db: Db) => void) | null;
  close(): void;
}

function identify(db: Db): string | null {
  const appId = db.pragma('application_id', { simple: true }) as number;
  const tables = db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'").pluck().get() as number;
  return appId !== APPLICATION_ID && tables > 0 ? 'a SQLite database of another program' : null;
}

class BudgetFileDb implements BudgetDb {
  db: Db;
  backend: 'sqlite' | 'memory';
  onAttach: ((db: Db) => void) | null = null;

  constructor(
    db: Db,
    backend: 'sqlite' | 'memory',
    readonly path: string | null,
    private readonly file: SqliteFile | null,
    private readonly fixedError: string | null = null,
  ) {
    this.db = db;
    this.backend = backend;
  }

  get openError(): string | null {
    if (this.fixedError) return this.fixedError;
    return this.waitingForFile ? (this.file?.health().reason ?? 'not open yet') : null;
  }

  get movedAside(): string | null {
    return this.file?.health().movedAside ?? null;
  }

  get waitingForFile(): boolean {
    return this.file !== null && this.backend === 'memory';
  }

  attach(db: Db): void {
    const memory = this.db;
    // the ledger writes what it kept (settled spend, leases) on its next flush; a failure throws and the file is retried
    this.onAttach?.(db);
    this.db = db;
    this.backend = 'sqlite';
    if (memory !== db) memory.close();
  }

  close(): void {
    this.file?.close(false);
    if (this.db.open) this.db.close();
  }
}

export function openBudgetDb(config: Pick<Config, 'workspaceDir' | 'stateless'>, log: Logger): BudgetDb {
  const memory = (): Db => {
    const db = new Database(':memory:');
    initBudgetSchema(db);
    return db;
  };
  if (config.stateless) return new BudgetFileDb(memory(), 'memory', null, null);
  const path = join(config.workspaceDir, BUDGET_FILE);
  let opened: Db | null = null;
  let store: BudgetFileDb | null = null;
  const file = new SqliteFile(
    // requests wait at most 200 ms for another process's budget transaction
    { path, label: 'budget store', busyTimeoutMs: 200, identify, init: initBudgetSchema },
    log,
    {
      onOpen(db, late) {
        if (late && store) store.attach(db);
        else opened = db;
      },
    },
  );
  if (file.open() && opened !== null) {
    store = new BudgetFileDb(opened, 'sqlite', path, file);
    return store;
  }
  // decide from what the file held (read-only copy) rather than from $0 spent
  const copy = readSnapshot(path);
  if (copy) {
    initBudgetSchema(copy);
    log.warn({ path }, 'budget decided from a read-only copy of the budget store until it can be opened');
  }
  store = new BudgetFileDb(copy ?? memory(), 'memory', path, file);
  return store;
}
