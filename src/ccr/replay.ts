/**
 * The replay map: content hash -> the compressed text forwarded for that content (or null
 * when it was forwarded unchanged). The compression stage consults it for every slot of a
 * request, so history the client resends in its original form is forwarded exactly as it was
 * the first time, and the provider's prompt cache keeps matching.
 *
 * Reads come from memory only (no I/O on the request path). Entries expire `ttlMs` after their
 * last use (sliding) and the least recently used go first when `maxBytes` is exceeded.
 * `SqliteReplayStore` persists decisions in `<workspace>/replay.db`, written in batches off
 * the request path, and loads the unexpired ones at startup so a restart does not bust caches.
 */
import Database from 'better-sqlite3';
import type { ReplayDecision } from '../compress/engine.js';

export interface ReplayWrite {
  key: string;
  compressed: string | null;
}

export interface ReplayStats {
  backend: 'memory' | 'sqlite';
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
}

export interface ReplayStore {
  get(key: string): ReplayDecision | undefined;
  putMany(entries: readonly ReplayWrite[]): void;
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
}

const ENTRY_OVERHEAD = 96;

export class MemoryReplayStore implements ReplayStore {
  protected readonly map = new Map<string, Entry>();
  protected bytes = 0;
  protected readonly now: () => number;
  private hits = 0;
  private misses = 0;
  private writes = 0;
  private evictions = 0;

  constructor(protected readonly opts: ReplayOptions) {
    this.now = opts.now ?? Date.now;
  }

  get(key: string): ReplayDecision | undefined {
    const e = this.map.get(key);
    if (!e) {
      this.misses++;
      return undefined;
    }
    const now = this.now();
    if (now - e.lastUsed > this.opts.ttlMs) {
      this.remove(key, e);
      this.misses++;
      return undefined;
    }
    this.hits++;
    e.lastUsed = now;
    // most recently used last
    this.map.delete(key);
    this.map.set(key, e);
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

  protected set(key: string, compressed: string | null, lastUsed: number): void {
    const old = this.map.get(key);
    if (old) this.remove(key, old);
    const e: Entry = { compressed, lastUsed, bytes: ENTRY_OVERHEAD + key.length + (compressed === null ? 0 : compressed.length * 2) };
    this.map.set(key, e);
    this.bytes += e.bytes;
    this.writes++;
  }

  private remove(key: string, e: Entry): void {
    this.map.delete(key);
    this.bytes -= e.bytes;
  }

  protected evict(): void {
    const now = this.now();
    for (const [key, e] of this.map) {
      if (this.bytes <= this.opts.maxBytes && now - e.lastUsed <= this.opts.ttlMs) break;
      this.remove(key, e);
      this.evictions++;
    }
  }

  /** Hooks for persistence. */
  protected touched(_key: string, _now: number): void {}
  protected written(_key: string, _compressed: string | null, _now: number): void {}

  stats(): ReplayStats {
    return {
      backend: 'memory',
      entries: this.map.size,
      bytes: this.bytes,
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
    this.bytes = 0;
  }
}

export interface SqliteReplayOptions extends ReplayOptions {
  path: string;
  /** Delay before pending writes are persisted (batched). */
  flushDelayMs?: number;
  onError?: (err: unknown) => void;
}

export class SqliteReplayStore extends MemoryReplayStore {
  private readonly db: Database.Database;
  private readonly pending = new Map<string, { compressed: string | null; lastUsed: number; full: boolean }>();
  private timer: NodeJS.Timeout | null = null;
  private readonly upsert: Database.Statement;
  private readonly touch: Database.Statement;
  private readonly purge: Database.Statement;
  private lastPurge = 0;
  private closed = false;

  constructor(private readonly sopts: SqliteReplayOptions) {
    super(sopts);
    this.db = new Database(sopts.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec('CREATE TABLE IF NOT EXISTS replay (key TEXT PRIMARY KEY, compressed TEXT, last_used INTEGER NOT NULL)');
    this.db.exec('CREATE INDEX IF NOT EXISTS replay_last_used ON replay(last_used)');
    this.upsert = this.db.prepare('INSERT INTO replay (key, compressed, last_used) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET compressed = excluded.compressed, last_used = excluded.last_used');
    this.touch = this.db.prepare('UPDATE replay SET last_used = ? WHERE key = ? AND last_used < ?');
    this.purge = this.db.prepare('DELETE FROM replay WHERE last_used < ?');
    this.load();
  }

  private load(): void {
    const now = this.now();
    this.purge.run(now - this.opts.ttlMs);
    this.lastPurge = now;
    // newest first until the memory budget is full, then inserted oldest first (LRU order)
    const rows: { key: string; compressed: string | null; last_used: number }[] = [];
    let bytes = 0;
    for (const row of this.db.prepare('SELECT key, compressed, last_used FROM replay ORDER BY last_used DESC').iterate() as Iterable<{ key: string; compressed: string | null; last_used: number }>) {
      bytes += 96 + row.key.length + (row.compressed?.length ?? 0) * 2;
      if (bytes > this.opts.maxBytes) break;
      rows.push(row);
    }
    for (let i = rows.length - 1; i >= 0; i--) {
      const r = rows[i] as { key: string; compressed: string | null; last_used: number };
      this.set(r.key, r.compressed, r.last_used);
    }
  }

  protected override touched(key: string, now: number): void {
    const p = this.pending.get(key);
    if (p) p.lastUsed = now;
    else this.pending.set(key, { compressed: null, lastUsed: now, full: false });
    this.schedule();
  }

  protected override written(key: string, compressed: string | null, now: number): void {
    this.pending.set(key, { compressed, lastUsed: now, full: true });
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, this.sopts.flushDelayMs ?? 1000);
    this.timer.unref();
  }

  override flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.pending.size === 0 || this.closed) return;
    const batch = [...this.pending];
    this.pending.clear();
    // a touch is written only when it moves last_used by more than a tenth of the TTL
    const slack = Math.floor(this.opts.ttlMs / 10);
    try {
      this.db.transaction(() => {
        for (const [key, p] of batch) {
          if (p.full) this.upsert.run(key, p.compressed, p.lastUsed);
          else this.touch.run(p.lastUsed, key, p.lastUsed - slack);
        }
        const now = this.now();
        if (now - this.lastPurge > 60_000) {
          this.purge.run(now - this.opts.ttlMs);
          this.lastPurge = now;
        }
      })();
    } catch (err) {
      this.sopts.onError?.(err);
    }
  }

  override stats(): ReplayStats {
    return { ...super.stats(), backend: 'sqlite', path: this.sopts.path, pendingWrites: this.pending.size };
  }

  override close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.db.close();
    super.close();
  }
}
