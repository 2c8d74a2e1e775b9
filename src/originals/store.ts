/**
 * The CCR store: the originals of lossy cuts, keyed by the hash their markers carry, so the
 * model (through `headroom_retrieve`) or a client (through `/v1/retrieve`) can get back what
 * compression left out.
 *
 * - Keys: 24 lowercase hex (SHA-256 of the original, `src/compress/hash.ts`), the one hash
 *   format of headroom-ts. Lookups accept any case, a `hash=` prefix, and 12-23 hex prefixes.
 * - TTL: sliding. An original stays retrievable `ttlMs` after it was last stored, re-offered
 *   (the compression stage re-offers the originals of replayed cuts on every turn that still
 *   shows their marker) or retrieved; so originals live as long as their conversation does.
 * - Budget: least recently used originals are dropped beyond `maxBytes` or `maxEntries`.
 *   A miss says why: never stored, expired (with its age) or evicted.
 * - Reads and writes touch memory only; `SqliteCcrStore` persists them (new originals before
 *   the request that made them goes upstream, see `durable()`).
 */
import type { CcrEntry } from '../compress/engine.js';
import { estimateCounter } from '../compress/tokens.js';
import type { OriginalEntry, OriginalsSink } from './sink.js';
import { BoundedCache } from '../util/bounded-cache.js';

/** An original as the store keeps it: the engine's entry plus its life in the store. */
export interface StoredOriginal extends Omit<CcrEntry, 'replayed'> {
  /** Epoch ms. */
  createdAt: number;
  lastUsed: number;
  retrievals: number;
  /** Memory charged to the budget. */
  bytes: number;
}

export type MissReason = 'unknown' | 'expired' | 'evicted' | 'invalid';

export type Lookup =
  | { status: 'available'; entry: StoredOriginal }
  | {
      /** Headroom's statuses: `expired` when the TTL ran out, else `missing`. */
      status: 'missing' | 'expired';
      hash: string;
      reason: MissReason;
      /** Seconds since the original was last used, when known. */
      ageSeconds: number | null;
    };

export interface RetrievalEvent {
  hash: string;
  query: string | null;
  itemsRetrieved: number;
  totalItems: number;
  toolName: string | null;
  retrievalType: 'full' | 'search';
  /** `proxy` (a `headroom_retrieve` call answered by the proxy) or `api` (`/v1/retrieve`). */
  via: 'proxy' | 'api';
  at: number;
}

export interface CcrStoreStats {
  backend: 'sqlite' | 'memory' | 'postgres';
  path: string | null;
  entries: number;
  bytes: number;
  maxBytes: number;
  maxEntries: number;
  ttlSeconds: number;
  originalTokens: number;
  compressedTokens: number;
  /** Originals stored for the first time / re-offered (TTL refreshed) by this process. */
  puts: number;
  refreshes: number;
  /** Lookups by hash: found / not found (of which expired). */
  hits: number;
  misses: number;
  expired: number;
  evictions: number;
  /** Retrievals recorded by this process (proxy and API). */
  retrievals: number;
  pendingWrites: number;
  lastError: string | null;
  /** The file is unavailable or its writes fail (originals then live in memory only). */
  degraded?: boolean;
  /** Where a corrupt file was moved at start-up. */
  movedAside?: string | null;
  /** Pending writes given up because the file stayed unwritable beyond the backlog cap. */
  droppedWrites?: number;
}

export interface CcrStore extends OriginalsSink {
  /** Whether an unexpired original is held for this exact (24 hex) hash; no counters, no I/O. */
  has(hash: string): boolean;
  /** Finds an original; `touch` counts a retrieval use (refreshes its TTL). */
  get(hash: string, opts?: { touch?: boolean }): Lookup;
  /** Records a retrieval (counters, `/v1/retrieve/stats` recent list, the entry's retrieval count). */
  recordRetrieval(event: RetrievalEvent): number;
  recentRetrievals(): RetrievalEvent[];
  stats(): CcrStoreStats;
  readonly ttlSeconds: number;
  /**
   * Loads originals this process does not hold from a shared store (another instance stored
   * them) before a retrieval is answered; absent for stores that are not shared. Never rejects.
   */
  prefetch?(hashes: readonly unknown[]): Promise<void>;
  /** Writes pending changes now (tests, shutdown). */
  flush(): void;
  close(): void;
}

