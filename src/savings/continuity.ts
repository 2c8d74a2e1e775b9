/**
 * What a conversation's provider prompt cache did on one request, judged against the
 * conversation's previous request: the shape the savings formula prices a compression-caused
 * cache bust from (the proxy's accounting follows conversations and fills it; the SDK has
 * none: `NO_CONTINUITY`).
 */
export type CacheMissReason = 'ttl_expiry' | 'prefix_change' | 'unknown';

/** A request judged against its conversation's previous request (the accounting capability's continuity tracker). */
export interface CacheContinuity {
  /** Prompt tokens the conversation's previous request left in the cache (read + written); null when there is no previous request. */
  expected: number | null;
  miss: CacheMissReason | null;
  /** The miss was caused by headroom-ts rewriting the request. */
  compressionBust: boolean;
  /** Cached tokens the bust made the provider write again (expected - read). */
  tokensLost: number;
}

export const NO_CONTINUITY: CacheContinuity = { expected: null, miss: null, compressionBust: false, tokensLost: 0 };
