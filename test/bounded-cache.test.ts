/** The shared bounded cache (src/util/bounded-cache.ts): bounds, recency, eviction reports, expiry from the old end. */
import { describe, expect, it } from 'vitest';
import { BoundedCache } from '../src/util/bounded-cache.js';

interface E { bytes: number; t: number }
const make = (maxBytes: number, maxEntries?: number) => {
  const evicted: string[] = [];
  const c = new BoundedCache<E>({ maxBytes, ...(maxEntries ? { maxEntries } : {}), size: (e) => e.bytes, onEvict: (_e, k) => void evicted.push(k) });
  return { c, evicted };
};

describe('BoundedCache', () => {
  it('evicts the least recently used beyond the byte bound, reporting only evictions', () => {
    const { c, evicted } = make(100);
    c.set('a', { bytes: 40, t: 0 });
    c.set('b', { bytes: 40, t: 0 });
    expect(c.get('a')).toBeDefined(); // a is now the most recently used
    c.set('c', { bytes: 40, t: 0 });
    expect(evicted).toEqual(['b']);
    expect(c.bytes).toBe(80);
    c.delete('a');
    c.set('c', { bytes: 10, t: 0 }); // replaced, not evicted
    expect(evicted).toEqual(['b']);
    expect(c.bytes).toBe(10);
  });

  it('evicts beyond the entry bound; peek leaves recency alone', () => {
    const { c, evicted } = make(1e6, 2);
    c.set('a', { bytes: 1, t: 0 });
    c.set('b', { bytes: 1, t: 0 });
    c.peek('a');
    c.set('c', { bytes: 1, t: 0 });
    expect(evicted).toEqual(['a']);
    expect([...c.keys()]).toEqual(['c', 'b']);
  });

  it('refuses an entry larger than the whole bound and keeps the others', () => {
    const { c, evicted } = make(100);
    c.set('a', { bytes: 60, t: 0 });
    expect(c.set('big', { bytes: 101, t: 0 })).toBe(false);
    expect(c.has('big')).toBe(false);
    expect(c.has('a')).toBe(true);
    expect(evicted).toEqual([]);
  });

  it('expireOldest drops expired entries from the old end and stops at the first live one', () => {
    const { c, evicted } = make(1e6);
    for (const [k, t] of [['a', 1], ['b', 2], ['c', 9], ['d', 3]] as const) c.set(k, { bytes: 1, t });
    const gone: string[] = [];
    expect(c.expireOldest((e) => e.t < 5, (_e, k) => gone.push(k))).toBe(2);
    expect(gone).toEqual(['a', 'b']);
    expect(c.oldestFirst().map(([k]) => k)).toEqual(['c', 'd']); // d is expired but newer than a live entry
    expect(evicted).toEqual([]);
  });
});
