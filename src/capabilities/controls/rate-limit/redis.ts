/**
 * Rate-limit buckets in the fleet's Redis: the same token buckets as `buckets.ts` (capacity =
 * the per-minute rate, refilled continuously, starting full), decided by one Lua script per
 * request so that check-and-take is atomic across every instance, on Redis's clock (instances'
 * clocks may differ). A bucket key expires once it would have refilled. Redis unreachable,
 * slow or failing: the request is let through (fail open) and the failure counted.
 */
import type { Redis } from 'ioredis';
import type { RedisLink } from '../../fleet/api.js';
import type { BucketState } from './buckets.js';
import type { RateLimitBackend, TakeResult } from './backend.js';

const LEVEL = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function level(key, cap)
  local v = redis.call('HMGET', key, 'tokens', 'at')
  if not v[1] then return cap end
  local lv = tonumber(v[1]) + math.max(0, now - tonumber(v[2])) * cap / 60000
  if lv > cap then lv = cap end
  return lv
end
local function save(key, cap, tokens)
  redis.call('HSET', key, 'tokens', tostring(tokens), 'at', now)
  redis.call('PEXPIRE', key, math.ceil((cap - tokens) * 60000 / cap) + 1000)
end
`;

/** KEYS: request bucket, token bucket. ARGV: rpm (0 = off), tpm (0 = off), tokens needed. */
const TAKE = `${LEVEL}
local rpm = tonumber(ARGV[1])
local tpm = tonumber(ARGV[2])
local need = tonumber(ARGV[3])
local rl, tl, wr, wt = 0, 0, 0, 0
if rpm > 0 then
  rl = level(KEYS[1], rpm)
  if rl < 1 then wr = math.ceil((1 - rl) * 60000 / rpm) end
end
if tpm > 0 then
  tl = level(KEYS[2], tpm)
  local n = math.min(need, tpm)
  if tl < n then wt = math.ceil((n - tl) * 60000 / tpm) end
end
if wr == 0 and wt == 0 then
  if rpm > 0 then rl = rl - 1; save(KEYS[1], rpm, rl) end
  if tpm > 0 then tl = tl - need; save(KEYS[2], tpm, tl) end
end
return {wr, wt, tostring(rl), tostring(tl)}
`;

/** KEYS: token bucket. ARGV: tpm, tokens to add (negative: take). */
const ADJUST = `${LEVEL}
local cap = tonumber(ARGV[1])
local lv = level(KEYS[1], cap) + tonumber(ARGV[2])
if lv > cap then lv = cap end
save(KEYS[1], cap, lv)
return tostring(lv)
`;

type ScriptedRedis = Redis & {
  headroomTake(req: string, tok: string, rpm: number, tpm: number, need: number): Promise<[number, number, string, string]>;
  headroomAdjust(tok: string, tpm: number, n: number): Promise<string>;
};

const ACTIVE_WINDOW_MS = 60_000;

export class RedisBuckets implements RateLimitBackend {
  private readonly r: ScriptedRedis;
  private readonly seen = new Map<string, number>();
  /** Requests let through because Redis could not decide. */
  failedOpen = 0;

  constructor(
    private readonly link: RedisLink,
    private readonly prefix: string,
    private readonly rpm: number | null,
    private readonly tpm: number | null,
  ) {
    const r = link.client as ScriptedRedis;
    if (typeof (r as { headroomTake?: unknown }).headroomTake !== 'function') {
      r.defineCommand('headroomTake', { numberOfKeys: 2, lua: TAKE });
      r.defineCommand('headroomAdjust', { numberOfKeys: 1, lua: ADJUST });
    }
    this.r = r;
  }

  /** Both buckets of one caller share a hash slot (`{...}`), as a script's keys must in a cluster. */
  private keys(key: string): [string, string] {
    return [`${this.prefix}rl:{${key}}:r`, `${this.prefix}rl:{${key}}:t`];
  }

  private state(level: number, cap: number | null): BucketState | null {
    if (!cap) return null;
    return { remaining: Math.max(0, Math.floor(level)), resetMs: Math.max(0, Math.ceil(((cap - level) * 60_000) / cap)) };
  }

  async take(key: string, need: number, now: number): Promise<TakeResult> {
    this.seen.set(key, now);
    const [rk, tk] = this.keys(key);
    const res = await this.link.run('rate limit', () => this.r.headroomTake(rk, tk, this.rpm ?? 0, this.tpm ?? 0, need));
    if (!res) {
      this.failedOpen++;
      return { waitRequests: 0, waitTokens: 0, requests: null, tokens: null };
    }
    return { waitRequests: Number(res[0]), waitTokens: Number(res[1]), requests: this.state(Number(res[2]), this.rpm), tokens: this.state(Number(res[3]), this.tpm) };
  }

  adjust(key: string, n: number): void {
    if (n === 0 || !this.tpm) return;
    const [, tk] = this.keys(key);
    void this.link.run('rate limit correction', () => this.r.headroomAdjust(tk, this.tpm!, n));
  }

  describe(): Record<string, unknown> {
    return { shared: 'redis', failed_open: this.failedOpen };
  }

  active(now: number): number {
    for (const [k, at] of this.seen) if (now - at > ACTIVE_WINDOW_MS) this.seen.delete(k);
    return this.seen.size;
  }
}
