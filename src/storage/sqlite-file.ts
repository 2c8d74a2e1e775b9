/**
 * One way for every durable store (stats, budget ledger, CCR originals, replay map, SDK
 * metrics) to open its SQLite file and live through a file it cannot use:
 *
 * - a corrupt file (see `sqlite-errors.ts`) is renamed `<file>.corrupt-<time>` (with its
 *   `-wal`/`-shm`), a warning is logged and a fresh store is created in its place;
 * - any other failure (full disk, permission, read-only file system, a lock held elsewhere)
 *   keeps the file untouched: the store serves from memory, `SqliteFile` retries opening in
 *   the background (backoff up to 5 s) and reports the reason until it succeeds, then hands
 *   the opened database to the store (`onOpen`), which writes what it kept in memory.
 *
 * `readSnapshot` copies a file the process cannot write into memory (read-only), so a store
 * that is waiting for its file can still serve what the file held.
 */
import { AsyncResource } from 'node:async_hooks';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database, { type Database as Db } from 'better-sqlite3';
import type { Logger } from './logger.js';
import { CorruptStoreError, describeError, isCorruption } from './sqlite-errors.js';

export interface SqliteFileSpec {
  path: string;
  /** Name in logs and health (`stats store`, `CCR store`, ...). */
  label: string;
  /** How long a statement waits for another process's lock. */
  busyTimeoutMs: number;
  /** WAL journal (default true). */
  wal?: boolean;
  synchronous?: 'NORMAL' | 'FULL';
  /** Run `PRAGMA quick_check` on an existing non-empty file before using it. */
  quickCheck?: boolean;
  /** Why an existing file is not this store (then it is moved aside), or null. Runs before `init`. */
  identify?(db: Db): string | null;
  /** Creates or upgrades the schema; runs in one immediate transaction. */
  init(db: Db): void;
}

export type OpenResult = { ok: true; db: Db; movedAside: string | null } | { ok: false; reason: string; movedAside: string | null };

/** Renames a corrupt file (and its side files) out of the way; returns the new name. */
export function moveAside(path: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const target = `${path}.corrupt-${stamp}`;
  renameSync(path, target);
  for (const suffix of ['-wal', '-shm']) {
    if (!existsSync(path + suffix)) continue;
    try {
      renameSync(path + suffix, target + suffix);
    } catch {
      // a stale side file is recreated by SQLite
    }
  }
  return target;
}

