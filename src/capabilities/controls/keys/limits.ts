/**
 * Per-key rate limits (`rpm`, `tpm` of a `keys:` entry): the `virtual_key_rate_limit` stage
 * (order 112, after the global limiter) keeps one rate limiter per key that has limits, the
 * same token buckets and 429 replies (provider shape, `Retry-After`, `x-ratelimit-*`) as
 * `--rpm` / `--tpm`, and the controls sink settles it from each outcome.
 */
import type { RequestOutcome } from '../../../core/outcome.js';
import type { Exchange, ProxyStage, StageReply } from '../../proxy/api.js';
import type { RateLimitBackend } from '../rate-limit/backend.js';
import { RateLimiter } from '../rate-limit/limiter.js';
import { keyOf, type VirtualKeys } from './registry.js';

export class VirtualKeyLimits implements ProxyStage {
  readonly name = 'virtual_key_rate_limit';
  readonly order = 112;
  private readonly limiters = new Map<string, RateLimiter>();

  /**
   * `sharedBackend`: with a fleet Redis, each key's buckets live there (one per key name), so a
   * key's limits hold across every instance; else in this process.
   */
  constructor(keys: VirtualKeys, defaultMaxTokens: number, now: () => number, sharedBackend?: (name: string, rpm: number | null, tpm: number | null) => RateLimitBackend) {
    for (const k of keys.keys) {
      if (k.rpm === null && k.tpm === null) continue;
      // one limiter per key: its buckets are keyed by the presented key's hash, constant for the key
      const backend = sharedBackend?.(k.name, k.rpm, k.tpm);
      this.limiters.set(k.name, new RateLimiter({ rpm: k.rpm, tpm: k.tpm, by: 'key', defaultMaxTokens, now, ...(backend ? { backend } : {}) }));
    }
  }

  get size(): number {
    return this.limiters.size;
  }

  beforeUpstream(ex: Exchange): StageReply | undefined | Promise<StageReply | undefined> {
    const key = keyOf(ex);
    const limiter = key ? this.limiters.get(key.name) : undefined;
    if (!limiter) return;
    return limiter.beforeUpstream(ex);
  }

  settle(o: RequestOutcome): void {
    const name = o.ext.virtualKey;
    if (name) this.limiters.get(name)?.settle(o);
  }

  /** Refusals since start, per key. */
  rejected(name: string): number {
    const r = this.limiters.get(name)?.rejected;
    return r ? r.requests + r.tokens : 0;
  }
}
