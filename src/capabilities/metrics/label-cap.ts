/**
 * Bounded label values: the first `cap` distinct values keep their own label, later ones
 * become `other`. The assignment never changes once made, so counters stay monotonic.
 */
export class LabelCap {
  private readonly assigned = new Set<string>();

  constructor(
    readonly cap: number,
    readonly overflow = 'other',
  ) {}

  label(value: string | null | undefined): string {
    const v = value === null || value === undefined || value === '' ? 'unknown' : value;
    if (this.assigned.has(v)) return v;
    if (this.assigned.size < this.cap) {
      this.assigned.add(v);
      return v;
    }
    return this.overflow;
  }

  get size(): number {
    return this.assigned.size;
  }
}
