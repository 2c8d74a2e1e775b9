/**
 * The replay map: content hash -> the compressed text forwarded for that content (or null
 * when it was forwarded unchanged). The compression stage consults it for every slot of a
 * request, so history the client resends in its original form is forwarded exactly as it was
 * the first time, and the provider's prompt cache keeps matching.
 *
 * Reads come from memory only (no I/O on the request path). Entries expire `ttlMs` after their
 * last use (sliding) and the least recently used go first when `maxBytes` is exceeded.
 * `SqliteReplayStore` persists decisions in `<workspace>/replay.db` and loads the unexpired
 * ones at startup so a restart does not bust caches. A decision that changed bytes is durable
 * before the request that made it goes upstream (`durable()`, one transaction per event-loop
 * turn); refreshes are written in batches off the request path. Failed writes stay pending
 * and are retried; a file that cannot be opened is kept and retried (`src/storage/`).
 */
import type Database from 'better-sqlite3';
import type { ReplayDecision } from './engine.js';
import { GroupCommit } from '../storage/group-commit.js';
import { describeError } from '../storage/sqlite-errors.js';
import { readSnapshot, SqliteFile, type StoreFileHealth } from '../storage/sqlite-file.js';
import { type Logger, silentLogger } from '../storage/logger.js';
import { BoundedCache } from '../util/bounded-cache.js';

export interface ReplayWrite {
  key: string;
  compressed: string | null;
}

export interface ReplayStats {
  backend: 'memory' | 'sqlite' | 'postgres' | 'redis';
  entries: number;
  bytes: number;
  maxBytes: number;
  ttlSeconds: number;
  hits: number;
  misses: number;
  writes: number;
  evictions: number;
  path: string | null;
  pendingWrites: number;
  /** The file is unavailable or its writes fail. */
  degraded?: boolean;
  lastError?: string | null;
  movedAside?: string | null;
}

export interface ReplayStore {
  get(key: string): ReplayDecision | undefined;
  putMany(entries: readonly ReplayWrite[]): void;
  /**
   * Resolves once every decision that changed bytes is on disk; rejects with the reason when it
   * cannot be written. Absent: nothing is kept on disk.
   */
  durable?(): Promise<void>;
  /**
   * Forgets decisions not yet on disk (their request was forwarded unchanged after all, so its
   * history must not be replayed compressed). Decisions already written are kept.
   */
  withdraw?(keys: readonly string[]): void;
  stats(): ReplayStats;
  /** Writes pending changes now (tests, shutdown). */
  flush(): void;
  close(): void;
}

export interface ReplayOptions {
  ttlMs: number;
  maxBytes: number;
  now?: () => number;
}

interface Entry {
  compressed: string | null;
  lastUsed: number;
  bytes: number;
  /** The last_used a shared backend was last sent (or holds) for it: refreshes closer than a tenth of the TTL are not sent. */
  shared?: number;
}

const ENTRY_OVERHEAD = 96;

export class MemoryReplayStore implements ReplayStore {
  /** Least recently used first; bounded by `maxBytes` (the shared bounded cache). */
  protected readonly map: BoundedCache<Entry>;
  protected readonly now: () => number;
  private hits = 0;
  private misses = 0;
  private writes = 0;
  private evictions = 0;

  constructor(protected readonly opts: ReplayOptions) {
    this.now = opts.now ?? Date.now;
    this.map = new BoundedCache<Entry>({ maxBytes: opts.maxBytes, size: (e) => e.bytes, onEvict: () => void this.evictions++ });
  }

  get(key: string): ReplayDecision | undefined {
    const e = this.map.get(key);
    if (!e) {
      this.misses++;
      return undefined;
    }
    const now = this.now();
    if (now - e.lastUsed > this.opts.ttlMs) {
      this.remove(key);
      this.misses++;
      return undefined;
    }
    this.hits++;
    e.lastUsed = now; // (the read made it the most recently used)
    this.touched(key, now);
    return { compressed: e.compressed };
  }

  putMany(entries: readonly ReplayWrite[]): void {
    const now = this.now();
    for (const { key, compressed } of entries) {
      this.set(key, compressed, now);
      this.written(key, compressed, now);
    }
    this.evict();
  }

