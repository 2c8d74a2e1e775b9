/**
 * Count, sum, min and max of a timing series since start (or /stats/reset), plus percentiles
 * over the most recent `capacity` samples (a ring buffer; sorted only when read).
 */
import { round2 } from '../../../util/round.js';


export class SampleStats {
  count = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = 0;
  private readonly ring: Float64Array;
  private next = 0;
  private filled = 0;

  constructor(readonly capacity = 2048) {
    this.ring = new Float64Array(capacity);
  }

  reset(): void {
    this.count = 0;
    this.sum = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = 0;
    this.next = 0;
    this.filled = 0;
  }

  add(v: number): void {
    if (!Number.isFinite(v) || v < 0) return;
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    this.ring[this.next] = v;
    this.next = (this.next + 1) % this.capacity;
    if (this.filled < this.capacity) this.filled++;
  }

  get average(): number {
    return this.count ? this.sum / this.count : 0;
  }

  /** Nearest-rank percentiles over the recent window; 0 when empty. */
  percentiles(ps: readonly number[]): number[] {
    if (this.filled === 0) return ps.map(() => 0);
    const sorted = Float64Array.from(this.ring.subarray(0, this.filled)).sort();
    return ps.map((p) => sorted[Math.min(this.filled - 1, Math.max(0, Math.ceil((p / 100) * this.filled) - 1))] ?? 0);
  }

  /** `/stats` shape: average/min/max (0 when no samples) plus p50/p90/p99 and the window size. */
  summary(): { average_ms: number; min_ms: number; max_ms: number; p50_ms: number; p90_ms: number; p99_ms: number; samples: number; percentile_window: number } {
    const [p50, p90, p99] = this.percentiles([50, 90, 99]);
    return {
      average_ms: round2(this.average),
      min_ms: this.count ? round2(this.min) : 0,
      max_ms: round2(this.max),
      p50_ms: round2(p50 ?? 0),
      p90_ms: round2(p90 ?? 0),
      p99_ms: round2(p99 ?? 0),
      samples: this.count,
      percentile_window: this.filled,
    };
  }
}

/** Sum, count and max per key (transform timings, stage timings). */
export class KeyedTimings {
  readonly byKey = new Map<string, { sum: number; count: number; max: number }>();

  constructor(private readonly maxKeys = 256) {}

  add(key: string, ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    let e = this.byKey.get(key);
    if (!e) {
      if (this.byKey.size >= this.maxKeys) key = 'other';
      e = this.byKey.get(key);
      if (!e) {
        e = { sum: 0, count: 0, max: 0 };
        this.byKey.set(key, e);
      }
    }
    e.sum += ms;
    e.count++;
    if (ms > e.max) e.max = ms;
  }
}
