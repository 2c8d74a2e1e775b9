/** Installs live monitoring: the tracker sink, the SSE hub, the summary log, the routes and the `live` service. */
import { definePlugin } from '../../core/plugin.js';
import type {} from './api.js';
import { createLiveMonitor, type LiveMonitor } from './monitor.js';
import { registerLiveRoutes } from './routes.js';
import { StreamSessions } from './stream-auth.js';

export const liveMetricsPlugin = definePlugin({
  name: 'live-metrics',
  optional: ['fleet'],
  provides: ['live'],
  setup({ app, optional }) {
    let mon: LiveMonitor | null = null;
    if (app.config.liveMetrics) {
      const m = createLiveMonitor(app.config, app.log, optional('fleet'));
      mon = m;
      app.addSink(m.tracker);
      app.onClose(() => m.close());
    }
    registerLiveRoutes(app, mon, new StreamSessions(app.config.liveStreamSessionSeconds));
    app.healthChecks.set('live_metrics', () =>
      mon
        ? { enabled: true, ready: true, active_requests: mon.tracker.active.size, sse_clients: mon.hub.size }
        : { enabled: false, ready: true },
    );
    return { live: mon };
  },
});
