/**
 * The exact response cache shared in the fleet's Redis: an entry is the stored status,
 * headers and body under its key (a SHA-256 of the request), with the cache's TTL as its
 * expiry; an index (sorted by store time) and the entries' sizes keep the whole cache within
 * `--cache-max-entries` and `--cache-max-bytes`, oldest evicted first, in one script so that
 * concurrent stores from several instances never overshoot. Any Redis failure is a miss (and
 * a store that does not happen): the cache fails open.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { Redis } from 'ioredis';
import type { RedisLink } from '../../fleet/api.js';
import type { CachedResponse } from './lru.js';

/** KEYS: entry, index, sizes, bytes. ARGV: value, ttl ms, size, max entries, max bytes, member, entry key prefix. */
const STORE = `
local old = redis.call('HGET', KEYS[3], ARGV[6])
if old then redis.call('DECRBY', KEYS[4], old) end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local t = redis.call('TIME')
redis.call('ZADD', KEYS[2], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), ARGV[6])
redis.call('HSET', KEYS[3], ARGV[6], ARGV[3])
local bytes = redis.call('INCRBY', KEYS[4], ARGV[3])
local evicted = 0
while redis.call('ZCARD', KEYS[2]) > tonumber(ARGV[4]) or bytes > tonumber(ARGV[5]) do
  local oldest = redis.call('ZPOPMIN', KEYS[2])
  if #oldest == 0 then break end
  local m = oldest[1]
  local sz = redis.call('HGET', KEYS[3], m)
  redis.call('HDEL', KEYS[3], m)
  if sz then bytes = redis.call('DECRBY', KEYS[4], sz) end
  redis.call('DEL', ARGV[7] .. m)
  evicted = evicted + 1
end
return evicted
`;

/** KEYS: index, sizes, bytes. ARGV: entry key prefix. Returns {entries, bytes} removed. */
const CLEAR = `
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, m in ipairs(members) do redis.call('DEL', ARGV[1] .. m) end
local bytes = tonumber(redis.call('GET', KEYS[3]) or '0')
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return {#members, bytes}
`;

type ScriptedRedis = Redis & {
  headroomCacheStore(entry: string, index: string, sizes: string, bytes: string, value: Buffer, ttlMs: number, size: number, maxEntries: number, maxBytes: number, member: string, entryPrefix: string): Promise<number>;
  headroomCacheClear(index: string, sizes: string, bytes: string, entryPrefix: string): Promise<[number, number]>;
};

interface Meta {
  status: number;
  headers: OutgoingHttpHeaders;
  storedAt: number;
  expiresAt: number;
}

export class RedisResponseCache {
  private readonly r: ScriptedRedis;
  private readonly entryPrefix: string;
  private readonly index: string;
  private readonly sizes: string;
  private readonly bytesKey: string;
  /** Lookups and stores that Redis could not serve (treated as misses / not stored). */
  failures = 0;
  evictions = 0;

  constructor(
    private readonly link: RedisLink,
    prefix: string,
    private readonly maxBytes: number,
    private readonly maxEntries: number,
  ) {
    const r = link.client as ScriptedRedis;
    if (typeof (r as { headroomCacheStore?: unknown }).headroomCacheStore !== 'function') {
      r.defineCommand('headroomCacheStore', { numberOfKeys: 4, lua: STORE });
      r.defineCommand('headroomCacheClear', { numberOfKeys: 3, lua: CLEAR });
    }
    this.r = r;
    this.entryPrefix = `${prefix}cache:e:`;
    this.index = `${prefix}cache:index`;
    this.sizes = `${prefix}cache:sizes`;
    this.bytesKey = `${prefix}cache:bytes`;
  }

  /** A live entry, or undefined (absent, expired, or Redis unavailable). */
  async get(key: string, now: number): Promise<CachedResponse | undefined> {
    const raw = await this.link.run('response cache lookup', (c) => c.getBuffer(this.entryPrefix + key));
    if (raw === undefined) this.failures++;
    if (!raw || raw.length < 4) return undefined;
    const metaLength = raw.readUInt32BE(0);
    let meta: Meta;
    try {
      meta = JSON.parse(raw.subarray(4, 4 + metaLength).toString('utf8')) as Meta;
    } catch {
      return undefined;
    }
    if (now >= meta.expiresAt) return undefined;
    const body = raw.subarray(4 + metaLength);
    return { ...meta, body, size: raw.length, hits: 0 };
  }

  /** Stores an entry (in the background; a failure only means it is not shared). */
  set(key: string, e: CachedResponse): void {
    if (e.size > this.maxBytes) return;
    const meta = Buffer.from(JSON.stringify({ status: e.status, headers: e.headers, storedAt: e.storedAt, expiresAt: e.expiresAt } satisfies Meta), 'utf8');
    const head = Buffer.allocUnsafe(4);
    head.writeUInt32BE(meta.length, 0);
    const value = Buffer.concat([head, meta, e.body]);
    const ttl = Math.max(1, e.expiresAt - e.storedAt);
    void this.link
      .run('response cache store', () => this.r.headroomCacheStore(this.entryPrefix + key, this.index, this.sizes, this.bytesKey, value, ttl, e.size, this.maxEntries, this.maxBytes, key, this.entryPrefix))
      .then((n) => {
        if (n === undefined) this.failures++;
        else this.evictions += Number(n);
      });
  }

  /** Drops every shared entry; null when Redis could not be reached. */
  async clear(): Promise<{ entries: number; bytes: number } | null> {
    const r = await this.link.run('response cache clear', () => this.r.headroomCacheClear(this.index, this.sizes, this.bytesKey, this.entryPrefix));
    if (!r) return null;
    return { entries: Number(r[0]), bytes: Number(r[1]) };
  }

  /** Entries and bytes held fleet-wide (null when Redis could not say). */
  async size(): Promise<{ entries: number; bytes: number } | null> {
    const r = await this.link.run('response cache size', (c) => Promise.all([c.zcard(this.index), c.get(this.bytesKey)]));
    return r ? { entries: r[0], bytes: Number(r[1] ?? 0) } : null;
  }
}
