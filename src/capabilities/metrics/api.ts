/**
 * What the metrics capability offers other capabilities (type-only imports): the `metrics`
 * service, the Prometheus registry behind `GET /metrics`, for capabilities that add families.
 */
import type { Registry } from 'prom-client';
import type { Sample } from './family.js';

export type { Sample } from './family.js';

export interface MetricsService {
  readonly registry: Registry;
  /** Registers a family whose samples are read from existing state at scrape time (no second copy of the counters). */
  readFamily(name: string, help: string, type: 'counter' | 'gauge', read: () => Sample[] | Promise<Sample[]>): void;
}

declare module '../../core/plugin.js' {
  interface Services {
    metrics: MetricsService;
  }
}
