/**
 * Opens the stats store the configuration asks for:
 * - location: `--savings-path` / `HEADROOM_SAVINGS_PATH`, else
 *   `<workspace-dir>/headroom_stats.sqlite`. A `.json` path is Headroom's legacy file: it is
 *   imported and the store lives beside it as `<name>.sqlite`.
 * - an existing file that is not a usable headroom-ts store (garbage, truncated, another
 *   program's database) is renamed `<file>.corrupt-<timestamp>` with a warning and a fresh
 *   store is started (a moved-aside Headroom JSON file is then imported);
 * - a fresh store imports an existing Headroom `proxy_savings.json` once;
 * - stateless mode copies an existing store (or the JSON file) into memory and never writes.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import Database, { type Database as Db } from 'better-sqlite3';
import type { Config } from '../../config/index.js';
import type { Logger } from '../../telemetry/logger.js';
import { type HeadroomSavings, parseHeadroomSavings } from './headroom-import.js';
import { APPLICATION_ID, initSchema, SqliteStatsStore } from './sqlite.js';
import { DEFAULT_LIMITS, type StoreLimits } from './types.js';

export interface StorePaths {
  /** The SQLite file. */
  store: string;
  /** Headroom JSON files to import into a fresh store, in order of preference. */
  importCandidates: string[];
}

export function storePaths(config: Pick<Config, 'savingsPath' | 'workspaceDir'>): StorePaths {
  const explicit = config.savingsPath?.trim();
  if (explicit) {
    const p = resolve(explicit);
    if (p.toLowerCase().endsWith('.json')) return { store: `${p.slice(0, -5)}.sqlite`, importCandidates: [p] };
    return { store: p, importCandidates: [join(dirname(p), 'proxy_savings.json')] };
  }
  return { store: join(config.workspaceDir, 'headroom_stats.sqlite'), importCandidates: [join(config.workspaceDir, 'proxy_savings.json')] };
}

const SQLITE_HEADER = Buffer.from('SQLite format 3\u0000', 'latin1');

function readHeader(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(100);
    const n = readSync(fd, buf, 0, 100, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** Why an existing file cannot be used as our store, or null when it can. */
function problemWith(path: string): string | null {
  const size = statSync(path).size;
  if (size === 0) return null;
  const header = readHeader(path);
  if (header.length < 100 || !header.subarray(0, 16).equals(SQLITE_HEADER)) return 'not a SQLite database';
  let db: Db | null = null;
  try {
    db = new Database(path, { fileMustExist: true, timeout: 5000 });
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') return `integrity check failed: ${String(check)}`;
    const appId = db.pragma('application_id', { simple: true }) as number;
    const tables = (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }).n;
    if (appId !== APPLICATION_ID && tables > 0) return 'a SQLite database of another program';
    if (appId === APPLICATION_ID) {
      const need = ['meta', 'totals', 'projects', 'events', 'rollup_hour', 'rollup_day'];
      const have = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name));
      const missing = need.filter((t) => !have.has(t));
      if (missing.length) return `missing tables: ${missing.join(', ')}`;
    }
    return null;
  } catch (err) {
    return `cannot be opened: ${(err as Error).message}`;
  } finally {
    db?.close();
  }
}

function moveAside(path: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const target = `${path}.corrupt-${stamp}`;
  renameSync(path, target);
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(path + suffix)) {
      try {
        renameSync(path + suffix, target + suffix);
      } catch {
        // a stale side file is recreated by SQLite
      }
    }
  }
  return target;
}

function readImport(candidates: string[], log: Logger): { data: HeadroomSavings; source: string } | null {
  for (const path of candidates) {
    if (!existsSync(path)) continue;
    try {
      return { data: parseHeadroomSavings(readFileSync(path, 'utf8')), source: path };
    } catch (err) {
      log.warn({ path, err: (err as Error).message }, 'Headroom savings file is unreadable; not imported');
    }
  }
  return null;
}

function tuned(db: Db, wal: boolean): Db {
  if (wal) db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  return db;
}

export interface OpenStoreOptions {
  config: Pick<Config, 'savingsPath' | 'workspaceDir' | 'stateless' | 'statsRetentionDays' | 'statsFlushMs'>;
  log: Logger;
  limits?: Partial<StoreLimits>;
}

