/**
 * Following a conversation's provider prompt cache from one request to the next (Anthropic,
 * where caching is explicit): what the previous request left in the cache, whether this one
 * read it back, and when it did not, why. The savings figures use it to price a
 * compression-caused cache bust; `/stats.prefix_cache` reports the misses.
 *
 * A conversation is the provider, API-key hash, project, stack, client, model,
 * `x-headroom-session-id` and, when the compression stage saw the body, a fingerprint of its
 * system prompt and first messages (so concurrent sub-agents of one client are told apart).
 * A request that continues the conversation (its prompt is at least the prefix the previous
 * request cached) is expected to read that prefix; reading less is a miss:
 * - `ttl_expiry`: the previous request is older than the TTL of the end of its cached prefix
 *   (5 minutes when it wrote 5-minute entries, 1 hour when it wrote only 1-hour ones);
 * - `prefix_change`: a partial read, or headroom-ts rewrote the request; a rewrite that is
 *   not a TTL expiry is a compression-caused bust, with tokens lost = expected - read;
 * - `unknown`: nothing was read although the TTL had not expired.
 *
 * Requests that made follow-up retrieval rounds are judged on their first round (the later
 * rounds read the same prefix again). State survives `/stats/reset` (it is not a counter).
 * One tracker per app, run as a funnel annotator: it sets `outcome.ext.cacheContinuity`.
 */
import type { RequestOutcome, TokenUsage } from '../../core/outcome.js';
import { type CacheContinuity, type CacheMissReason, NO_CONTINUITY } from '../../savings/continuity.js';

export { type CacheContinuity, NO_CONTINUITY };
export type MissReason = CacheMissReason;

interface Turn {
  cachedPrefix: number;
  at: number;
  ttlMs: number;
}

const FIVE_MIN = 5 * 60_000;
const ONE_HOUR = 60 * 60_000;
const MAX_CONVERSATIONS = 10_000;

export class CacheContinuityTracker {
  private readonly turns = new Map<string, Turn>();

  /** Records one outcome (once, in delivery order) and judges it against the conversation's previous request. */
  observe(o: RequestOutcome): CacheContinuity {
    const model = o.model ?? o.requestedModel ?? 'unknown';
    const rounds = o.ext.ccr?.roundUsage;
    const firstRound: TokenUsage | null = rounds && rounds.length > 1 ? (rounds[0] ?? null) : o.usage;
    if (o.provider !== 'anthropic' || !firstRound || !o.ok) return NO_CONTINUITY;
    const read = firstRound.cacheRead;
    const write = firstRound.cacheWrite;
    const conversation = o.ext.placement?.conversation ?? '';
    const key = [o.provider, o.apiKeyHash, o.project, o.stack, o.client, model, o.tags['session-id'] ?? '', conversation].join('\u0000');
    const prev = this.turns.get(key);
    let result: CacheContinuity = prev ? { ...NO_CONTINUITY, expected: prev.cachedPrefix } : NO_CONTINUITY;
    if (prev && prev.cachedPrefix > 0 && firstRound.input >= prev.cachedPrefix && read < prev.cachedPrefix) {
      const expired = o.startedAt - prev.at > prev.ttlMs;
      const rewritten = o.modified;
      const miss: MissReason = expired ? 'ttl_expiry' : rewritten || read > 0 ? 'prefix_change' : 'unknown';
      const bust = rewritten && !expired;
      result = { expected: prev.cachedPrefix, miss, compressionBust: bust, tokensLost: bust ? prev.cachedPrefix - read : 0 };
    }
    // the end of the cached prefix expires first: 5-minute entries when any were written
    const w5m = write - Math.min(firstRound.cacheWrite1h, write);
    const ttlMs = w5m > 0 ? FIVE_MIN : firstRound.cacheWrite1h > 0 ? ONE_HOUR : prev && read > 0 ? prev.ttlMs : FIVE_MIN;
    this.turns.delete(key);
    this.turns.set(key, { cachedPrefix: read + write, at: o.endedAt, ttlMs });
    if (this.turns.size > MAX_CONVERSATIONS) {
      const oldest = this.turns.keys().next().value;
      if (oldest !== undefined) this.turns.delete(oldest);
    }
    return result;
  }
}
