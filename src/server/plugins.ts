/** The built-in capabilities, in installation order (one per line). */
import { compressionPlugin } from '../compress-api/plugin.js';
import { dashboardPlugin } from '../dashboard/plugin.js';
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
    // proxy stages run in installation order: controls before compression, compression last
    compressionPlugin,
    proxyPlugin,
  ];
}
