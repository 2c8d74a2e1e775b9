/**
 * The standalone hook server (`headroom-ts hook`): the App with the hook (standalone routes:
 * `/config`, every other path is the hook), its metrics (`/metrics`) and its health routes
 * (`/health`, `/livez`, `/readyz`). Listen on `config.hookPort`.
 */
import { createHookPlugin, type HookPluginOptions } from '../capabilities/hook/plugin.js';
import { hookHealthPlugin, hookMetricsPlugin } from '../capabilities/hook/standalone.js';
import type { Config } from '../config/index.js';
import { type App, createApp } from '../core/app.js';
import type { Logger } from '../core/logger.js';
import type { Plugin } from '../core/plugin.js';

export type HookAppOptions = Omit<HookPluginOptions, 'standalone'>;

export function hookPlugins(opts: HookAppOptions = {}): Plugin[] {
  return [createHookPlugin({ ...opts, standalone: true }), hookHealthPlugin, hookMetricsPlugin];
}

/** The hook server App; `app.listen(config.hookPort)` serves it, `app.close(10_000)` stops it (in-flight calls get 10 s). */
export function createHookApp(config: Config, log: Logger, opts: HookAppOptions = {}): Promise<App> {
  return createApp(config, { logger: log, plugins: hookPlugins(opts) });
}
