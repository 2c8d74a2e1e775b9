/** Helpers for compression tests. */
import { contentHash } from '../../src/compress/hash.js';
import { parseQuery } from '../../src/compress/lexical.js';
import type { TransformContext } from '../../src/compress/types.js';

export function tctx(query = '', opts: Partial<TransformContext> = {}): TransformContext {
  return { query: parseQuery(query), targetRatio: null, maxItems: 15, hash: contentHash(query || 'test'), expired: () => false, ...opts };
}

/** Deterministic pseudo-random numbers for fixtures. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
