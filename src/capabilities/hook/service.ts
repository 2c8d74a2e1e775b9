/** Wires one hook service (settings, worker pool, handler) from the config; shared by the standalone server and the proxy plugin. */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { OriginalsSink } from '../../originals/sink.js';
import { type CompressSettings, DEFAULT_SETTINGS } from '../../compress/options.js';
import type { Config } from '../../config/index.js';
import type { Logger } from '../../core/logger.js';
import { createHookHandler, type HookHost, InboundCounter } from './handler.js';
import { type PoolOptions, WorkerPool } from './pool.js';
import { SettingsStore } from './settings-store.js';

export interface HookServiceOptions {
  /** Overrides for the pool (tests: a fake worker script, short timeouts). */
  pool?: Partial<Omit<PoolOptions, 'log'>>;
  originals?: () => OriginalsSink | undefined;
}

export function hookPoolSize(config: Config): number {
  return config.hookPoolSize > 0 ? config.hookPoolSize : Math.max(1, Math.min(8, availableParallelism()));
}

export function hookConfigPath(config: Config): string {
  return config.hookConfigFile || join(config.workspaceDir, 'hook.config.json');
}

export function createHookService(host: HookHost, log: Logger, opts: HookServiceOptions = {}) {
  const { config } = host;
  const settings = new SettingsStore(hookConfigPath(config), log);
  const pool = new WorkerPool({
    size: hookPoolSize(config),
    maxCompressMs: config.hookMaxCompressSeconds * 1000,
    affinity: config.hookAffinity,
    log,
    ...opts.pool,
  });
  const base: CompressSettings = { ...DEFAULT_SETTINGS, maxItems: config.maxItems, excludeTools: config.excludeTools };
  const inbound = new InboundCounter();
  const handler = createHookHandler({
    host, pool, settings, base, log, inbound,
    gzipResponse: config.hookGzipResponse,
    acceptCompressed: config.hookAcceptCompressed,
    ...(opts.originals ? { originals: opts.originals } : {}),
  });
  const health = () => ({
    enabled: true,
    ready: pool.readyCount > 0,
    pool: { slots: pool.size, ready: pool.readyCount, busy: pool.busy, waiting: pool.waiting, spawned: pool.spawned },
    affinity: config.hookAffinity,
    config_file: settings.path,
    // settings from a file that cannot be read yet: defaults apply meanwhile
    degraded: settings.loadError !== null,
    config_file_error: settings.loadError,
    config_file_moved_aside: settings.movedAside,
  });
  return {
    settings, pool, inbound, handler, health,
    close: () => {
      settings.close();
      return pool.close();
    },
  };
}

export type HookService = ReturnType<typeof createHookService>;
