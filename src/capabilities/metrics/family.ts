/**
 * A metric family whose samples are read from existing state at scrape time (no second copy
 * of the counters). Registered on a prom-client Registry, which formats and escapes it.
 */
import type { Metric, Registry } from 'prom-client';

export interface Sample {
  labels?: Record<string, string>;
  value: number;
}

export class ReadFamily {
  readonly aggregator = 'sum';

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge',
    private readonly read: () => Sample[] | Promise<Sample[]>,
  ) {}

  async get(): Promise<{ name: string; help: string; type: string; values: Sample[]; aggregator: 'sum' }> {
    return { name: this.name, help: this.help, type: this.type, values: await this.read(), aggregator: 'sum' };
  }

  register(registry: Registry): this {
    registry.registerMetric(this as unknown as Metric);
    return this;
  }

  reset(): void {
    // values live in the state read at scrape time; resetting that state resets this family
  }
}

/** Sums samples that map to the same label after capping. */
export function aggregate(entries: Iterable<[string, number]>, labelName: string, map: (v: string) => string): Sample[] {
  const sums = new Map<string, number>();
  for (const [k, v] of entries) {
    const l = map(k);
    sums.set(l, (sums.get(l) ?? 0) + v);
  }
  return [...sums].sort(([a], [b]) => a.localeCompare(b)).map(([l, v]) => ({ labels: { [labelName]: l }, value: v }));
}
