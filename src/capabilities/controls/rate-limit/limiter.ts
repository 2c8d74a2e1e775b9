/**
 * The rate limiter stage: requests per minute and tokens per minute per caller (API-key hash,
 * client IP, or both), as token buckets. A request takes one request token and its estimated
 * input tokens on arrival; when its outcome arrives the token bucket is corrected to what the
 * provider reported (input + output; nothing for a cache hit or a failed request).
 * Refused requests get 429 in the provider's error shape with `Retry-After`, `retry-after-ms`
 * and OpenAI-style `x-ratelimit-*` headers; the official SDKs wait that long and retry.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { Exchange, ProxyStage, StageReply } from '../../proxy/api.js';
import type { RequestOutcome } from '../../../core/outcome.js';
import { estimateOf, isMetered } from '../request.js';
import type { BucketState, TokenBuckets } from './buckets.js';
import { LocalBuckets, type RateLimitBackend, type TakeResult } from './backend.js';
import { round3 } from '../../../util/round.js';

export type RateLimitBy = 'key' | 'ip' | 'key_ip';

export interface RateLimiterOptions {
  rpm: number | null;
  tpm: number | null;
  by: RateLimitBy;
  defaultMaxTokens: number;
  now?: () => number;
  /** Where the buckets live (default: this process). */
  backend?: RateLimitBackend;
  /** Headers added to refusals (e.g. the budget status). */
  extraHeaders?: (ex: Exchange) => OutgoingHttpHeaders;
}

/** Go-style duration, as OpenAI's `x-ratelimit-reset-*` headers use (`20ms`, `1.5s`, `6m0s`). */
export function resetText(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.ceil(ms))}ms`;
  const s = ms / 1000;
  if (s < 60) return `${round3(s)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${Math.round(s - m * 60)}s`;
}

export class RateLimiter implements ProxyStage {
  readonly name = 'rate_limit';
  readonly order = 110;
  readonly backend: RateLimitBackend;
  /** The in-process buckets (null when the buckets are shared in Redis, or that limit is off). */
  readonly requests: TokenBuckets | null;
  readonly tokens: TokenBuckets | null;
  /** Refusals since start, by the limit that refused. */
  readonly rejected = { requests: 0, tokens: 0 };
  private readonly charged = new Map<string, { key: string; tokens: number }>();
  private readonly now: () => number;

  constructor(private readonly opts: RateLimiterOptions) {
    this.backend = opts.backend ?? new LocalBuckets(opts.rpm, opts.tpm);
    this.requests = this.backend instanceof LocalBuckets ? this.backend.requests : null;
    this.tokens = this.backend instanceof LocalBuckets ? this.backend.tokens : null;
    this.now = opts.now ?? Date.now;
  }

  callerKey(ex: Exchange): string {
    const ip = ex.req.socket.remoteAddress ?? 'unknown';
    const key = ex.info.apiKeyHash;
    switch (this.opts.by) {
      case 'ip':
        return `ip:${ip}`;
      case 'key_ip':
        return `${key ?? '-'}@${ip}`;
      default:
        return key ? `key:${key}` : `ip:${ip}`;
    }
  }

  beforeUpstream(ex: Exchange): StageReply | undefined | Promise<StageReply | undefined> {
    if (!isMetered(ex)) return;
    const now = this.now();
    const key = this.callerKey(ex);
    const need = this.opts.tpm ? estimateOf(ex, this.opts.defaultMaxTokens).inputTokens : 0;
    const r = this.backend.take(key, need, now);
    // the in-process buckets decide synchronously (no promise on the request path)
    return r instanceof Promise ? r.then((t) => this.decided(ex, key, need, t)) : this.decided(ex, key, need, r);
  }

  private decided(ex: Exchange, key: string, need: number, t: TakeResult): StageReply | undefined {
    if (t.waitRequests > 0 || t.waitTokens > 0) return this.refuse(ex, key, t, need);
    if (this.opts.tpm) this.charged.set(ex.id, { key, tokens: need });
    return;
  }

  private refuse(ex: Exchange, key: string, t: TakeResult, need: number): StageReply {
    const { waitRequests, waitTokens } = t;
    const byTokens = waitTokens > waitRequests;
    if (byTokens) this.rejected.tokens++;
    else this.rejected.requests++;
    const wait = Math.max(waitRequests, waitTokens);
    const who = key.startsWith('ip:') ? 'this client address' : key.startsWith('key:') ? 'this API key' : 'this API key and client address';
    const limit = byTokens
      ? `${this.opts.tpm} tokens per minute (this request needs about ${need})`
      : `${this.opts.rpm} requests per minute`;
    const message = `Rate limit exceeded for ${who}: ${limit}. Retry after ${(wait / 1000).toFixed(1)} s.`;
    const headers: OutgoingHttpHeaders = {
      ...this.opts.extraHeaders?.(ex),
      'retry-after': String(Math.max(1, Math.ceil(wait / 1000))),
      'retry-after-ms': String(wait),
      ...this.limitHeaders(t.requests, t.tokens),
    };
    return { status: 429, headers, body: ex.route.errors.errorBody(429, 'rate_limited', message), errorType: 'rate_limited', errorMessage: message };
  }

  limitHeaders(requests: BucketState | null, tokens: BucketState | null): OutgoingHttpHeaders {
    const h: OutgoingHttpHeaders = {};
    if (requests) {
      h['x-ratelimit-limit-requests'] = String(this.opts.rpm);
      h['x-ratelimit-remaining-requests'] = String(requests.remaining);
      h['x-ratelimit-reset-requests'] = resetText(requests.resetMs);
    }
    if (tokens) {
      h['x-ratelimit-limit-tokens'] = String(this.opts.tpm);
      h['x-ratelimit-remaining-tokens'] = String(tokens.remaining);
      h['x-ratelimit-reset-tokens'] = resetText(tokens.resetMs);
    }
    return h;
  }

  /** Corrects the token bucket to the tokens the provider reported. */
  settle(o: RequestOutcome): void {
    const c = this.charged.get(o.requestId);
    if (!c) return;
    this.charged.delete(o.requestId);
    const actual = o.usage ? o.usage.input + o.usage.output : 0;
    this.backend.adjust(c.key, c.tokens - actual, this.now());
  }

  statsBlock(): Record<string, unknown> {
    const now = this.now();
    const active = this.backend.active(now);
    return {
      requests_per_minute: this.opts.rpm,
      tokens_per_minute: this.opts.tpm,
      active_keys: active,
      limited_by: this.opts.by,
      rejected: { ...this.rejected, total: this.rejected.requests + this.rejected.tokens },
      ...this.backend.describe?.(),
    };
  }
}
