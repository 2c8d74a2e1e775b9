/** The live monitor of one app: tracker (a funnel sink), SSE hub and summary log, wired together. */
import type { Config } from '../../config/index.js';
import type { Logger } from '../../core/logger.js';
import { SseHub } from './sse.js';
import { SummaryLog } from './summary.js';
import { LiveTracker } from './tracker.js';
import { activeSnapshot } from './views.js';
import { redactSecrets } from '../../core/redact.js';

export interface LiveMonitor {
  readonly tracker: LiveTracker;
  readonly hub: SseHub;
  readonly summary: SummaryLog;
  close(): void;
}

export function createLiveMonitor(config: Config, log: Logger): LiveMonitor {
  const tracker = new LiveTracker({
    errorBuffer: config.liveErrorBuffer,
    traceBuffer: config.liveTraceBuffer,
    maxModels: config.liveMaxModels,
  });
  const hub = new SseHub(
    { get version() { return tracker.version; }, snapshotJson: () => redactSecrets(JSON.stringify(activeSnapshot(tracker))) },
    {
      minIntervalMs: config.liveSseMinIntervalMs,
      heartbeatMs: Math.max(1, Math.round(config.liveSseHeartbeatSeconds * 1000)),
      retryMs: config.liveSseRetryMs,
      maxClients: config.liveSseMaxClients,
      stallMs: Math.max(1, Math.round(config.liveSseStallSeconds * 1000)),
    },
  );
  tracker.onChange(() => hub.notify());
  const summary = new SummaryLog(tracker, log, {
    everyRequests: config.liveSummaryEveryRequests,
    everySeconds: config.liveSummaryIntervalSeconds,
  });
  return {
    tracker,
    hub,
    summary,
    close() {
      hub.closeAll();
      summary.close();
    },
  };
}
