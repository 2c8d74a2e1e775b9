/**
 * The store of originals in the shared Postgres database (`--database-url`), so that an
 * original stored by one instance of a fleet can be retrieved through any other.
 *
 * Memory stays the working copy (the request path reads a map). New originals are durable
 * before the request that produced them goes upstream: `durable()` resolves once they are
 * committed (every request waiting at once shares one statement). Refreshes and retrieval
 * counts are written in batches off the request path. An original this instance does not
 * hold is fetched from the database by `prefetch()` before a retrieval is answered. A local
 * eviction (this instance's memory budget) leaves the shared row alone; rows expire in the
 * database by their TTL.
 *
 * While the database fails, `durable()` rejects at once (after the first failure, until the
 * next retry) so requests forward their uncompressed content instead of waiting; the rows are
 * kept (bounded) and written when it answers again.
 */
import type { Logger } from '../storage/logger.js';
import { describePgError, type PgDatabase, type Queryable } from '../storage/postgres/database.js';
import { WriteBehind } from '../storage/write-behind.js';
import { type CcrStoreOptions, type CcrStoreStats, MemoryCcrStore, normaliseLookupHash, type StoredOriginal } from './store.js';
import { type OriginalRow, originalFromRow } from './row.js';

const LABEL = 'CCR store';
const CHUNK = 200;
const PURGE_EVERY_MS = 60_000;

/** New originals (kept when another instance stored the hash first, refreshing it) and refreshes, as one autocommit statement. */
const WRITE = `WITH stored AS (
    INSERT INTO ccr_originals (hash, original, tool_name, original_items, kept_items, unit, transforms, original_tokens, compressed_tokens, created_at, last_used, retrievals)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::int[], $6::text[], $7::text[], $8::int[], $9::int[], $10::bigint[], $11::bigint[], $12::int[])
    ON CONFLICT (hash) DO UPDATE SET last_used = greatest(ccr_originals.last_used, excluded.last_used),
      retrievals = greatest(ccr_originals.retrievals, excluded.retrievals)),
  refreshed AS (
    UPDATE ccr_originals c SET last_used = greatest(c.last_used, u.last_used), retrievals = greatest(c.retrievals, u.retrievals)
    FROM unnest($13::text[], $14::bigint[], $15::int[]) AS u(hash, last_used, retrievals) WHERE c.hash = u.hash)
  SELECT 1`;



export interface PgCcrStoreOptions extends CcrStoreOptions {
  db: PgDatabase;
  log: Logger;
  flushDelayMs?: number;
}

type Pending = { full: boolean; entry: StoredOriginal };

export class PgCcrStore extends MemoryCcrStore {
  private readonly db: PgDatabase;
  private readonly log: Logger;
  /** Rows to write: a new original (full, what `durable()` waits for) or a refresh (last_used, retrievals). */
  private readonly rows: WriteBehind<Pending>;
  private lastPurge = 0;
  private closed = false;

  constructor(private readonly popts: PgCcrStoreOptions) {
    super(popts);
    this.db = popts.db;
    this.log = popts.log;
    this.rows = new WriteBehind<Pending>({
      label: LABEL,
      chunk: CHUNK,
      delayMs: popts.flushDelayMs ?? 250,
      vital: (p) => p.full,
      merge: (old, p) => ({ full: p.full || old.full, entry: p.entry }),
      write: (batch) => this.db.run(LABEL, (q) => this.writeRows(q, batch)),
      afterWrite: () => this.maybePurge(),
      describeError: describePgError,
    });
  }

  protected override written(e: StoredOriginal): void {
    this.rows.put(e.hash, { full: true, entry: e });
  }

  protected override touched(e: StoredOriginal): void {
    this.rows.put(e.hash, { full: false, entry: e });
  }

  /** Resolves once every original put so far is committed; rejects at once while the database is failing. */
  durable(): Promise<void> {
    return this.rows.durable();
  }

