/**
 * The built-in capabilities, in installation order (one per line). Proxy stages run in the
 * order their plugins install them: controls (rate limit, response cache, budget) before
 * compression, ccr (the store of originals) before compression, and every stage-adding
 * plugin before the proxy.
 */
import { ccrPlugin } from '../capabilities/ccr/plugin.js';
import { compressionPlugin } from '../capabilities/compression/plugin.js';
import { controlsPlugin } from '../capabilities/controls/plugin.js';
import { dashboardPlugin } from '../capabilities/dashboard/plugin.js';
import { hookPlugin } from '../capabilities/hook/plugin.js';
import { liveMetricsPlugin } from '../capabilities/live/plugin.js';
import { metricsPlugin } from '../capabilities/metrics/plugin.js';
import { proxyPlugin } from '../capabilities/proxy/plugin.js';
import { statsPlugin } from '../capabilities/stats/plugin.js';
import { logFilePlugin } from '../capabilities/stats/log-file.js';
import { requestLogPlugin } from '../capabilities/request-log/plugin.js';
import type { Plugin } from '../core/app.js';
import { headroomSdkPlugin } from '../capabilities/headroom-sdk/plugin.js';
import { healthPlugin } from '../capabilities/health/plugin.js';
import { rootPlugin } from '../capabilities/root/plugin.js';
import { otelPlugin } from '../capabilities/otel/plugin.js';

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
