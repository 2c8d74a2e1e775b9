/**
 * The CCR store persisted in SQLite (`<workspace>/ccr_store.db`, WAL). Memory stays the
 * working copy (every read on the request path is a map lookup); stores, refreshes, retrieval
 * counts, evictions and sticky conversations are written in batches off the request path.
 * At startup the unexpired originals are loaded, most recently used first, up to the budget,
 * so a restart loses nothing. An original memory does not hold (stored by another process
 * sharing the workspace) is read from the database when it is asked for.
 *
 * Tables `ccr_originals` and `ccr_sessions` (Headroom's own store uses `ccr_entries`, so both
 * proxies can share a workspace directory).
 */
import Database from 'better-sqlite3';
import { type CcrStoreOptions, type CcrStoreStats, entryBytes, MemoryCcrStore, type StoredOriginal } from './store.js';

export interface SqliteCcrStoreOptions extends CcrStoreOptions {
  path: string;
  /** Delay before pending writes are persisted (batched). */
  flushDelayMs?: number;
  onError?: (err: unknown) => void;
}

interface Row {
  hash: string;
  original: string;
  tool_name: string | null;
  original_items: number;
  kept_items: number;
  unit: string;
  transforms: string;
  original_tokens: number;
  compressed_tokens: number;
  created_at: number;
  last_used: number;
  retrievals: number;
}

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
CREATE TABLE IF NOT EXISTS ccr_sessions (key TEXT PRIMARY KEY, last_used INTEGER NOT NULL);
`;

function fromRow(r: Row): StoredOriginal {
  let transforms: string[] = [];
  try {
    const t = JSON.parse(r.transforms) as unknown;
    if (Array.isArray(t)) transforms = t.filter((x): x is string => typeof x === 'string');
  } catch {
    transforms = [];
  }
  return {
    hash: r.hash,
    original: r.original,
    toolName: r.tool_name,
    originalItems: r.original_items,
    keptItems: r.kept_items,
    unit: r.unit,
    transforms,
    originalTokens: r.original_tokens,
    compressedTokens: r.compressed_tokens,
    createdAt: r.created_at,
    lastUsed: r.last_used,
    retrievals: r.retrievals,
    bytes: entryBytes(r.original),
  };
}

export class SqliteCcrStore extends MemoryCcrStore {
  private readonly db: Database.Database;
  private readonly pending = new Map<string, Pending>();
  private readonly pendingSticky = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private readonly upsert: Database.Statement;
  private readonly touchStmt: Database.Statement;
  private readonly deleteStmt: Database.Statement;
  private readonly purgeStmt: Database.Statement;
  private readonly selectOne: Database.Statement;
  private readonly selectPrefix: Database.Statement;
  private readonly stickyUpsert: Database.Statement;
  private readonly stickyPurge: Database.Statement;
  private lastPurge = 0;
  private closed = false;

  constructor(private readonly sopts: SqliteCcrStoreOptions) {
    super(sopts);
    this.db = new Database(sopts.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 2000');
    this.db.exec(SCHEMA);
    this.upsert = this.db.prepare(
      `INSERT INTO ccr_originals (hash, original, tool_name, original_items, kept_items, unit, transforms, original_tokens, compressed_tokens, created_at, last_used, retrievals)
       VALUES (@hash, @original, @toolName, @originalItems, @keptItems, @unit, @transforms, @originalTokens, @compressedTokens, @createdAt, @lastUsed, @retrievals)
       ON CONFLICT(hash) DO UPDATE SET last_used = MAX(last_used, excluded.last_used), retrievals = MAX(retrievals, excluded.retrievals)`,
    );
    this.touchStmt = this.db.prepare('UPDATE ccr_originals SET last_used = MAX(last_used, ?), retrievals = MAX(retrievals, ?) WHERE hash = ?');
    this.deleteStmt = this.db.prepare('DELETE FROM ccr_originals WHERE hash = ?');
    this.purgeStmt = this.db.prepare('DELETE FROM ccr_originals WHERE last_used < ?');
    this.selectOne = this.db.prepare('SELECT * FROM ccr_originals WHERE hash = ?');
    this.selectPrefix = this.db.prepare('SELECT * FROM ccr_originals WHERE hash >= ? AND hash < ? LIMIT 2');
    this.stickyUpsert = this.db.prepare('INSERT INTO ccr_sessions (key, last_used) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET last_used = MAX(last_used, excluded.last_used)');
    this.stickyPurge = this.db.prepare('DELETE FROM ccr_sessions WHERE last_used < ?');
    this.load();
  }

  private load(): void {
    const now = this.now();
    this.purgeStmt.run(now - this.opts.ttlMs);
    this.stickyPurge.run(now - this.opts.stickyTtlMs);
    this.lastPurge = now;
    // most recently used first until the budget is full, then inserted oldest first (LRU order)
    const rows: StoredOriginal[] = [];
    let bytes = 0;
    for (const row of this.db.prepare('SELECT * FROM ccr_originals ORDER BY last_used DESC').iterate() as Iterable<Row>) {
      const e = fromRow(row);
      bytes += e.bytes;
      if (bytes > this.opts.maxBytes || rows.length >= this.opts.maxEntries) break;
      rows.push(e);
    }
    for (let i = rows.length - 1; i >= 0; i--) this.insert(rows[i] as StoredOriginal);
    const sessions = this.db.prepare('SELECT key, last_used FROM ccr_sessions ORDER BY last_used ASC').all() as { key: string; last_used: number }[];
    for (const s of sessions) this.sticky.set(s.key, s.last_used);
  }

  protected override written(e: StoredOriginal): void {
    this.pending.set(e.hash, { kind: 'full', entry: e });
    this.schedule();
  }

  protected override touched(e: StoredOriginal): void {
    const p = this.pending.get(e.hash);
    if (p?.kind === 'full') return; // the full row carries the new values
    this.pending.set(e.hash, { kind: 'touch', entry: e });
    this.schedule();
  }

  protected override removed(hash: string): void {
    this.pending.set(hash, { kind: 'delete' });
    this.schedule();
  }

  protected override stickyTouched(key: string, now: number, previous: number | undefined): void {
    // a conversation's row is rewritten only when it moved by more than a tenth of the TTL
    if (previous !== undefined && now - previous < this.opts.stickyTtlMs / 10) return;
    this.pendingSticky.set(key, now);
    this.schedule();
  }

  protected override loadMissing(hash: string, now: number): StoredOriginal | null {
    if (this.closed) return null;
    try {
      let row: Row | undefined;
      if (hash.length === 24) row = this.selectOne.get(hash) as Row | undefined;
      else {
        const rows = this.selectPrefix.all(hash, `${hash}g`) as Row[];
        row = rows.length === 1 ? rows[0] : undefined;
      }
      if (!row || this.pending.get(row.hash)?.kind === 'delete') return null;
      const e = fromRow(row);
      this.insert(e);
      // an expired row is returned as is: the caller reports it expired and deletes it
      if (now - e.lastUsed > this.opts.ttlMs) return e;
      this.evict(now);
      return this.map.get(e.hash) ?? null;
    } catch (err) {
      this.fail(err);
      return null;
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

  private fail(err: unknown): void {
    this.lastError = (err as Error)?.message ?? String(err);
    this.sopts.onError?.(err);
  }

  override flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.closed || (this.pending.size === 0 && this.pendingSticky.size === 0)) return;
    const batch = [...this.pending];
    const sticky = [...this.pendingSticky];
    this.pending.clear();
    this.pendingSticky.clear();
    try {
      this.db.transaction(() => {
        for (const [hash, p] of batch) {
          if (p.kind === 'delete') this.deleteStmt.run(hash);
          else if (p.kind === 'touch') this.touchStmt.run(p.entry.lastUsed, p.entry.retrievals, hash);
          else {
            const e = p.entry;
            this.upsert.run({
              hash: e.hash, original: e.original, toolName: e.toolName, originalItems: e.originalItems, keptItems: e.keptItems,
              unit: e.unit, transforms: JSON.stringify(e.transforms), originalTokens: e.originalTokens,
              compressedTokens: e.compressedTokens, createdAt: e.createdAt, lastUsed: e.lastUsed, retrievals: e.retrievals,
            });
          }
        }
        for (const [key, at] of sticky) this.stickyUpsert.run(key, at);
        const now = this.now();
        if (now - this.lastPurge > 60_000) {
          this.purgeStmt.run(now - this.opts.ttlMs);
          this.stickyPurge.run(now - this.opts.stickyTtlMs);
          this.lastPurge = now;
        }
      })();
    } catch (err) {
      this.fail(err);
    }
  }

  override stats(): CcrStoreStats {
    return { ...super.stats(), backend: 'sqlite', path: this.sopts.path, pendingWrites: this.pending.size + this.pendingSticky.size };
  }

  override close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.db.close();
    super.close();
  }
}
