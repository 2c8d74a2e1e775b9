/**
 * The shapes of the proxy's responses the dashboard reads: the server's own schemas
 * (`z.infer` types, imported as types only, so no schema code reaches the bundle). Field
 * names and meanings: docs/wire-shapes.md.
 */
import type { RunningTotals as LiveRunningTotals } from '../../live/schema.js';

export type {
  Agent, Attribution, AttributionFigures, AttributionTable, Bucket, CacheFigures, Delta, MissCounts, ModelCost, Period, ProjectTotals, ProviderCache, RequestLog, SavingsBasis,
  SessionTotals, SpendReport, SpendRow, Stats, StatsHistory, Timing, Totals as LifetimeTotals, VirtualKeyFigures,
} from '../../stats/schema.js';
export type { ActiveRow as ActiveRequest, ActiveSnapshot, Disabled, Logs, TotalsSection, Trace } from '../../live/schema.js';
export type { Health, HealthCheckJson as HealthCheck } from '../../health/schema.js';

/**
 * `/metrics/running-totals?format=json`. While live monitoring is off the body is `Disabled`
 * (`{disabled: true, ...}`, no summary) instead: the view checks `disabled` before anything else.
 */
export type RunningTotals = LiveRunningTotals & { disabled?: boolean };
