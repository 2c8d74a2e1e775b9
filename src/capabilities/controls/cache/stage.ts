/**
 * The exact response cache stage, for non-streaming Messages, Chat Completions and Responses
 * requests. A hit is answered from memory (the stored status, headers and body, plus
 * `x-headroom-cached: true` and `age`) and its outcome is `cached: true` with no usage (it
 * cost nothing). A miss is forwarded; a complete 200 response is stored after the client
 * has it. The key is computed from the body as the client sent it, before any compression.
 * A request with `Cache-Control: no-cache` is not answered from the cache (its response is
 * still stored); `no-store` neither reads nor stores.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { CompletedResponse, Exchange, ProxyStage, StageReply } from '../../proxy/api.js';
import { isMetered } from '../request.js';
import { cacheKey } from './key.js';
import { type CachedResponse, entrySize, LruCache } from './lru.js';
import type { RedisResponseCache } from './redis.js';

/** Response headers never replayed from the cache. */
const NOT_STORED = new Set(['content-length', 'content-encoding', 'transfer-encoding', 'date', 'set-cookie', 'connection', 'keep-alive', 'age']);
const SWEEP_EVERY_MS = 60_000;

export interface ResponseCacheOptions {
  ttlSeconds: number;
  maxBytes: number;
  maxEntries: number;
  now?: () => number;
  /** The fleet's shared cache in Redis: used instead of this process's memory when set. */
  shared?: RedisResponseCache;
  /** Headers added to cache hits (e.g. the budget status). */
  extraHeaders?: (ex: Exchange) => OutgoingHttpHeaders;
}

function directives(ex: Exchange): { noCache: boolean; noStore: boolean } {
  const cc = ex.req.headers['cache-control'];
  if (typeof cc !== 'string') return { noCache: false, noStore: false };
  const v = cc.toLowerCase();
  const noStore = v.includes('no-store');
  return { noCache: noStore || v.includes('no-cache'), noStore };
}

export class ResponseCacheStage implements ProxyStage {
  readonly name = 'response_cache';
  readonly order = 120;
  readonly lru: LruCache;
  /** Requests sent with `Cache-Control: no-cache` / `no-store`. */
  bypassed = 0;
  private readonly pending = new WeakMap<Exchange, string>();
  private readonly now: () => number;
  private lastSweep = 0;

  constructor(private readonly opts: ResponseCacheOptions) {
    this.lru = new LruCache(opts.maxBytes, opts.maxEntries);
    this.now = opts.now ?? Date.now;
  }

  beforeUpstream(ex: Exchange): StageReply | undefined | Promise<StageReply | undefined> {
    if (!isMetered(ex) || ex.info.stream) return;
    const { noCache, noStore } = directives(ex);
    const key = cacheKey(ex.path, ex.info.apiKeyHash, ex.req.headers, ex.json!);
    if (noCache) this.bypassed++;
    else {
      const now = this.now();
      const shared = this.opts.shared;
      if (shared) {
        return shared.get(key, now).then((hit) => {
          const c = this.lru.counters;
          if (hit) {
            c.hits++;
            return this.hitReply(ex, hit, now);
          }
          c.misses++;
          if (!noStore) this.pending.set(ex, key);
          return undefined;
        });
      }
      const hit = this.lru.get(key, now);
      if (hit) return this.hitReply(ex, hit, now);
    }
    if (!noStore) this.pending.set(ex, key);
    return;
  }

  private hitReply(ex: Exchange, hit: CachedResponse, now: number): StageReply {
    return {
      status: hit.status,
      headers: {
        ...hit.headers,
        ...this.opts.extraHeaders?.(ex),
        'x-headroom-cached': 'true',
        age: String(Math.max(0, Math.floor((now - hit.storedAt) / 1000))),
      },
      body: hit.body,
      cached: true,
    };
  }

  afterResponse(ex: Exchange, response: CompletedResponse): void {
    const key = this.pending.get(ex);
    if (key === undefined) return;
    this.pending.delete(ex);
    if (response.status !== 200 || ex.errorType !== null) return;
    const headers: OutgoingHttpHeaders = {};
    for (const name in response.headers) {
      if (NOT_STORED.has(name) || name.startsWith('x-headroom-')) continue;
      const v = response.headers[name];
      if (v !== undefined) headers[name] = v;
    }
    const now = this.now();
    if (now - this.lastSweep > SWEEP_EVERY_MS) {
      this.lastSweep = now;
      this.lru.sweep(now);
    }
    const body = response.body;
    const entry = { status: 200, headers, body, storedAt: now, expiresAt: now + this.opts.ttlSeconds * 1000, size: entrySize(key, headers, body), hits: 0 };
    if (this.opts.shared) {
      this.lru.counters.stores++;
      this.opts.shared.set(key, entry);
    } else this.lru.set(key, entry);
  }

  /** Drops this process's entries (the shared ones: `clearShared`). */
  clear(): { entries: number; bytes: number } {
    return this.lru.clear();
  }

  /** Drops the fleet's shared entries too; null when Redis could not be reached. */
  async clearShared(): Promise<{ entries: number; bytes: number } | null> {
    const local = this.lru.clear();
    if (!this.opts.shared) return local;
    return this.opts.shared.clear();
  }

  statsBlock(): Record<string, unknown> {
    const c = this.lru.counters;
    const lookups = c.hits + c.misses;
    return {
      entries: this.lru.size,
      max_entries: this.opts.maxEntries,
      total_hits: c.hits,
      ttl_seconds: this.opts.ttlSeconds,
      misses: c.misses,
      hit_rate: lookups > 0 ? Math.round((c.hits / lookups) * 1000) / 10 : 0,
      bytes: this.lru.bytes,
      max_bytes: this.opts.maxBytes,
      stores: c.stores,
      evictions: c.evictions,
      expired: c.expired,
      too_large: c.tooLarge,
      bypassed: this.bypassed,
      ...(this.opts.shared ? { shared: 'redis', redis_failures: this.opts.shared.failures, evictions: this.opts.shared.evictions } : {}),
    };
  }
}
