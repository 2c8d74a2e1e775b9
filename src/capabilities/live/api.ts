/**
 * What the live-monitoring capability offers (type-only imports): the `live` service, its
 * monitor (tracker, SSE hub, summary log), null when live monitoring is off.
 */
import type { LiveMonitor } from './monitor.js';

export type { LiveMonitor } from './monitor.js';

declare module '../../core/plugin.js' {
  interface Services {
    /** Null: installed, but live monitoring is off (`--no-live-metrics`). */
    live: LiveMonitor | null;
  }
}
