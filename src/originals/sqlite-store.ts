/**
 * The CCR store persisted in SQLite (`<workspace>/ccr_store.db`, WAL). Memory stays the
 * working copy (every read on the request path is a map lookup).
 *
 * - New originals are durable before the request that produced them
 *   goes upstream: the compression stage awaits `durable()`, and every request waiting in one
 *   event-loop turn shares one transaction (`src/storage/group-commit.ts`). Refreshes,
 *   retrieval counts and evictions are written in batches off the request path.
 * - A write that fails (full disk) keeps its rows pending and is retried with a backoff; the
 *   waiting requests are told, so they forward their uncompressed content instead.
 * - At startup the unexpired originals are loaded, most recently used first, up to the
 *   budget, so a restart loses nothing. A corrupt file is moved aside; a file that cannot be
 *   opened (permissions, full disk) is kept, served from a read-only copy and retried in the
 *   background (`src/storage/sqlite-file.ts`).
 * - An original memory does not hold (stored by another process sharing the workspace) is
 *   read from the database when it is asked for.
 *
 * Table `ccr_originals` (Headroom's own store uses `ccr_entries`, so both proxies can share a
 * workspace directory). Files written by earlier versions also hold a `ccr_sessions` table; it
 * is left alone, unread (a process of such a version may still share the workspace during a
 * rolling restart, and it writes there).
 */
import type Database from 'better-sqlite3';
import { GroupCommit } from '../storage/group-commit.js';
import { describeError } from '../storage/sqlite-errors.js';
import { readSnapshot, SqliteFile, type StoreFileHealth } from '../storage/sqlite-file.js';
import { type Logger, silentLogger } from '../storage/logger.js';
import { type CcrStoreOptions, type CcrStoreStats, MemoryCcrStore, type StoredOriginal } from './store.js';
import { type OriginalRow, originalFromRow } from './row.js';

export interface SqliteCcrStoreOptions extends CcrStoreOptions {
  path: string;
  /** Delay before background writes (refreshes, retrieval counts, evictions) are persisted (batched). */
  flushDelayMs?: number;
  onError?: (err: unknown) => void;
  log?: Logger;
}

/** Pending rows kept while the file cannot be written; beyond it the oldest refreshes are dropped first. */
const MAX_PENDING = 200_000;


type Pending = { kind: 'full'; entry: StoredOriginal } | { kind: 'touch'; entry: StoredOriginal } | { kind: 'delete' };

const SCHEMA = `
CREATE TABLE IF NOT EXISTS ccr_originals (
  hash TEXT PRIMARY KEY,
  original TEXT NOT NULL,
  tool_name TEXT,
  original_items INTEGER NOT NULL DEFAULT 0,
  kept_items INTEGER NOT NULL DEFAULT 0,
  unit TEXT NOT NULL DEFAULT '',
  transforms TEXT NOT NULL DEFAULT '[]',
  original_tokens INTEGER NOT NULL DEFAULT 0,
  compressed_tokens INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  last_used INTEGER NOT NULL,
  retrievals INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS ccr_originals_last_used ON ccr_originals(last_used);
`;


export class SqliteCcrStore extends MemoryCcrStore {
  private db: Database.Database | null = null;
  private readonly file: SqliteFile;
  private readonly commit: GroupCommit;
  private pending = new Map<string, Pending>();
  /** New originals not yet written (what `durable()` waits for). */
  private unsaved = 0;
  private timer: NodeJS.Timeout | null = null;
  private st: Record<'upsert' | 'touch' | 'delete' | 'purge' | 'selectOne' | 'selectPrefix', Database.Statement> | null = null;
  private lastPurge = 0;
  private closed = false;
  private droppedWrites = 0;

  constructor(private readonly sopts: SqliteCcrStoreOptions) {
    super(sopts);
    const log = sopts.log ?? silentLogger();
    this.commit = new GroupCommit({ write: () => this.writePending(), onError: (err) => this.fail(err) });
    this.file = new SqliteFile({ path: sopts.path, label: 'CCR store', busyTimeoutMs: 2000, init: (db) => db.exec(SCHEMA) }, log, {
      onOpen: (db, late) => this.attach(db, late),
    });
    if (!this.file.open()) {
      // serve what the file holds (read-only) while it cannot be opened
      const copy = readSnapshot(sopts.path);
      if (copy) {
        try {
          this.load(copy, false);
        } catch {
          // not a CCR store we can read: start empty
        } finally {
          copy.close();
        }
      }
    }
  }