export interface CcrStoreOptions {
  ttlMs: number;
  maxBytes: number;
  maxEntries: number;
  now?: () => number;
}

/** Fixed memory charged per entry besides its text (object, map slot, metadata). */
const ENTRY_OVERHEAD = 256;
const MAX_TOMBSTONES = 10_000;
const RECENT = 20;

/** Normalises a hash given by a model or client: case, spaces, a `hash=` prefix; null when not hex. */
export function normaliseLookupHash(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  let h = raw.trim().toLowerCase();
  if (h.startsWith('hash=')) h = h.slice(5).trim();
  if (!/^[0-9a-f]{12,64}$/.test(h)) return null;
  return h.length > 24 ? h.slice(0, 24) : h;
}

export function entryBytes(original: string): number {
  return ENTRY_OVERHEAD + original.length * 2;
}

export class MemoryCcrStore implements CcrStore {
  /** Least recently used first; bounded by `maxBytes` and `maxEntries` (the shared bounded cache). */
  protected readonly map: BoundedCache<StoredOriginal>;
  protected readonly now: () => number;
  private readonly tombstones = new Map<string, { reason: 'expired' | 'evicted'; lastUsed: number }>();
  private readonly recent: RetrievalEvent[] = [];
  private originalTokens = 0;
  private compressedTokens = 0;
  private counters = { puts: 0, refreshes: 0, hits: 0, misses: 0, expired: 0, evictions: 0, retrievals: 0 };
  protected lastError: string | null = null;

  constructor(protected readonly opts: CcrStoreOptions) {
    this.now = opts.now ?? Date.now;
    this.map = new BoundedCache<StoredOriginal>({
      maxBytes: opts.maxBytes, maxEntries: opts.maxEntries, size: (e) => e.bytes, onEvict: (e) => {
        this.untally(e);
        this.forget(e, 'evicted');
      },
    });
  }

  get ttlSeconds(): number {
    return Math.round(this.opts.ttlMs / 1000);
  }

  put(entries: readonly OriginalEntry[]): void {
    if (entries.length === 0) return;
    const now = this.now();
    this.expire(now);
    for (const e of entries) {
      const hash = e.hash.toLowerCase();
      const old = this.map.get(hash); // (now the most recently used)
      if (old) {
        // idempotent: the same hash always has the same original; a re-offer refreshes the TTL
        old.lastUsed = now;
        this.counters.refreshes++;
        this.touched(old);
        continue;
      }
      const entry: StoredOriginal = {
        hash,
        original: e.original,
        toolName: e.toolName,
        originalItems: e.originalItems,
        keptItems: e.keptItems,
        unit: e.unit,
        transforms: [...e.transforms],
        originalTokens: e.originalTokens ?? estimateCounter.count(e.original),
        compressedTokens: e.compressedTokens ?? 0,
        createdAt: now,
        lastUsed: now,
        retrievals: 0,
        bytes: entryBytes(e.original),
      };
      const held = this.insert(entry);
      this.counters.puts++;
      this.written(entry);
      // larger than the whole budget: dropped at once (after `written`, so a backend forgets it too)
      if (!held) this.forget(entry, 'evicted');
    }
    this.evict(now);
  }

  /** Holds an original as the most recently used (others may be evicted for it); false when it alone exceeds the budget. */
  protected insert(entry: StoredOriginal): boolean {
    const old = this.map.peek(entry.hash);
    if (old) this.unlink(old);
    this.tombstones.delete(entry.hash);
    if (!this.map.set(entry.hash, entry)) return false;
    this.originalTokens += entry.originalTokens;
    this.compressedTokens += entry.compressedTokens;
    return true;
  }

  private unlink(e: StoredOriginal): void {
    this.map.delete(e.hash);
    this.untally(e);
  }

  /** Takes an original no longer held out of the token sums. */
  private untally(e: StoredOriginal): void {
    this.originalTokens -= e.originalTokens;
    this.compressedTokens -= e.compressedTokens;
  }

  private drop(e: StoredOriginal, reason: 'expired' | 'evicted'): void {
    this.unlink(e);
    this.forget(e, reason);
  }

