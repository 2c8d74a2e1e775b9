/**
 * Rate-limit buckets in the fleet's Redis: the same token buckets as `buckets.ts` (capacity =
 * the per-minute rate, refilled continuously, starting full), decided by a Lua script
 * (`redis-script.ts`) so that check-and-take is atomic across every instance, on Redis's clock
 * (instances' clocks may differ). A bucket key expires once it would have refilled.
 *
 * Allowances: far from the limit an instance does not call Redis for every request. A call
 * takes several tokens at once (at most 1/16 of the bucket's level, sized to this instance's
 * demand for the caller over the last `DEMAND_WINDOW_MS`, at most `MAX_WANT` requests) and the
 * following requests spend them here without a round trip, for at most `ALLOWANCE_MS`. Below
 * a level of 32 a grant is 1 token: every request is one exact script call, as without
 * allowances. What an allowance leaves unspent is given back (capped at capacity), and the
 * tpm corrections after responses are summed per caller; both go to Redis with the next call
 * for that caller, or with the sweep, one pipeline for every caller that owes something.
 * So the buckets never admit more than they hold; a request may be refused while other
 * instances hold allowances (each at most 1/16 of the level when granted, for at most
 * `ALLOWANCE_MS`), and a correction reaches Redis up to one sweep later.
 *
 * The `x-ratelimit-*` states of a request served here come from the last levels Redis
 * returned, plus the refill since, minus what this instance spent since (other instances'
 * spending since is not seen). Refusals always come from a script call, with Redis's levels.
 *
 * Redis unreachable, slow or failing: the request is let through (fail open) and counted; an
 * allowance already held is still spent while fresh. What is owed back is kept while Redis
 * is not connected (nothing was sent) and dropped when a sent call failed (it may have been
 * applied: dropping errs on the strict side).
 */
import type { Redis } from 'ioredis';
import type { RedisLink } from '../../fleet/api.js';
import type { BucketState } from './buckets.js';
import type { RateLimitBackend, TakeResult } from './backend.js';
import { Allowance, ALLOWANCE_MS, type Levels } from './allowance.js';
import { TAKE } from './redis-script.js';

type TakeReply = [number, number, string, string, number, string];

type ScriptedRedis = Redis & {
  headroomRateLimit(req: string, tok: string, rpm: number, tpm: number, need: number, take: number, wantR: number, wantT: number, backR: number, backT: number): Promise<TakeReply>;
};

const ACTIVE_WINDOW_MS = 60_000;
/** How often expired allowances and owed corrections are sent back. */
const SWEEP_MS = ALLOWANCE_MS / 2;

export interface RedisBucketsOptions {
  /** This instance's clock for allowance lifetimes (default `Date.now`); Redis decides on its own. */
  clock?: () => number;
}

const OPEN: TakeResult = { waitRequests: 0, waitTokens: 0, requests: null, tokens: null };

export class RedisBuckets implements RateLimitBackend {
  private readonly r: ScriptedRedis;
  private readonly seen = new Map<string, number>();
  private readonly allowances = new Map<string, Allowance>();
  private sweeper: NodeJS.Timeout | null = null;
  private readonly clock: () => number;
  /** Requests let through because Redis could not decide. */
  failedOpen = 0;
  /** Script calls sent (takes and give-backs), and requests served from a local allowance. */
  calls = 0;
  servedLocally = 0;

  constructor(
    private readonly link: RedisLink,
    private readonly prefix: string,
    private readonly rpm: number | null,
    private readonly tpm: number | null,
    opts: RedisBucketsOptions = {},
  ) {
    const r = link.client as ScriptedRedis;
    if (typeof (r as { headroomRateLimit?: unknown }).headroomRateLimit !== 'function') {
      r.defineCommand('headroomRateLimit', { numberOfKeys: 2, lua: TAKE });
    }
    this.r = r;
    this.clock = opts.clock ?? Date.now;
  }

  /** Both buckets of one caller share a hash slot (`{...}`), as a script's keys must in a cluster. */
  private keys(key: string): [string, string] {
    return [`${this.prefix}rl:{${key}}:r`, `${this.prefix}rl:{${key}}:t`];
  }

  private state(level: number, cap: number | null): BucketState | null {
    if (!cap) return null;
    return { remaining: Math.max(0, Math.floor(level)), resetMs: Math.max(0, Math.ceil(((cap - level) * 60_000) / cap)) };
  }

  /** Redis's last levels, refilled since, minus what was spent here since. */
  private localStates(a: Allowance, now: number): TakeResult {
    const l = a.levels;
    if (!l) return OPEN;
    const refill = (cap: number) => (Math.max(0, now - l.at) * cap) / 60_000;
    const rl = this.rpm ? Math.min(this.rpm, l.requests + refill(this.rpm)) - a.spentRequests : 0;
    const tl = this.tpm ? Math.min(this.tpm, l.tokens + refill(this.tpm)) - a.spentTokens : 0;
    return { waitRequests: 0, waitTokens: 0, requests: this.state(rl, this.rpm), tokens: this.state(tl, this.tpm) };
  }