  /** The file is open: prepare, load what it holds (all of it at start-up, what memory lacks later), write what waited. */
  private attach(db: Database.Database, late: boolean): void {
    const st = {
      upsert: db.prepare(
        `INSERT INTO ccr_originals (hash, original, tool_name, original_items, kept_items, unit, transforms, original_tokens, compressed_tokens, created_at, last_used, retrievals)
         VALUES (@hash, @original, @toolName, @originalItems, @keptItems, @unit, @transforms, @originalTokens, @compressedTokens, @createdAt, @lastUsed, @retrievals)
         ON CONFLICT(hash) DO UPDATE SET last_used = MAX(last_used, excluded.last_used), retrievals = MAX(retrievals, excluded.retrievals)`,
      ),
      touch: db.prepare('UPDATE ccr_originals SET last_used = MAX(last_used, ?), retrievals = MAX(retrievals, ?) WHERE hash = ?'),
      delete: db.prepare('DELETE FROM ccr_originals WHERE hash = ?'),
      purge: db.prepare('DELETE FROM ccr_originals WHERE last_used < ?'),
      selectOne: db.prepare('SELECT * FROM ccr_originals WHERE hash = ?'),
      selectPrefix: db.prepare('SELECT * FROM ccr_originals WHERE hash >= ? AND hash < ? LIMIT 2'),
    };
    const now = this.now();
    st.purge.run(now - this.opts.ttlMs);
    this.lastPurge = now;
    this.load(db, late);
    this.db = db;
    this.st = st;
    if (late && this.pending.size > 0) {
      try {
        this.writePending();
      } catch (err) {
        this.db = null;
        this.st = null;
        throw err;
      }
    }
  }

  /** Unexpired originals, most recently used first until the budget is full, inserted oldest first (LRU order). */
  private load(db: Database.Database, onlyMissing: boolean): void {
    const now = this.now();
    const rows: StoredOriginal[] = [];
    let bytes = 0;
    for (const row of db.prepare('SELECT * FROM ccr_originals WHERE last_used >= ? ORDER BY last_used DESC').iterate(now - this.opts.ttlMs) as Iterable<OriginalRow>) {
      if (onlyMissing && (this.map.has(row.hash) || this.pending.get(row.hash)?.kind === 'delete')) continue;
      const e = originalFromRow(row);
      bytes += e.bytes;
      if (bytes > this.opts.maxBytes || rows.length >= this.opts.maxEntries) break;
      rows.push(e);
    }
    for (let i = rows.length - 1; i >= 0; i--) this.insert(rows[i] as StoredOriginal);
    if (onlyMissing) this.evict(now);
  }

  private setPending(hash: string, p: Pending): void {
    const old = this.pending.get(hash);
    if (old?.kind === 'full') this.unsaved--;
    this.pending.delete(hash);
    this.pending.set(hash, p);
    if (p.kind === 'full') this.unsaved++;
    if (this.pending.size > MAX_PENDING) this.trimPending();
  }

  /** The file has been failing for long: drop the oldest refreshes (then the oldest rows) beyond the cap. */
  private trimPending(): void {
    for (const [hash, p] of this.pending) {
      if (this.pending.size <= MAX_PENDING) return;
      if (p.kind !== 'touch') continue;
      this.pending.delete(hash);
      this.droppedWrites++;
    }
    for (const [hash, p] of this.pending) {
      if (this.pending.size <= MAX_PENDING) return;
      if (p.kind === 'full') this.unsaved--;
      this.pending.delete(hash);
      this.droppedWrites++;
    }
  }

  protected override written(e: StoredOriginal): void {
    this.setPending(e.hash, { kind: 'full', entry: e });
    this.schedule();
  }

  protected override touched(e: StoredOriginal): void {
    const p = this.pending.get(e.hash);
    if (p?.kind === 'full') return; // the full row carries the new values
    this.setPending(e.hash, { kind: 'touch', entry: e });
    this.schedule();
  }

  protected override removed(hash: string): void {
    this.setPending(hash, { kind: 'delete' });
    this.schedule();
  }