  /** Counts, tombstones and reports an original no longer held. */
  private forget(e: StoredOriginal, reason: 'expired' | 'evicted'): void {
    if (reason === 'evicted') this.counters.evictions++;
    this.tombstones.set(e.hash, { reason, lastUsed: e.lastUsed });
    if (this.tombstones.size > MAX_TOMBSTONES) {
      const first = this.tombstones.keys().next().value;
      if (first !== undefined) this.tombstones.delete(first);
    }
    this.removed(e.hash);
  }

  /** Drops the expired originals (least recently used first). */
  private expire(now: number): void {
    const { ttlMs } = this.opts;
    this.map.expireOldest((e) => now - e.lastUsed > ttlMs, (e) => {
      this.untally(e);
      this.forget(e, 'expired');
    });
  }

  /** Drops the expired originals; the budget is kept by the cache itself. */
  protected evict(now: number): void {
    this.expire(now);
  }

  has(hash: string): boolean {
    const e = this.map.peek(hash.toLowerCase());
    return e !== undefined && this.now() - e.lastUsed <= this.opts.ttlMs;
  }

  get(raw: string, opts: { touch?: boolean } = {}): Lookup {
    const hash = normaliseLookupHash(raw);
    if (!hash) {
      this.counters.misses++;
      return { status: 'missing', hash: String(raw ?? '').slice(0, 80), reason: 'invalid', ageSeconds: null };
    }
    const now = this.now();
    let e = hash.length === 24 ? this.map.peek(hash) : this.byPrefix(hash);
    e ??= this.loadMissing(hash, now) ?? undefined;
    if (!e) {
      this.counters.misses++;
      const t = this.tombstones.get(hash);
      if (!t) return { status: 'missing', hash, reason: 'unknown', ageSeconds: null };
      const ageSeconds = Math.max(0, Math.round((now - t.lastUsed) / 1000));
      if (t.reason === 'expired') this.counters.expired++;
      return { status: t.reason === 'expired' ? 'expired' : 'missing', hash, reason: t.reason, ageSeconds };
    }
    if (now - e.lastUsed > this.opts.ttlMs) {
      const ageSeconds = Math.round((now - e.lastUsed) / 1000);
      this.drop(e, 'expired');
      this.counters.misses++;
      this.counters.expired++;
      return { status: 'expired', hash: e.hash, reason: 'expired', ageSeconds };
    }
    this.counters.hits++;
    if (opts.touch) {
      this.map.get(e.hash); // the most recently used
      e.lastUsed = now;
      this.touched(e);
    }
    return { status: 'available', entry: e };
  }

  private byPrefix(prefix: string): StoredOriginal | undefined {
    let found: StoredOriginal | undefined;
    for (const hash of this.map.keys()) {
      if (!hash.startsWith(prefix)) continue;
      if (found) return undefined; // ambiguous
      found = this.map.peek(hash);
    }
    return found;
  }

  recordRetrieval(event: RetrievalEvent): number {
    this.counters.retrievals++;
    this.recent.unshift(event);
    if (this.recent.length > RECENT) this.recent.length = RECENT;
    const e = this.map.peek(event.hash);
    if (!e) return 1;
    e.retrievals++;
    this.touched(e);
    return e.retrievals;
  }

  recentRetrievals(): RetrievalEvent[] {
    return [...this.recent];
  }

  stats(): CcrStoreStats {
    return {
      backend: 'memory',
      path: null,
      entries: this.map.size,
      bytes: this.map.bytes,
      maxBytes: this.opts.maxBytes,
      maxEntries: this.opts.maxEntries,
      ttlSeconds: this.ttlSeconds,
      originalTokens: this.originalTokens,
      compressedTokens: this.compressedTokens,
      ...this.counters,
      pendingWrites: 0,
      lastError: this.lastError,
    };
  }

  /** Persistence hooks (no-ops in memory). */
  protected written(_e: StoredOriginal): void {}
  protected touched(_e: StoredOriginal): void {}
  protected removed(_hash: string): void {}
  /** A backend may find an original memory does not hold (another process stored it). */
  protected loadMissing(_hash: string, _now: number): StoredOriginal | null {
    return null;
  }

  flush(): void {}

  close(): void {
    this.map.clear();
  }
}
