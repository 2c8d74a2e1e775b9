// The shared bounded cache (dist/util/bounded-cache.js, on lru-cache) against a plain Map kept
// in least-recently-used order (what the three caches did before), side by side in one run:
// a replay-map-like load of 90% reads (each read made the most recently used), 10% writes,
// over more keys than the byte bound holds. Reports operations per second and the ratio.
import { BoundedCache } from '../dist/util/bounded-cache.js';

const KEYS = 200_000;
const OPS = 2_000_000;
const MAX_BYTES = 100_000 * 200;
const keys = Array.from({ length: KEYS }, (_, i) => `k${i.toString(16).padStart(24, '0')}`);

class MapLru {
  map = new Map();
  bytes = 0;
  get(k) {
    const e = this.map.get(k);
    if (!e) return undefined;
    this.map.delete(k);
    this.map.set(k, e);
    return e;
  }
  set(k, e) {
    const old = this.map.get(k);
    if (old) { this.map.delete(k); this.bytes -= old.bytes; }
    this.map.set(k, e);
    this.bytes += e.bytes;
    for (const [key, v] of this.map) {
      if (this.bytes <= MAX_BYTES) break;
      this.map.delete(key);
      this.bytes -= v.bytes;
    }
  }
}

function run(cache) {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const t0 = performance.now();
  let hits = 0;
  for (let i = 0; i < OPS; i++) {
    const k = keys[Math.floor(rnd() ** 2 * KEYS)];
    if (rnd() < 0.9) { if (cache.get(k)) hits++; } else cache.set(k, { bytes: 200, lastUsed: i });
  }
  const ms = performance.now() - t0;
  return { opsPerSec: Math.round(OPS / (ms / 1000)), hits };
}

const results = {};
for (let round = 0; round < 3; round++) {
  for (const [name, make] of [['map', () => new MapLru()], ['bounded', () => new BoundedCache({ maxBytes: MAX_BYTES, size: (e) => e.bytes })]]) {
    const r = run(make());
    (results[name] ??= []).push(r.opsPerSec);
  }
}
const best = (xs) => Math.max(...xs);
console.log(JSON.stringify({ map_ops_per_sec: best(results.map), bounded_ops_per_sec: best(results.bounded), ratio_bounded_to_map: +(best(results.bounded) / best(results.map)).toFixed(2) }));