  protected override loadMissing(hash: string, now: number): StoredOriginal | null {
    if (this.closed || !this.st) return null;
    try {
      let row: OriginalRow | undefined;
      if (hash.length === 24) row = this.st.selectOne.get(hash) as OriginalRow | undefined;
      else {
        const rows = this.st.selectPrefix.all(hash, `${hash}g`) as OriginalRow[];
        row = rows.length === 1 ? rows[0] : undefined;
      }
      if (!row || this.pending.get(row.hash)?.kind === 'delete') return null;
      const e = originalFromRow(row);
      this.insert(e);
      // an expired row is returned as is: the caller reports it expired and deletes it
      if (now - e.lastUsed > this.opts.ttlMs) return e;
      this.evict(now);
      return this.map.peek(e.hash) ?? null;
    } catch (err) {
      this.fail(err);
      return null;
    }
  }

  /**
   * Resolves once every new original recorded so far is on disk;
   * rejects (with the reason) when the file is unavailable or the write failed.
   */
  durable(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.unsaved === 0) return Promise.resolve();
    if (!this.st) return Promise.reject(new Error(`the CCR store is unavailable: ${this.file.health().reason ?? 'not open'}`));
    return this.commit.wait();
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, this.sopts.flushDelayMs ?? 1000);
    this.timer.unref();
  }

  private fail(err: unknown): void {
    this.lastError = describeError(err);
    this.sopts.onError?.(err);
  }

  /** Writes every pending change in one transaction; on failure they stay pending and it throws. */
  private writePending(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.pending.size === 0) return;
    const st = this.st;
    if (!st || !this.db) throw new Error(`the CCR store is unavailable: ${this.file.health().reason ?? 'not open'}`);
    const batch = this.pending;
    this.pending = new Map();
    this.unsaved = 0;
    try {
      this.db.transaction(() => {
        for (const [hash, p] of batch) {
          if (p.kind === 'delete') st.delete.run(hash);
          else if (p.kind === 'touch') st.touch.run(p.entry.lastUsed, p.entry.retrievals, hash);
          else {
            const e = p.entry;
            st.upsert.run({
              hash: e.hash, original: e.original, toolName: e.toolName, originalItems: e.originalItems, keptItems: e.keptItems,
              unit: e.unit, transforms: JSON.stringify(e.transforms), originalTokens: e.originalTokens,
              compressedTokens: e.compressedTokens, createdAt: e.createdAt, lastUsed: e.lastUsed, retrievals: e.retrievals,
            });
          }
        }
        const now = this.now();
        if (now - this.lastPurge > 60_000) {
          st.purge.run(now - this.opts.ttlMs);
          this.lastPurge = now;
        }
      })();
    } catch (err) {
      // keep the batch (behind anything recorded since, which is newer) for the retry
      for (const [hash, p] of this.pending) batch.set(hash, p);
      this.pending = batch;
      this.unsaved = 0;
      for (const p of batch.values()) if (p.kind === 'full') this.unsaved++;
      throw err;
    }
    this.lastError = null;
  }

  /** Writes pending changes now; a failure is recorded and retried in the background. */
  override flush(): void {
    if (this.closed) return;
    this.commit.run();
  }

  /** The file's state (for `/health`). */
  fileHealth(): StoreFileHealth {
    return this.file.health();
  }

  override stats(): CcrStoreStats {
    const f = this.file.health();
    return {
      ...super.stats(),
      backend: 'sqlite',
      path: this.sopts.path,
      pendingWrites: this.pending.size,
      lastError: this.lastError ?? (f.open ? null : `the CCR store could not be opened (originals kept in memory; the file is kept and opening it is retried): ${f.reason}`),
      degraded: !f.open || this.lastError !== null,
      movedAside: f.movedAside,
      droppedWrites: this.droppedWrites,
    };
  }

  override close(): void {
    if (this.closed) return;
    this.commit.run();
    this.closed = true;
    this.commit.close();
    this.file.close(false);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const unwritten = this.pending.size;
    if (unwritten > 0) (this.sopts.log ?? silentLogger()).error({ pending: unwritten, err: this.lastError }, 'CCR store closed with unwritten changes');
    this.db?.close();
    this.db = null;
    this.st = null;
    super.close();
  }
}
