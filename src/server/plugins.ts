/**
 * The built-in capabilities, in installation order (one per line). Proxy stages run in the
 * order their plugins install them: controls (rate limit, response cache, budget) before
 * compression, and every stage-adding plugin before the proxy.
 */
import { compressionPlugin } from '../compress-api/plugin.js';
import { controlsPlugin } from '../controls/plugin.js';
import { dashboardPlugin } from '../dashboard/plugin.js';
import { hookPlugin } from '../hook/plugin.js';
import { liveMetricsPlugin } from '../live/plugin.js';
import { metricsPlugin } from '../metrics/plugin.js';
import { proxyPlugin } from '../proxy/plugin.js';
import { statsPlugin } from '../stats/plugin.js';
import { logFilePlugin } from '../telemetry/log-file.js';
import { requestLogPlugin } from '../telemetry/request-log.js';
import type { Plugin } from './app.js';
import { healthPlugin } from './health.js';

export function defaultPlugins(): Plugin[] {
  return [
    healthPlugin,
    statsPlugin,
    metricsPlugin,
    requestLogPlugin,
    logFilePlugin,
    liveMetricsPlugin,
    dashboardPlugin,
    controlsPlugin,
    compressionPlugin,
    hookPlugin,
    proxyPlugin,
  ];
}
