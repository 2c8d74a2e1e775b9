/**
 * The built-in capabilities, in installation order (one per line). Proxy stages run in the
 * order their plugins install them: controls (rate limit, response cache, budget) before
 * compression, ccr (the store of originals) before compression, and every stage-adding
 * plugin before the proxy.
 */
import { ccrPlugin } from '../ccr/plugin.js';
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
import { headroomSdkPlugin } from './headroom-sdk.js';
import { healthPlugin } from './health.js';
import { rootPlugin } from './root.js';
import { otelPlugin } from '../telemetry/otel/plugin.js';

export function defaultPlugins(): Plugin[] {
  return [
    healthPlugin,
    rootPlugin,
    statsPlugin,
    metricsPlugin,
    requestLogPlugin,
    logFilePlugin,
    otelPlugin,
    liveMetricsPlugin,
    dashboardPlugin,
    controlsPlugin,
    ccrPlugin,
    compressionPlugin,
    hookPlugin,
    headroomSdkPlugin,
    proxyPlugin,
  ];
}
