/**
 * Opens the budget's SQLite file: `<workspace-dir>/headroom_budget.sqlite` (WAL), its own
 * file so that budget transactions never wait behind the stats store's batch writes.
 * Stateless mode keeps it in memory. A file that is not a usable budget store is moved
 * aside (`.corrupt-<time>`) with a warning; a location that cannot be used at all falls back
 * to memory with an error logged and the `budget` health check degraded.
 */
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import Database, { type Database as Db } from 'better-sqlite3';
import type { Config } from '../../config/index.js';
import type { Logger } from '../../telemetry/logger.js';
import { APPLICATION_ID, initBudgetSchema } from './ledger.js';

export const BUDGET_FILE = 'headroom_budget.sqlite';

export interface BudgetDb {
  db: Db;
  backend: 'sqlite' | 'memory';
  path: string | null;
  /** Why the configured file could not be used (the budget then lives in memory). */
  openError: string | null;
}

function openFile(path: string): Db {
  const db = new Database(path, { timeout: 200 });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // requests wait at most this long for another process's budget transaction
    db.pragma('busy_timeout = 200');
    const appId = db.pragma('application_id', { simple: true }) as number;
    const tables = db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'").pluck().get() as number;
    if (appId !== APPLICATION_ID && tables > 0) throw new Error('a SQLite database of another program');
    db.transaction(() => initBudgetSchema(db)).immediate();
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

export function openBudgetDb(config: Pick<Config, 'workspaceDir' | 'stateless'>, log: Logger): BudgetDb {
  const memory = (openError: string | null): BudgetDb => {
    const db = new Database(':memory:');
    initBudgetSchema(db);
    return { db, backend: 'memory', path: null, openError };
  };
  if (config.stateless) return memory(null);
  const path = join(config.workspaceDir, BUDGET_FILE);
  try {
    mkdirSync(config.workspaceDir, { recursive: true });
    try {
      return { db: openFile(path), backend: 'sqlite', path, openError: null };
    } catch (err) {
      if (!existsSync(path) || /SQLITE_BUSY|locked/i.test((err as Error).message)) throw err;
      const aside = `${path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      renameSync(path, aside);
      for (const suffix of ['-wal', '-shm']) if (existsSync(path + suffix)) renameSync(path + suffix, aside + suffix);
      log.warn({ path, moved_to: aside, reason: (err as Error).message }, 'budget store is unusable; moved aside and starting a fresh one (spend of the current period is lost)');
      return { db: openFile(path), backend: 'sqlite', path, openError: null };
    }
  } catch (err) {
    const message = (err as Error).message;
    log.error({ path, err: message }, 'cannot open the budget store; budget spend is kept in memory only');
    return memory(message);
  }
}
