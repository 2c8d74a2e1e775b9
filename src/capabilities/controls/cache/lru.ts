/**
 * The response cache's store: a Map in least-recently-used order, bounded by bytes and by
 * entry count, with a time to live checked on every read.
 */
import type { OutgoingHttpHeaders } from 'node:http';

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
  private readonly map = new Map<string, CachedResponse>();
  bytes = 0;
  readonly counters: CacheCounters = { hits: 0, misses: 0, stores: 0, evictions: 0, expired: 0, tooLarge: 0 };

  constructor(
    readonly maxBytes: number,
    readonly maxEntries: number,
  ) {}

  get size(): number {
    return this.map.size;
  }

  /** A live entry (moved to most recently used), or undefined; counts the hit or miss. */
  get(key: string, now: number): CachedResponse | undefined {
    const e = this.map.get(key);
    if (!e) {
      this.counters.misses++;
      return undefined;
    }
    if (now >= e.expiresAt) {
      this.remove(key, e);
      this.counters.expired++;
      this.counters.misses++;
      return undefined;
    }
    this.map.delete(key);
    this.map.set(key, e);
    e.hits++;
    this.counters.hits++;
    return e;
  }

  set(key: string, entry: CachedResponse): boolean {
    if (entry.size > this.maxBytes) {
      this.counters.tooLarge++;
      return false;
    }
    const old = this.map.get(key);
    if (old) this.remove(key, old);
    this.map.set(key, entry);
    this.bytes += entry.size;
    this.counters.stores++;
    for (const [k, e] of this.map) {
      if (this.bytes <= this.maxBytes && this.map.size <= this.maxEntries) break;
      this.remove(k, e);
      this.counters.evictions++;
    }
    return true;
  }

  private remove(key: string, e: CachedResponse): void {
    this.map.delete(key);
    this.bytes -= e.size;
  }

  /** Drops every entry; returns how many and their bytes. */
  clear(): { entries: number; bytes: number } {
    const r = { entries: this.map.size, bytes: this.bytes };
    this.map.clear();
    this.bytes = 0;
    return r;
  }

  /** Drops expired entries (they are also dropped when read). */
  sweep(now: number): void {
    for (const [k, e] of this.map) {
      if (now >= e.expiresAt) {
        this.remove(k, e);
        this.counters.expired++;
      }
    }
  }
}