  private allowance(key: string): Allowance {
    let a = this.allowances.get(key);
    if (!a) {
      a = new Allowance();
      this.allowances.set(key, a);
      if (!this.sweeper) {
        this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
        this.sweeper.unref();
      }
    }
    return a;
  }

  take(key: string, need: number, now: number): TakeResult | Promise<TakeResult> {
    this.seen.set(key, now);
    const t = this.clock();
    const a = this.allowance(key);
    a.note(t, need);
    const local = this.spendLocal(a, t, need);
    if (local) return local;
    // a grant of several tokens is on its way: wait for it rather than asking again
    if (a.inflight) return a.inflight.then(() => this.spendLocal(a, this.clock(), need) ?? this.call(key, a, need));
    return this.call(key, a, need);
  }

  private spendLocal(a: Allowance, now: number, need: number): TakeResult | null {
    if (!a.spend(now, need, !!this.rpm, !!this.tpm)) return null;
    this.servedLocally++;
    return this.localStates(a, now);
  }

  private call(key: string, a: Allowance, need: number): Promise<TakeResult> {
    const now = this.clock();
    const want = a.want(now, need);
    const back = a.detach();
    const p = this.send(key, a, need, want, back);
    if (want.requests > 1 || want.tokens > need) {
      a.inflight = p;
      void p.then(() => {
        if (a.inflight === p) a.inflight = null;
      });
    }
    return p;
  }

  private async send(key: string, a: Allowance, need: number, want: { requests: number; tokens: number }, back: { requests: number; tokens: number }): Promise<TakeResult> {
    const [rk, tk] = this.keys(key);
    const sent = this.link.connected;
    if (sent) this.calls++;
    const res = await this.link.run('rate limit', () =>
      this.r.headroomRateLimit(rk, tk, this.rpm ?? 0, this.tpm ?? 0, need, 1, want.requests, want.tokens, back.requests, back.tokens),
    );
    if (!res) {
      // never sent: still owed; sent and failed: it may have been applied, so it is not sent again
      if (!sent) a.restore(back);
      this.failedOpen++;
      return OPEN;
    }
    const levels: Levels = { requests: Number(res[2]), tokens: Number(res[3]), at: this.clock() };
    const waitRequests = Number(res[0]);
    const waitTokens = Number(res[1]);
    if (waitRequests > 0 || waitTokens > 0) {
      a.refused(levels);
      return { waitRequests, waitTokens, requests: this.state(levels.requests, this.rpm), tokens: this.state(levels.tokens, this.tpm) };
    }
    a.grant(levels, Number(res[4]), Number(res[5]), need, !!this.rpm, !!this.tpm);
    return this.localStates(a, levels.at);
  }

  adjust(key: string, n: number): void {
    if (n === 0 || !this.tpm) return;
    // summed per caller, sent with its next call or the next sweep
    this.allowance(key).owedTokens += n;
  }

  /** Gives back expired allowances and owed corrections: one pipeline for every caller that owes. */
  sweep(): Promise<void> {
    const now = this.clock();
    const owing: Array<[string, Allowance]> = [];
    for (const [key, a] of this.allowances) {
      if (a.expiresAt !== 0 && now >= a.expiresAt) a.release();
      if (a.owes) owing.push([key, a]);
      else if (a.idle(now)) this.allowances.delete(key);
    }
    if (this.allowances.size === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
    // the sweep is not a request: while Redis is away nothing is sent, counted or lost
    if (!owing.length || !this.link.connected) return Promise.resolve();
    const backs = owing.map(([key, a]) => ({ key, back: a.detach() }));
    this.calls += backs.length;
    return this.link
      .run('rate limit give-back', (c) => {
        const pipe = c.pipeline() as ReturnType<Redis['pipeline']> & { headroomRateLimit(...args: unknown[]): unknown };
        for (const { key, back } of backs) {
          const [rk, tk] = this.keys(key);
          pipe.headroomRateLimit(rk, tk, this.rpm ?? 0, this.tpm ?? 0, 0, 0, 0, 0, back.requests, back.tokens);
        }
        return pipe.exec();
      })
      .then(() => undefined);
  }

  describe(): Record<string, unknown> {
    return { shared: 'redis', failed_open: this.failedOpen, redis_calls: this.calls, served_from_allowance: this.servedLocally };
  }

  active(now: number): number {
    for (const [k, at] of this.seen) if (now - at > ACTIVE_WINDOW_MS) this.seen.delete(k);
    return this.seen.size;
  }

  /** Stops the sweep (what is still owed is left to the buckets' refill). */
  close(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }
}
