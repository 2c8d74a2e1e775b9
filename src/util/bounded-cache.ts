/**
 * The one size-bounded cache of headroom-ts (the response cache, the replay map, the store of
 * originals): least recently used order, bounded by bytes and optionally by entry count, on
 * `lru-cache`. Entries beyond a bound are evicted, least recently used first, and reported
 * through `onEvict`; an entry larger than the whole byte bound is not stored.
 *
 * Time to live stays with the users: each keeps its own clock (tests inject one) and its own
 * rule (absolute expiry for responses, sliding for decisions and originals), and persists or
 * reports the times; `expireOldest` drops expired entries from the least recently used end.
 */
import { LRUCache } from 'lru-cache';

export interface BoundedCacheOptions<V> {
  maxBytes: number;
  /** Most entries kept (unbounded when absent). */
  maxEntries?: number;
  /** Bytes charged for an entry (a positive integer). */
  size: (value: V, key: string) => number;
  /** An entry was evicted to keep the bounds (not called for `delete`, `clear` or a replaced value). */
  onEvict?: (value: V, key: string) => void;
}

export class BoundedCache<V extends {}> {
  private readonly lru: LRUCache<string, V>;
  readonly maxBytes: number;

  constructor(opts: BoundedCacheOptions<V>) {
    this.maxBytes = Math.max(1, Math.floor(opts.maxBytes));
    const onEvict = opts.onEvict;
    this.lru = new LRUCache<string, V>({
      maxSize: this.maxBytes,
      ...(opts.maxEntries !== undefined ? { max: Math.max(1, Math.floor(opts.maxEntries)) } : {}),
      sizeCalculation: (v, k) => Math.max(1, Math.ceil(opts.size(v, k))),
      ...(onEvict ? { dispose: (v: V, k: string, reason: LRUCache.DisposeReason) => void (reason === 'evict' && onEvict(v, k)) } : {}),
    });
  }

  /** Bytes charged for the entries held. */
  get bytes(): number {
    return this.lru.calculatedSize;
  }

  get size(): number {
    return this.lru.size;
  }

  /** The entry, made the most recently used. */
  get(key: string): V | undefined {
    return this.lru.get(key);
  }

  /** The entry, its recency unchanged. */
  peek(key: string): V | undefined {
    return this.lru.peek(key);
  }

  has(key: string): boolean {
    return this.lru.has(key);
  }

  /** Stores (or replaces) an entry as the most recently used; false when it alone exceeds the byte bound. */
  set(key: string, value: V): boolean {
    this.lru.set(key, value);
    return this.lru.has(key);
  }

  delete(key: string): boolean {
    return this.lru.delete(key);
  }

  clear(): void {
    this.lru.clear();
  }

  /** Entries, least recently used first (a snapshot: the cache may be changed meanwhile). */
  oldestFirst(): [string, V][] {
    return [...this.lru.rentries()] as [string, V][];
  }

  /** Keys, most recently used first. */
  keys(): IterableIterator<string> {
    return this.lru.keys();
  }

  /**
   * Deletes expired entries from the least recently used end, stopping at the first live one
   * (right when recency follows the time the TTL runs from, as for sliding TTLs); each deleted
   * entry is passed to `onExpired`. Returns how many were deleted.
   */
  expireOldest(expired: (value: V) => boolean, onExpired?: (value: V, key: string) => void): number {
    const gone: [string, V][] = [];
    for (const [key, value] of this.lru.rentries() as Generator<[string, V]>) {
      if (!expired(value)) break;
      gone.push([key, value]);
    }
    for (const [key, value] of gone) {
      this.lru.delete(key);
      onExpired?.(value, key);
    }
    return gone.length;
  }
}
