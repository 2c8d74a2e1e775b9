/** The built-in capabilities, in installation order. */
import { compressionPlugin } from '../compress-api/plugin.js';
import { proxyPlugin } from '../proxy/plugin.js';
import { requestLogPlugin } from '../telemetry/request-log.js';
import type { Plugin } from './app.js';
import { healthPlugin } from './health.js';

export function defaultPlugins(): Plugin[] {
  return [healthPlugin, requestLogPlugin, compressionPlugin, proxyPlugin];
}
