/**
 * The stats capability's state, shared by its sinks and routes and by capabilities built on
 * it (metrics, budgets): process counters, inbound counters and the durable store.
 */
import type { App } from '../../core/app.js';
import { InboundStats } from './inbound.js';
import { ProcessStats } from './process/process-stats.js';
import type { StatsStore } from './store/types.js';

export class StatsService {
  readonly process = new ProcessStats();
  readonly inbound = new InboundStats();
  /** Base64 images replaced in request log records. */
  imagesRedacted = 0;
  private readonly resetHooks: (() => void)[] = [];

  constructor(readonly store: StatsStore) {}

  /** Runs `fn` on `/stats/reset` (e.g. to zero histograms). */
  onReset(fn: () => void): void {
    this.resetHooks.push(fn);
  }

  /** Zeroes the in-memory counters; the durable store (lifetime, session, history) is kept. */
  reset(): void {
    this.process.reset();
    this.inbound.reset();
    this.imagesRedacted = 0;
    for (const fn of this.resetHooks) fn();
  }
}

const services = new WeakMap<App, StatsService>();

export function setStatsService(app: App, service: StatsService): void {
  services.set(app, service);
}

/** The app's stats service (installed by the stats plugin), if any. */
export function statsServiceOf(app: App): StatsService | undefined {
  return services.get(app);
}
