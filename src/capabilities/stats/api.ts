/**
 * What the stats capability offers other capabilities (type-only imports): the `stats`
 * service (process and inbound counters, the durable store, the figures of an outcome) and
 * the `cacheContinuity` outcome extension its annotator sets.
 */
import type { CacheContinuity } from '../../savings/continuity.js';
import type { StatsService } from './service.js';
import type { AttributionIds } from './attribution/ids.js';

export type { Accounting } from './accounting.js';
export type { StatsService } from './service.js';

declare module '../../core/plugin.js' {
  interface Services {
    stats: StatsService;
  }
}

declare module '../../core/outcome.js' {
  interface OutcomeExtensions {
    /** What the conversation's provider prompt cache did (set before the sinks see the outcome; Anthropic). */
    cacheContinuity?: CacheContinuity;
    /** Hashed session and user ids of the request (`attribution/ids.ts`; set by the `attribution` proxy stage). */
    attribution?: AttributionIds;
  }
}