  /** New originals and refreshes of a batch in one statement (hashes sorted, so concurrent writers lock rows in one order). */
  private async writeRows(q: Queryable, rows: { full: boolean; entry: StoredOriginal }[]): Promise<void> {
    const sorted = [...rows].sort((a, b) => (a.entry.hash < b.entry.hash ? -1 : a.entry.hash > b.entry.hash ? 1 : 0));
    const full = sorted.filter((r) => r.full).map((r) => r.entry);
    const touch = sorted.filter((r) => !r.full).map((r) => r.entry);
    await q.query({
      name: 'ccr-write',
      text: WRITE,
      values: [
        full.map((e) => e.hash), full.map((e) => e.original), full.map((e) => e.toolName), full.map((e) => e.originalItems), full.map((e) => e.keptItems),
        full.map((e) => e.unit), full.map((e) => JSON.stringify(e.transforms)), full.map((e) => e.originalTokens), full.map((e) => e.compressedTokens),
        full.map((e) => e.createdAt), full.map((e) => e.lastUsed), full.map((e) => e.retrievals),
        touch.map((e) => e.hash), touch.map((e) => e.lastUsed), touch.map((e) => e.retrievals),
      ],
    });
  }

  private async maybePurge(): Promise<void> {
    const now = this.now();
    if (now - this.lastPurge < PURGE_EVERY_MS) return;
    this.lastPurge = now;
    await this.db.run(LABEL, (q) => q.query('DELETE FROM ccr_originals WHERE last_used < $1', [now - this.popts.ttlMs])).catch(() => undefined);
  }

  /** Loads the originals of `hashes` (24 hex, or 12-23 hex prefixes) that memory does not hold. Never rejects. */
  async prefetch(hashes: readonly unknown[]): Promise<void> {
    const want: string[] = [];
    for (const raw of hashes) {
      const h = normaliseLookupHash(raw);
      if (h && !this.has(h) && !(h.length < 24 && this.hasPrefix(h))) want.push(h);
    }
    if (want.length === 0 || this.rows.failing) return;
    try {
      const since = this.now() - this.popts.ttlMs;
      const r = await this.db.run(LABEL, (q) =>
        q.query<OriginalRow>(
          `SELECT * FROM ccr_originals WHERE last_used >= $2 AND (hash = ANY($1::text[]) OR EXISTS (
             SELECT 1 FROM unnest($1::text[]) AS p WHERE length(p) < 24 AND ccr_originals.hash LIKE p || '%'))`,
          [want, since],
        ),
      );
      const byPrefix = new Map<string, number>();
      for (const row of r.rows) for (const w of want) if (w.length < 24 && row.hash.startsWith(w)) byPrefix.set(w, (byPrefix.get(w) ?? 0) + 1);
      for (const row of r.rows) {
        // an ambiguous prefix is not resolved (as in memory)
        if (!want.includes(row.hash) && want.some((w) => row.hash.startsWith(w) && (byPrefix.get(w) ?? 0) > 1)) continue;
        if (!this.map.peek(row.hash)) this.insert(originalFromRow(row));
      }
    } catch (err) {
      this.rows.noteFailure(describePgError(err));
    }
  }

  private hasPrefix(prefix: string): boolean {
    for (const hash of this.map.keys()) if (hash.startsWith(prefix)) return true;
    return false;
  }

  override stats(): CcrStoreStats {
    const s = super.stats();
    const unsaved = this.rows.unsaved;
    return {
      ...s,
      backend: 'postgres',
      path: this.db.where,
      pendingWrites: this.rows.size,
      lastError: this.rows.lastError,
      degraded: this.rows.lastError !== null || (unsaved > 0 && this.rows.failing),
      droppedWrites: this.rows.dropped,
    };
  }

  override flush(): void {
    void this.rows.write();
  }

  /** Writes what is pending (shutdown). */
  drain(): Promise<void> {
    return this.rows.drain();
  }

  override close(): void {
    if (this.closed) return;
    this.closed = true;
    this.rows.close();
    if (this.rows.size > 0) this.log.warn({ pending: this.rows.size }, 'CCR store closed with unwritten originals');
    super.close();
  }
}
