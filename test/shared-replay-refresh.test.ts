import { describe, expect, it } from 'vitest';
import { type SharedDecision, type SharedReplayBackend, SharedReplayStore } from '../src/compress/shared-replay.js';

/** A shared backend in memory that records every row it is sent. */
function backend(): SharedReplayBackend & { sent: SharedDecision[]; rows: Map<string, SharedDecision> } {
  const rows = new Map<string, SharedDecision>();
  const sent: SharedDecision[] = [];
  return {
    kind: 'postgres',
    where: 'memory',
    sent,
    rows,
    async fetch(keys, since) {
      return keys.flatMap((k) => {
        const r = rows.get(k);
        return r && r.lastUsed >= since ? [r] : [];
      });
    },
    async write(entries) {
      for (const e of entries) {
        sent.push({ ...e });
        const old = rows.get(e.key);
        rows.set(e.key, old ? { ...old, lastUsed: Math.max(old.lastUsed, e.lastUsed) } : { ...e });
      }
    },
    async purge() {},
  };
}

describe('the shared replay map refreshes last_used only when it moves by a tenth of the TTL', () => {
  it('uses every second for a minute send one refresh per tenth of the TTL, not one per flush', async () => {
    let t = 1_000_000;
    const b = backend();
    const store = new SharedReplayStore({ ttlMs: 100_000, maxBytes: 1 << 20, now: () => t }, b, 1);
    store.putMany([{ key: 'k1', compressed: 'short' }]);
    await store.durable();
    expect(b.sent).toHaveLength(1);
    for (let i = 0; i < 60; i++) {
      t += 1_000;
      expect(store.get('k1')).toEqual({ compressed: 'short' });
      store.flush();
      await store.drain();
    }
    // 60 s of uses with a 100 s TTL: refreshed at +10 s, +20 s, ... +60 s
    const refreshes = b.sent.slice(1);
    expect(refreshes.map((r) => r.lastUsed - 1_000_000)).toEqual([10_000, 20_000, 30_000, 40_000, 50_000, 60_000]);
    // what the backend holds never lags the last use by more than a tenth of the TTL
    expect(t - b.rows.get('k1')!.lastUsed).toBeLessThan(10_000);
    store.close();
  });

  it('a decision fetched from another instance counts as refreshed at the last_used it was fetched with', async () => {
    let t = 2_000_000;
    const b = backend();
    b.rows.set('k2', { key: 'k2', compressed: null, lastUsed: t - 5_000 });
    const store = new SharedReplayStore({ ttlMs: 100_000, maxBytes: 1 << 20, now: () => t }, b, 1);
    await store.prefetch(['k2']);
    expect(store.get('k2')).toEqual({ compressed: null });
    await store.drain();
    expect(b.sent).toHaveLength(0);
    t += 6_000;
    store.get('k2');
    await store.drain();
    expect(b.sent.map((r) => r.lastUsed)).toEqual([t]);
    store.close();
  });
});