/**
 * Opens the store. If the file cannot be used at all (unwritable directory, disk errors), the
 * proxy still starts: the store runs in memory, the `store` health check reports it degraded
 * with the reason, and an error is logged.
 */
export function openStatsStore(opts: OpenStoreOptions): SqliteStatsStore {
  try {
    return openConfigured(opts);
  } catch (err) {
    const message = (err as Error).message;
    opts.log.error({ err: message, path: storePaths(opts.config).store }, 'cannot open the stats store; keeping stats in memory only');
    const db = new Database(':memory:');
    initSchema(db);
    const limits: StoreLimits = { ...DEFAULT_LIMITS, retentionMs: opts.config.statsRetentionDays * 86_400_000, ...opts.limits };
    return new SqliteStatsStore({ db: tuned(db, false), backend: 'memory', location: null, limits, flushMs: opts.config.statsFlushMs, log: opts.log, openError: message });
  }
}

function openConfigured(opts: OpenStoreOptions): SqliteStatsStore {
  const { config, log } = opts;
  const paths = storePaths(config);
  const limits: StoreLimits = { ...DEFAULT_LIMITS, retentionMs: config.statsRetentionDays * 86_400_000, ...opts.limits };
  const common = { limits, flushMs: config.statsFlushMs, log };

  if (config.stateless) {
    let db: Db | null = null;
    if (existsSync(paths.store) && statSync(paths.store).size > 0) {
      // Read the file's bytes (its last checkpoint) without opening it: opening creates -wal/-shm files.
      try {
        const image = readFileSync(paths.store);
        if (image.length < 100 || !image.subarray(0, 16).equals(SQLITE_HEADER)) throw new Error('not a SQLite database');
        // a WAL database's header says so (bytes 18-19 = 2); an in-memory copy must use rollback mode
        image[18] = 1;
        image[19] = 1;
        db = new Database(image);
        if (db.pragma('quick_check', { simple: true }) !== 'ok') throw new Error('integrity check failed');
        if (db.pragma('application_id', { simple: true }) !== APPLICATION_ID) throw new Error('not a headroom-ts stats store');
      } catch (err) {
        db?.close();
        db = null;
        log.warn({ path: paths.store, err: (err as Error).message }, 'stateless: could not read the existing stats store; starting empty');
      }
    }
    db ??= new Database(':memory:');
    initSchema(db);
    const store = new SqliteStatsStore({ ...common, db: tuned(db, false), backend: 'memory', location: null });
    const imp = readImport(paths.importCandidates, log);
    if (imp) store.importHeadroom(imp.data, imp.source);
    return store;
  }

  mkdirSync(dirname(paths.store), { recursive: true });
  let movedAside: string | null = null;
  const candidates = [...paths.importCandidates];
  let fresh = !existsSync(paths.store) || statSync(paths.store).size === 0;
  if (!fresh) {
    const problem = problemWith(paths.store);
    if (problem) {
      movedAside = moveAside(paths.store);
      fresh = true;
      log.warn({ path: paths.store, moved_to: movedAside, reason: problem }, 'stats store is unusable; moved aside and starting a fresh one');
      candidates.push(movedAside);
    }
  }
  const db = tuned(new Database(paths.store, { timeout: 5000 }), true);
  db.transaction(() => initSchema(db)).immediate();
  const store = new SqliteStatsStore({ ...common, db, backend: 'sqlite', location: paths.store, movedAside });
  const already = db.prepare("SELECT value FROM meta WHERE key = 'headroom_import'").get() as { value: string } | undefined;
  if (already) {
    try {
      store.importedFrom = (JSON.parse(already.value) as { source?: string }).source ?? null;
    } catch {
      store.importedFrom = null;
    }
  } else if (fresh) {
    // First start on this store: carry over an existing Headroom history.
    const imp = readImport(candidates, log);
    if (imp && store.importHeadroom(imp.data, imp.source)) {
      log.info({ from: imp.source, history_points: imp.data.history.length, lifetime_tokens_saved: imp.data.lifetime.tokensSaved }, 'imported Headroom savings history');
    }
  }
  store.prune();
  return store;
}