  /** Stores a decision as the most recently used (the least recently used go beyond `maxBytes`). */
  protected set(key: string, compressed: string | null, lastUsed: number): void {
    this.map.set(key, { compressed, lastUsed, bytes: ENTRY_OVERHEAD + key.length + (compressed === null ? 0 : compressed.length * 2) });
    this.writes++;
  }

  protected remove(key: string): void {
    this.map.delete(key);
  }

  /** Drops the expired decisions (least recently used first). */
  protected evict(): void {
    const now = this.now();
    this.evictions += this.map.expireOldest((e) => now - e.lastUsed > this.opts.ttlMs);
  }

  /** Hooks for persistence. */
  protected touched(_key: string, _now: number): void {}
  protected written(_key: string, _compressed: string | null, _now: number): void {}

  stats(): ReplayStats {
    return {
      backend: 'memory',
      entries: this.map.size,
      bytes: this.map.bytes,
      maxBytes: this.opts.maxBytes,
      ttlSeconds: Math.round(this.opts.ttlMs / 1000),
      hits: this.hits,
      misses: this.misses,
      writes: this.writes,
      evictions: this.evictions,
      path: null,
      pendingWrites: 0,
    };
  }

  flush(): void {}

  close(): void {
    this.map.clear();
  }
}

export interface SqliteReplayOptions extends ReplayOptions {
  path: string;
  /** Delay before refreshes are persisted (batched). */
  flushDelayMs?: number;
  onError?: (err: unknown) => void;
  log?: Logger;
}

interface PendingWrite {
  compressed: string | null;
  lastUsed: number;
  full: boolean;
}

/** Pending rows kept while the file cannot be written; beyond it the oldest refreshes are dropped first. */
const MAX_PENDING = 500_000;

export class SqliteReplayStore extends MemoryReplayStore {
  private db: Database.Database | null = null;
  private readonly file: SqliteFile;
  private readonly commit: GroupCommit;
  private pending = new Map<string, PendingWrite>();
  /** Decisions that changed bytes, not yet written (what `durable()` waits for). */
  private unsaved = 0;
  private timer: NodeJS.Timeout | null = null;
  private st: Record<'upsert' | 'touch' | 'purge', Database.Statement> | null = null;
  private lastPurge = 0;
  private closed = false;
  private lastError: string | null = null;

  constructor(private readonly sopts: SqliteReplayOptions) {
    super(sopts);
    this.commit = new GroupCommit({
      write: () => this.writePending(),
      onError: (err) => {
        this.lastError = describeError(err);
        this.sopts.onError?.(err);
      },
    });
    const schema = (db: Database.Database) => {
      db.exec('CREATE TABLE IF NOT EXISTS replay (key TEXT PRIMARY KEY, compressed TEXT, last_used INTEGER NOT NULL)');
      db.exec('CREATE INDEX IF NOT EXISTS replay_last_used ON replay(last_used)');
    };
    this.file = new SqliteFile({ path: sopts.path, label: 'replay map', busyTimeoutMs: 2000, init: schema }, sopts.log ?? silentLogger(), {
      onOpen: (db, late) => this.attach(db, late),
    });
    if (!this.file.open()) {
      const copy = readSnapshot(sopts.path);
      if (copy) {
        try {
          this.load(copy, false);
        } catch {
          // not a replay map we can read: start empty
        } finally {
          copy.close();
        }
      }
    }
  }

