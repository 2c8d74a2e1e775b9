/**
 * Token buckets keyed by caller: capacity = the per-minute rate, refilled continuously
 * (rate / 60 per second), starting full. A bucket that has refilled to capacity is the same
 * as a new one, so idle buckets are dropped without losing anything.
 */

interface Bucket {
  tokens: number;
  at: number;
}

export interface BucketState {
  /** Whole tokens available now (0 when in debt). */
  remaining: number;
  /** Milliseconds until the bucket is full again. */
  resetMs: number;
}

const PRUNE_ABOVE = 1000;
const PRUNE_EVERY_MS = 10_000;

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;
  private lastPrune = 0;

  constructor(readonly perMinute: number) {
    this.perMs = perMinute / 60_000;
  }

  private level(b: Bucket, now: number): number {
    return Math.min(this.perMinute, b.tokens + Math.max(0, now - b.at) * this.perMs);
  }

  /** Tokens available to `key` now. */
  available(key: string, now: number): number {
    const b = this.buckets.get(key);
    return b ? this.level(b, now) : this.perMinute;
  }

  /** Milliseconds until `key` has `n` tokens (0 when it has them now). */
  waitFor(key: string, n: number, now: number): number {
    const need = Math.min(n, this.perMinute) - this.available(key, now);
    return need <= 0 ? 0 : Math.ceil(need / this.perMs);
  }

  /**
   * Takes `n` tokens if the bucket holds `min(n, capacity)`: a request larger than the whole
   * bucket waits for a full bucket and leaves it in debt, rather than never passing.
   */
  tryTake(key: string, n: number, now: number): boolean {
    const level = this.available(key, now);
    if (level < Math.min(n, this.perMinute)) return false;
    this.set(key, level - n, now);
    return true;
  }

  /** Adds (or with a negative `n`, removes) tokens: the correction once actual usage is known. */
  adjust(key: string, n: number, now: number): void {
    if (n === 0) return;
    this.set(key, this.available(key, now) + n, now);
  }

  state(key: string, now: number): BucketState {
    const level = this.available(key, now);
    return { remaining: Math.max(0, Math.floor(level)), resetMs: Math.ceil((this.perMinute - level) / this.perMs) };
  }

  private set(key: string, tokens: number, now: number): void {
    const b = this.buckets.get(key);
    if (b) {
      b.tokens = Math.min(this.perMinute, tokens);
      b.at = now;
    } else {
      this.buckets.set(key, { tokens: Math.min(this.perMinute, tokens), at: now });
      if (this.buckets.size > PRUNE_ABOVE && now - this.lastPrune >= PRUNE_EVERY_MS) this.prune(now);
    }
  }

  /** Drops buckets that have refilled (they equal new ones). */
  prune(now: number): void {
    this.lastPrune = now;
    for (const [k, b] of this.buckets) if (this.level(b, now) >= this.perMinute) this.buckets.delete(k);
  }

  /** Callers whose bucket is not full. */
  active(now: number): number {
    this.prune(now);
    return this.buckets.size;
  }

  clear(): void {
    this.buckets.clear();
  }
}
