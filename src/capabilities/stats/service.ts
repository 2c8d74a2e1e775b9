/**
 * The stats capability's state (the `stats` service), shared by its sinks and routes and by
 * capabilities built on it (metrics, budgets, OTEL): process counters, inbound counters, the
 * durable store and the figures of an outcome (`accountingOf`).
 */
import type { RequestOutcome } from '../../core/outcome.js';
import { type Accounting, accountingOf } from './accounting.js';
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

  /** The figures of an outcome (computed once per outcome): every dollar figure comes from here. */
  accountingOf(o: RequestOutcome): Accounting {
    return accountingOf(o);
  }

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