function openOnce(spec: SqliteFileSpec): Db {
  const existed = existsSync(spec.path) && statSync(spec.path).size > 0;
  const db = new Database(spec.path, { timeout: spec.busyTimeoutMs });
  try {
    db.pragma(`busy_timeout = ${spec.busyTimeoutMs}`);
    // checks first: a file that turns out not to be ours is moved aside exactly as it was
    if (existed && spec.quickCheck) {
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new CorruptStoreError(`integrity check failed: ${String(check)}`);
    }
    const problem = existed ? (spec.identify?.(db) ?? null) : null;
    if (problem) throw new CorruptStoreError(problem);
    if (spec.wal !== false) db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${spec.synchronous ?? 'NORMAL'}`);
    db.transaction(() => spec.init(db)).immediate();
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/**
 * Opens the file; `after` runs on the opened database (a store loading its rows) and counts as
 * part of opening: a corruption it hits moves the file aside too. Never throws.
 */
export function openSqliteFile(spec: SqliteFileSpec, log: Logger, after?: (db: Db) => void): OpenResult {
  let movedAside: string | null = null;
  for (let attempt = 0; attempt < 2; attempt++) {
    let db: Db | null = null;
    try {
      mkdirSync(dirname(spec.path), { recursive: true });
      db = openOnce(spec);
      after?.(db);
      return { ok: true, db, movedAside };
    } catch (err) {
      if (db?.open) db.close();
      const reason = describeError(err);
      if (attempt === 0 && isCorruption(err) && existsSync(spec.path)) {
        try {
          movedAside = moveAside(spec.path);
        } catch (moveErr) {
          return { ok: false, reason: `${reason} (and it could not be moved aside: ${describeError(moveErr)})`, movedAside: null };
        }
        log.warn({ path: spec.path, moved_to: movedAside, reason }, `${spec.label} is unusable; moved aside and starting a fresh one`);
        continue;
      }
      return { ok: false, reason, movedAside };
    }
  }
  return { ok: false, reason: 'could not be opened', movedAside };
}

const SQLITE_HEADER = Buffer.from('SQLite format 3\u0000', 'latin1');

/**
 * An in-memory copy of a database file, read without writing anything: a read-only connection
 * (sees the WAL), else the file's bytes (its last checkpoint). Null when neither works or the
 * copy fails its integrity check.
 */
export function readSnapshot(path: string): Db | null {
  if (!existsSync(path)) return null;
  let image: Buffer | null = null;
  try {
    const ro = new Database(path, { readonly: true, fileMustExist: true, timeout: 200 });
    try {
      image = ro.serialize();
    } finally {
      ro.close();
    }
  } catch {
    try {
      image = readFileSync(path);
    } catch {
      return null;
    }
  }
  if (image.length < 100 || !image.subarray(0, 16).equals(SQLITE_HEADER)) return null;
  // a WAL database's header says so (bytes 18-19 = 2); an in-memory copy must use rollback mode
  image[18] = 1;
  image[19] = 1;
  let db: Db | null = null;
  try {
    db = new Database(image);
    if (db.pragma('quick_check', { simple: true }) !== 'ok') throw new Error('integrity check failed');
    return db;
  } catch {
    db?.close();
    return null;
  }
}

export interface StoreFileHealth {
  path: string;
  /** The file is open and in use. */
  open: boolean;
  /** Why it is not (null when open). */
  reason: string | null;
  /** Where a corrupt file was moved (null when none was). */
  movedAside: string | null;
  /** Epoch ms since the file has been unavailable (null when open). */
  unavailableSince: number | null;
  /** Background attempts to open it so far. */
  retries: number;
}

export interface SqliteFileOptions {
  /**
   * The store takes over an opened database: loads its rows, writes what it kept in memory
   * meanwhile. `late` is false for the first open at start-up. Throwing closes the database
   * and retries later (a corruption signal moves the file aside first).
   */
  onOpen(db: Db, late: boolean): void;
  /** Retry delays (ms): first, and the cap of the doubling backoff. */
  retryMinMs?: number;
  retryMaxMs?: number;
}

/** A store's SQLite file and its state: open, or unavailable and being retried in the background. */
export class SqliteFile {
  db: Db | null = null;
  private reason: string | null = null;
  private movedAside: string | null = null;
  private since: number | null = null;
  private retries = 0;
  private timer: NodeJS.Timeout | null = null;
  private delay: number;
  private closed = false;
  private readonly onTimer = AsyncResource.bind(() => this.retry());

  constructor(
    readonly spec: SqliteFileSpec,
    private readonly log: Logger,
    private readonly opts: SqliteFileOptions,
  ) {
    this.delay = opts.retryMinMs ?? 500;
  }

  get path(): string {
    return this.spec.path;
  }

  get isOpen(): boolean {
    return this.db !== null && this.db.open;
  }

  /** First attempt (start-up); on failure the store starts in memory and retries are scheduled. */
  open(): boolean {
    return this.attempt(false);
  }

  private attempt(late: boolean): boolean {
    const r = openSqliteFile(this.spec, this.log, (db) => this.opts.onOpen(db, late));
    if (r.movedAside) this.movedAside = r.movedAside;
    if (r.ok) {
      this.db = r.db;
      if (late) this.log.info({ path: this.spec.path, unavailable_ms: this.since === null ? null : Date.now() - this.since, retries: this.retries }, `${this.spec.label} is available again; writes kept in memory were saved`);
      this.reason = null;
      this.since = null;
      this.delay = this.opts.retryMinMs ?? 500;
      return true;
    }
    if (this.reason !== r.reason) {
      this.log.error({ path: this.spec.path, err: r.reason }, `cannot open the ${this.spec.label}; serving from memory, keeping the file and retrying in the background`);
    }
    this.reason = r.reason;
    this.since ??= Date.now();
    this.schedule();
    return false;
  }

  private schedule(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(this.onTimer, this.delay);
    this.timer.unref();
    this.delay = Math.min(this.delay * 2, this.opts.retryMaxMs ?? 5_000);
  }

  private retry(): void {
    this.timer = null;
    if (this.closed || this.isOpen) return;
    this.retries++;
    this.attempt(true);
  }

  health(): StoreFileHealth {
    return {
      path: this.spec.path,
      open: this.isOpen,
      reason: this.isOpen ? null : this.reason,
      movedAside: this.movedAside,
      unavailableSince: this.since,
      retries: this.retries,
    };
  }

  /** Stops retrying; closes the database when `closeDb` (stores that close it themselves pass false). */
  close(closeDb = true): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (closeDb && this.db?.open) this.db.close();
  }
}
