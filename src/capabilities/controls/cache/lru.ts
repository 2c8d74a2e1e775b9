/**
 * The response cache's store: the shared bounded cache (least recently used order, bounded by
 * bytes and by entry count) with an absolute time to live checked on every read.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { BoundedCache } from '../../../util/bounded-cache.js';

export interface CachedResponse {
  status: number;
  headers: OutgoingHttpHeaders;
  body: Buffer;
  storedAt: number;
  expiresAt: number;
  /** Bytes charged against the cache bound. */
  size: number;
  hits: number;
}

export interface CacheCounters {
  hits: number;
  misses: number;
  stores: number;
  evictions: number;
  expired: number;
  /** Responses not stored because one alone exceeds the byte bound. */
  tooLarge: number;
}

const ENTRY_OVERHEAD = 200;

export function entrySize(key: string, headers: OutgoingHttpHeaders, body: Buffer): number {
  let n = key.length + body.length + ENTRY_OVERHEAD;
  for (const name in headers) n += name.length + String(headers[name]).length;
  return n;
}

export class LruCache {
  private readonly cache: BoundedCache<CachedResponse>;
  readonly counters: CacheCounters = { hits: 0, misses: 0, stores: 0, evictions: 0, expired: 0, tooLarge: 0 };

  constructor(
    readonly maxBytes: number,
    readonly maxEntries: number,
  ) {
    this.cache = new BoundedCache<CachedResponse>({
      maxBytes, maxEntries, size: (e) => e.size, onEvict: () => void this.counters.evictions++,
    });
  }

  get size(): number {
    return this.cache.size;
  }

  /** Bytes charged for the entries held. */
  get bytes(): number {
    return this.cache.bytes;
  }

  /** A live entry (moved to most recently used), or undefined; counts the hit or miss. */
  get(key: string, now: number): CachedResponse | undefined {
    const e = this.cache.get(key);
    if (!e) {
      this.counters.misses++;
      return undefined;
    }
    if (now >= e.expiresAt) {
      this.cache.delete(key);
      this.counters.expired++;
      this.counters.misses++;
      return undefined;
    }
    e.hits++;
    this.counters.hits++;
    return e;
  }

  set(key: string, entry: CachedResponse): boolean {
    if (entry.size > this.maxBytes) {
      this.counters.tooLarge++;
      return false;
    }
    this.cache.set(key, entry);
    this.counters.stores++;
    return true;
  }

  /** Drops every entry; returns how many and their bytes. */
  clear(): { entries: number; bytes: number } {
    const r = { entries: this.cache.size, bytes: this.cache.bytes };
    this.cache.clear();
    return r;
  }

  /** Drops expired entries (they are also dropped when read). */
  sweep(now: number): void {
    for (const [k, e] of this.cache.oldestFirst()) {
      if (now >= e.expiresAt) {
        this.cache.delete(k);
        this.counters.expired++;
      }
    }
  }
}
