/**
 * Bounded attribute values: at most `cap` distinct values per attribute (later ones become
 * `other`), each at most `maxLength` characters. Assignments never change once made, so a
 * series never moves between labels.
 */
export class BoundedValues {
  private readonly labels = new Map<string, string>();
  private readonly distinct = new Set<string>();

  constructor(
    readonly cap: number,
    readonly maxLength = 128,
    readonly overflow = 'other',
  ) {}

  value(raw: string | null | undefined): string {
    const v = raw === null || raw === undefined || raw === '' ? 'unknown' : raw;
    const hit = this.labels.get(v);
    if (hit !== undefined) return hit;
    const label = v.length > this.maxLength ? v.slice(0, this.maxLength) : v;
    if (this.distinct.has(label) || this.distinct.size < this.cap) {
      this.distinct.add(label);
      // raw spellings that truncate to a known label are remembered only up to a bound
      if (this.labels.size < this.cap * 4) this.labels.set(v, label);
      return label;
    }
    return this.overflow;
  }

  get size(): number {
    return this.distinct.size;
  }
}

/** Caps of the attribute values headroom-ts puts on OTEL metrics (as `/metrics` does). */
export const OTEL_CAPS = { model: 32, transform: 64, stage: 32, signal: 32 } as const;

export interface OtelValueSets {
  model: BoundedValues;
  transform: BoundedValues;
  stage: BoundedValues;
  signal: BoundedValues;
}

export function otelValueSets(): OtelValueSets {
  return {
    model: new BoundedValues(OTEL_CAPS.model),
    transform: new BoundedValues(OTEL_CAPS.transform),
    stage: new BoundedValues(OTEL_CAPS.stage),
    signal: new BoundedValues(OTEL_CAPS.signal),
  };
}

/** Truncates a free-form span attribute value (spans are not aggregated, but stay bounded). */
export function clip(s: string, max = 256): string {
  return s.length > max ? s.slice(0, max) : s;
}
