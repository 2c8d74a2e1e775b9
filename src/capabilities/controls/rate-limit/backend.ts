/**
 * Where the rate limiter keeps its buckets, behind one small interface: in this process
 * (`LocalBuckets`, the default) or in the fleet's Redis (`redis.ts`), where every instance
 * takes from the same buckets atomically. A request takes one request token and its estimated
 * input tokens at once, or nothing.
 */
import { type BucketState, TokenBuckets } from './buckets.js';

export interface TakeResult {
  /** Milliseconds until the request bucket / token bucket could serve it; both 0: it was taken. */
  waitRequests: number;
  waitTokens: number;
  /** The buckets after the decision, for the `x-ratelimit-*` headers (null: that limit is off or unknown). */
  requests: BucketState | null;
  tokens: BucketState | null;
}

export interface RateLimitBackend {
  /** Takes 1 request token and `tokens` tokens for `key` when both buckets have them; otherwise takes nothing. */
  take(key: string, tokens: number, now: number): TakeResult | Promise<TakeResult>;
  /** Gives back (or with a negative `n`, takes) tokens: the correction once actual usage is known. */
  adjust(key: string, n: number, now: number): void;
  /** Callers with a bucket that is not full (as far as this instance knows). */
  active(now: number): number;
  /** Where the buckets live, for `/stats` (e.g. the requests let through while Redis failed). */
  describe?(): Record<string, unknown>;
}

export class LocalBuckets implements RateLimitBackend {
  readonly requests: TokenBuckets | null;
  readonly tokens: TokenBuckets | null;

  constructor(rpm: number | null, tpm: number | null) {
    this.requests = rpm ? new TokenBuckets(rpm) : null;
    this.tokens = tpm ? new TokenBuckets(tpm) : null;
  }

  take(key: string, need: number, now: number): TakeResult {
    const waitRequests = this.requests ? this.requests.waitFor(key, 1, now) : 0;
    const waitTokens = this.tokens ? this.tokens.waitFor(key, need, now) : 0;
    if (waitRequests === 0 && waitTokens === 0) {
      this.requests?.tryTake(key, 1, now);
      this.tokens?.tryTake(key, need, now);
    }
    return { waitRequests, waitTokens, requests: this.requests?.state(key, now) ?? null, tokens: this.tokens?.state(key, now) ?? null };
  }

  adjust(key: string, n: number, now: number): void {
    this.tokens?.adjust(key, n, now);
  }

  active(now: number): number {
    return Math.max(this.requests?.active(now) ?? 0, this.tokens?.active(now) ?? 0);
  }
}
