/** The live monitor of one app: tracker (a funnel sink), SSE hub and summary log, wired together. */
import type { Config } from '../../config/index.js';
import type { Logger } from '../../core/logger.js';
import { SseHub } from './sse.js';
import { SummaryLog } from './summary.js';
import { LiveTracker } from './tracker.js';
import { activeSnapshot } from './views.js';
import { redactSecrets } from '../../core/redact.js';
import type { Fleet } from '../fleet/api.js';
import { FleetLiveView } from './fleet-view.js';
import type { ActiveSnapshot } from './schema.js';

export interface LiveMonitor {
  readonly tracker: LiveTracker;
  readonly hub: SseHub;
  readonly summary: SummaryLog;
  /** With a fleet Redis: every instance's requests in flight (null: this instance only). */
  readonly fleet: FleetLiveView | null;
  /** What `/metrics/active-requests` and the stream show: this instance, or the fleet. */
  snapshot(): ActiveSnapshot;
  /**
   * Someone looks at the view: with a fleet, the other instances are read (at once when the
   * last read is older than one interval, the promise) and kept being read for a while; null
   * when there is nothing to wait for.
   */
  watch(): Promise<void> | null;
  close(): void;
}

export function createLiveMonitor(config: Config, log: Logger, fleetLink: Fleet | null = null): LiveMonitor {
  const tracker = new LiveTracker({
    errorBuffer: config.liveErrorBuffer,
    traceBuffer: config.liveTraceBuffer,
    maxModels: config.liveMaxModels,
  });
  let fleet: FleetLiveView | null = null;
  const snapshot = (): ActiveSnapshot => (fleet ? fleet.snapshot() : activeSnapshot(tracker));
  const hub = new SseHub(
    { get version() { return tracker.version + (fleet?.version ?? 0); }, snapshotJson: () => redactSecrets(JSON.stringify(snapshot())) },
    {
      minIntervalMs: config.liveSseMinIntervalMs,
      heartbeatMs: Math.max(1, Math.round(config.liveSseHeartbeatSeconds * 1000)),
      retryMs: config.liveSseRetryMs,
      maxClients: config.liveSseMaxClients,
      stallMs: Math.max(1, Math.round(config.liveSseStallSeconds * 1000)),
    },
  );
  tracker.onChange(() => hub.notify());
  if (fleetLink) fleet = new FleetLiveView(tracker, fleetLink, () => hub.notify(), { watchers: () => hub.size });
  const summary = new SummaryLog(tracker, log, {
    everyRequests: config.liveSummaryEveryRequests,
    everySeconds: config.liveSummaryIntervalSeconds,
  });
  return {
    tracker,
    hub,
    summary,
    fleet,
    snapshot,
    watch: () => fleet?.watch() ?? null,
    close() {
      fleet?.close();
      hub.closeAll();
      summary.close();
    },
  };
}
