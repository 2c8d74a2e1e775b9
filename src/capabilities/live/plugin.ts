/** Installs live monitoring: the tracker sink, the SSE hub, the summary log and the routes. */
import type { App, Plugin } from '../../core/app.js';
import { createLiveMonitor, type LiveMonitor } from './monitor.js';
import { registerLiveRoutes } from './routes.js';
import { StreamSessions } from './stream-auth.js';

const monitors = new WeakMap<App, LiveMonitor>();

/** The live monitor of an app (null when live monitoring is off or not installed). */
export function liveMonitorOf(app: App): LiveMonitor | null {
  return monitors.get(app) ?? null;
}

export const liveMetricsPlugin: Plugin = {
  name: 'live-metrics',
  setup(app) {
    let mon: LiveMonitor | null = null;
    if (app.config.liveMetrics) {
      const m = createLiveMonitor(app.config, app.log);
      mon = m;
      monitors.set(app, m);
      app.addSink(m.tracker);
      app.onClose(() => m.close());
    }
    registerLiveRoutes(app, mon, new StreamSessions(app.config.liveStreamSessionSeconds));
    app.healthChecks.set('live_metrics', () =>
      mon
        ? { enabled: true, ready: true, active_requests: mon.tracker.active.size, sse_clients: mon.hub.size }
        : { enabled: false, ready: true },
    );
  },
};
