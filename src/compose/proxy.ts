/**
 * The proxy server: the App with every built-in capability. The list is in no particular
 * order (alphabetical): the App installs plugins in dependency order, and proxy stages run by
 * their own `order`.
 */
import { ccrPlugin } from '../capabilities/ccr/plugin.js';
import { cloudPlugin } from '../capabilities/cloud/plugin.js';
import { compressionPlugin } from '../capabilities/compression/plugin.js';
import { controlsPlugin } from '../capabilities/controls/plugin.js';
import { dashboardPlugin } from '../capabilities/dashboard/plugin.js';
import { fleetPlugin } from '../capabilities/fleet/plugin.js';
import { headroomSdkPlugin } from '../capabilities/headroom-sdk/plugin.js';
import { healthPlugin } from '../capabilities/health/plugin.js';
import { hookPlugin } from '../capabilities/hook/plugin.js';
import { liveMetricsPlugin } from '../capabilities/live/plugin.js';
import { metricsPlugin } from '../capabilities/metrics/plugin.js';
import { otelPlugin } from '../capabilities/otel/plugin.js';
import { proxyPlugin } from '../capabilities/proxy/plugin.js';
import { requestLogPlugin } from '../capabilities/request-log/plugin.js';
import { responsesWsPlugin } from '../capabilities/responses-ws/plugin.js';
import { rootPlugin } from '../capabilities/root/plugin.js';
import { routingPlugin } from '../capabilities/routing/plugin.js';
import { logFilePlugin } from '../capabilities/stats/log-file.js';
import { statsPlugin } from '../capabilities/stats/plugin.js';
import { storagePlugin } from '../capabilities/storage/plugin.js';
import type { Config } from '../config/index.js';
import { type App, createApp } from '../core/app.js';
import type { Logger } from '../core/logger.js';
import type { Plugin } from '../core/plugin.js';

export function defaultPlugins(): Plugin[] {
  return [
    ccrPlugin,
    cloudPlugin,
    compressionPlugin,
    controlsPlugin,
    dashboardPlugin,
    fleetPlugin,
    headroomSdkPlugin,
    healthPlugin,
    hookPlugin,
    liveMetricsPlugin,
    logFilePlugin,
    metricsPlugin,
    otelPlugin,
    proxyPlugin,
    requestLogPlugin,
    responsesWsPlugin,
    rootPlugin,
    routingPlugin,
    statsPlugin,
    storagePlugin,
  ];
}

export interface ProxyAppOptions {
  logger?: Logger;
  /** The capabilities (default: every built-in one). */
  plugins?: readonly Plugin[];
}

/** The proxy App: every built-in capability unless `plugins` says otherwise. */
export function createProxyApp(config: Config, opts: ProxyAppOptions = {}): Promise<App> {
  return createApp(config, { ...(opts.logger ? { logger: opts.logger } : {}), plugins: opts.plugins ?? defaultPlugins() });
}
