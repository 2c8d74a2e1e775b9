/**
 * Opens the stats store the configuration asks for:
 * - location: `--savings-path` / `HEADROOM_SAVINGS_PATH`, else
 *   `<workspace-dir>/headroom_stats.sqlite`. A `.json` path is Headroom's legacy file: it is
 *   imported and the store lives beside it as `<name>.sqlite`.
 * - an existing file that is not a usable headroom-ts store (garbage, truncated, another
 *   program's database) is renamed `<file>.corrupt-<timestamp>` with a warning and a fresh
 *   store is started (a moved-aside Headroom JSON file is then imported); a file that cannot
 *   be opened for another reason (full disk, permissions) is kept (`src/storage/sqlite-file.ts`);
 * - a fresh store imports an existing Headroom `proxy_savings.json` once;
 * - stateless mode copies an existing store (or the JSON file) into memory and never writes.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import Database, { type Database as Db } from 'better-sqlite3';
import type { Config } from '../../../config/index.js';
import { readSnapshot, SqliteFile } from '../../../storage/sqlite-file.js';
import type { Logger } from '../../../core/logger.js';
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

const REQUIRED_TABLES = ['meta', 'totals', 'projects', 'events', 'rollup_hour', 'rollup_day'];

/** Why an existing SQLite file is not a headroom-ts stats store (it is then moved aside), or null. */
function identify(db: Db): string | null {
  const appId = db.pragma('application_id', { simple: true }) as number;
  const tables = (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }).n;
  if (appId !== APPLICATION_ID && tables > 0) return 'a SQLite database of another program';
  if (appId === APPLICATION_ID) {
    const have = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name));
    const missing = REQUIRED_TABLES.filter((t) => !have.has(t));
    if (missing.length) return `missing tables: ${missing.join(', ')}`;
  }
  return null;
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
 * Opens the store. A corrupt file is moved aside and a fresh store started. A file that
 * cannot be opened for any other reason (full disk, permissions, read-only, locked) is kept:
 * the store runs on an in-memory copy of what the file holds (read-only), the `store` health
 * check reports it degraded with the reason, opening is retried in the background, and what
 * was recorded meanwhile is written to the file once it opens.
 */
export function openStatsStore(opts: OpenStoreOptions): SqliteStatsStore {
  const { config, log } = opts;
  const paths = storePaths(config);
  const limits: StoreLimits = { ...DEFAULT_LIMITS, retentionMs: config.statsRetentionDays * 86_400_000, ...opts.limits };
  const common = { limits, flushMs: config.statsFlushMs, log };
  if (config.stateless) return openStateless(paths, common, log);

  const candidates = [...paths.importCandidates];
  const existed = existsSync(paths.store) && statSync(paths.store).size > 0;
  let opened: Db | null = null;
  let store: SqliteStatsStore | null = null;
  const file = new SqliteFile(
    { path: paths.store, label: 'stats store', busyTimeoutMs: 5000, quickCheck: true, identify, init: initSchema },
    log,
    {
      onOpen(db, late) {
        if (late && store) store.attachFile(db);
        else opened = db;
      },
    },
  );
  if (!file.open() || opened === null) {
    const copy = readSnapshot(paths.store);
    const db = copy ?? new Database(':memory:');
    initSchema(db);
    store = new SqliteStatsStore({ ...common, db: tuned(db, false), backend: 'memory', location: paths.store, file });
    if (copy) log.warn({ path: paths.store }, 'serving stats from a read-only copy of the stats store until it can be opened');
    return store;
  }
  const db: Db = opened;
  const movedAside = file.health().movedAside;
  if (movedAside) candidates.push(movedAside);
  store = new SqliteStatsStore({ ...common, db, backend: 'sqlite', location: paths.store, movedAside, file });
  const already = db.prepare("SELECT value FROM meta WHERE key = 'headroom_import'").get() as { value: string } | undefined;
  if (already) {
    try {
      store.importedFrom = (JSON.parse(already.value) as { source?: string }).source ?? null;
    } catch {
      store.importedFrom = null;
    }
  } else if (!existed || movedAside) {
    // First start on this store: carry over an existing Headroom history.
    const imp = readImport(candidates, log);
    if (imp && store.importHeadroom(imp.data, imp.source)) {
      log.info({ from: imp.source, history_points: imp.data.history.length, lifetime_tokens_saved: imp.data.lifetime.tokensSaved }, 'imported Headroom savings history');
    }
  }
  store.prune();
  return store;
}

/** Stateless: an existing store (or the JSON file) is copied into memory; nothing is written. */
function openStateless(paths: StorePaths, common: { limits: StoreLimits; flushMs: number; log: Logger }, log: Logger): SqliteStatsStore {
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