  private attach(db: Database.Database, late: boolean): void {
    const st = {
      upsert: db.prepare('INSERT INTO replay (key, compressed, last_used) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET compressed = excluded.compressed, last_used = excluded.last_used'),
      touch: db.prepare('UPDATE replay SET last_used = ? WHERE key = ? AND last_used < ?'),
      purge: db.prepare('DELETE FROM replay WHERE last_used < ?'),
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

  /** Newest first until the memory budget is full, then inserted oldest first (LRU order). */
  private load(db: Database.Database, onlyMissing: boolean): void {
    const rows: { key: string; compressed: string | null; last_used: number }[] = [];
    let bytes = 0;
    const since = this.now() - this.opts.ttlMs;
    for (const row of db.prepare('SELECT key, compressed, last_used FROM replay WHERE last_used >= ? ORDER BY last_used DESC').iterate(since) as Iterable<{ key: string; compressed: string | null; last_used: number }>) {
      if (onlyMissing && this.map.has(row.key)) continue;
      bytes += 96 + row.key.length + (row.compressed?.length ?? 0) * 2;
      if (bytes > this.opts.maxBytes) break;
      rows.push(row);
    }
    if (onlyMissing) {
      // older than what memory holds: in front of the LRU order
      const newer = this.map.oldestFirst();
      this.map.clear();
      for (let i = rows.length - 1; i >= 0; i--) {
        const r = rows[i] as { key: string; compressed: string | null; last_used: number };
        this.set(r.key, r.compressed, r.last_used);
      }
      for (const [key, e] of newer) this.set(key, e.compressed, e.lastUsed);
      this.evict();
      return;
    }
    for (let i = rows.length - 1; i >= 0; i--) {
      const r = rows[i] as { key: string; compressed: string | null; last_used: number };
      this.set(r.key, r.compressed, r.last_used);
    }
  }

  private setPending(key: string, p: PendingWrite): void {
    const old = this.pending.get(key);
    if (old?.full && old.compressed !== null) this.unsaved--;
    this.pending.delete(key);
    this.pending.set(key, p);
    if (p.full && p.compressed !== null) this.unsaved++;
    if (this.pending.size <= MAX_PENDING) return;
    for (const [k, q] of this.pending) {
      if (this.pending.size <= MAX_PENDING) break;
      if (q.full && q.compressed !== null) this.unsaved--;
      this.pending.delete(k);
    }
  }

  protected override touched(key: string, now: number): void {
    const p = this.pending.get(key);
    if (p) p.lastUsed = now;
    else this.setPending(key, { compressed: null, lastUsed: now, full: false });
    this.schedule();
  }

  protected override written(key: string, compressed: string | null, now: number): void {
    this.setPending(key, { compressed, lastUsed: now, full: true });
    this.schedule();
  }

  durable(): Promise<void> {
    if (this.closed || this.unsaved === 0) return Promise.resolve();
    if (!this.st) return Promise.reject(new Error(`the replay map is unavailable: ${this.file.health().reason ?? 'not open'}`));
    return this.commit.wait();
  }

  withdraw(keys: readonly string[]): void {
    for (const key of keys) {
      const p = this.pending.get(key);
      if (!p?.full) continue;
      if (p.compressed !== null) this.unsaved--;
      this.pending.delete(key);
      this.remove(key);
    }
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, this.sopts.flushDelayMs ?? 1000);
    this.timer.unref();
  }

  /** Writes every pending change in one transaction; on failure they stay pending and it throws. */
  private writePending(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.pending.size === 0) return;
    const st = this.st;
    if (!st || !this.db) throw new Error(`the replay map is unavailable: ${this.file.health().reason ?? 'not open'}`);
    const batch = this.pending;
    this.pending = new Map();
    this.unsaved = 0;
    // a touch is written only when it moves last_used by more than a tenth of the TTL
    const slack = Math.floor(this.opts.ttlMs / 10);
    try {
      this.db.transaction(() => {
        for (const [key, p] of batch) {
          if (p.full) st.upsert.run(key, p.compressed, p.lastUsed);
          else st.touch.run(p.lastUsed, key, p.lastUsed - slack);
        }
        const now = this.now();
        if (now - this.lastPurge > 60_000) {
          st.purge.run(now - this.opts.ttlMs);
          this.lastPurge = now;
        }
      })();
    } catch (err) {
      for (const [key, p] of this.pending) batch.set(key, p);
      this.pending = batch;
      for (const p of batch.values()) if (p.full && p.compressed !== null) this.unsaved++;
      throw err;
    }
    this.lastError = null;
  }

  override flush(): void {
    if (this.closed) return;
    this.commit.run();
  }

  fileHealth(): StoreFileHealth {
    return this.file.health();
  }

  override stats(): ReplayStats {
    const f = this.file.health();
    return {
      ...super.stats(),
      backend: 'sqlite',
      path: this.sopts.path,
      pendingWrites: this.pending.size,
      degraded: !f.open || this.lastError !== null,
      lastError: this.lastError ?? (f.open ? null : `the replay map could not be opened (decisions kept in memory; the file is kept and opening it is retried): ${f.reason}`),
      movedAside: f.movedAside,
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
    this.db?.close();
    this.db = null;
    this.st = null;
    super.close();
  }
}
