/**
 * The CCR capability: the store of originals (SQLite `<workspace>/ccr_store.db` by default,
 * memory with `--ccr-backend memory` or `--stateless`) provided as the `originals` service
 * (the compression stage and the hook write their lossy cuts' originals there; without this
 * capability compression keeps them in memory), the `ccr` proxy stage and forwarding link
 * (tool injection and proxy-side retrieval), the `/v1/retrieve*` endpoints, a `ccr` health check and a `ccr`
 * block in `/stats`.
 */
import { join } from 'node:path';
import type { Config } from '../../config/index.js';
import type { Logger } from '../../core/logger.js';
import { definePlugin } from '../../core/plugin.js';
import { SqliteCcrStore } from '../../originals/sqlite-store.js';
import { PgCcrStore } from '../../originals/pg-store.js';
import { ccrSchema } from '../../originals/pg-schema.js';
import type { PgDatabase } from '../../storage/postgres/database.js';
import type {} from '../storage/api.js';
import { type CcrStore, type CcrStoreOptions, MemoryCcrStore } from '../../originals/store.js';
import type {} from './api.js';
import { registerRetrieveRoutes } from './routes.js';
import { ccrPath } from './stage.js';

/** The store of originals a config names (also used by `headroom-ts compress` to store its originals). */
export function openCcrStore(config: Config, log: Logger, shared: PgDatabase | null = null): CcrStore {
  const opts: CcrStoreOptions = {
    ttlMs: config.ccrTtlSeconds * 1000,
    maxBytes: config.ccrMaxBytes,
    maxEntries: config.ccrMaxEntries,
  };
  if (config.stateless || config.ccrBackend === 'memory') return new MemoryCcrStore(opts);
  // a fleet shares its originals: any instance answers headroom_retrieve for any other's cuts
  if (shared) return new PgCcrStore({ ...opts, db: shared, log });
  const path = ccrStorePath(config);
  // a file that cannot be opened is kept and retried; meanwhile lossy cuts are not forwarded (see durable())
  let lastLogged: string | null = null;
  return new SqliteCcrStore({
    ...opts,
    path,
    log: log,
    onError: (err) => {
      const message = (err as Error)?.message ?? String(err);
      if (message !== lastLogged) log.error({ err: message, path }, 'CCR store write failed; kept in memory and retried');
      lastLogged = message;
    },
  });
}

export const ccrStorePath = (config: Config): string => join(config.workspaceDir, 'ccr_store.db');

function statsBlock(store: CcrStore): Record<string, unknown> {
  const s = store.stats();
  return {
    backend: s.backend,
    entries: s.entries,
    bytes: s.bytes,
    max_bytes: s.maxBytes,
    ttl_seconds: s.ttlSeconds,
    stored: s.puts,
    refreshed: s.refreshes,
    hits: s.hits,
    misses: s.misses,
    expired: s.expired,
    evictions: s.evictions,
    retrievals: s.retrievals,
  };
}

export const ccrPlugin = definePlugin({
  name: 'ccr',
  needs: ['proxy'],
  optional: ['database'],
  provides: ['originals'],
  async setup(ctx) {
    const { app } = ctx;
    const proxy = ctx.need('proxy');
    const database = ctx.optional('database');
    const shared = app.config.stateless || app.config.ccrBackend === 'memory' ? null : (database?.db ?? null);
    if (shared) await database!.migrate(ccrSchema);
    const store = openCcrStore(app.config, app.log, shared);
    const { stage, link } = ccrPath({ config: app.config, log: app.log, store });
    proxy.addStage(stage);
    proxy.addLink(link);
    registerRetrieveRoutes(app.router, store);
    app.healthChecks.set('ccr', () => {
      const s = store.stats();
      return {
        enabled: true,
        // originals that cannot be written only cost savings (requests go uncompressed); not out of service
        ready: true,
        degraded: s.degraded ?? false,
        backend: s.backend,
        persistent: s.backend !== 'memory',
        path: s.path,
        inject_tool: app.config.ccrInjectTool,
        entries: s.entries,
        bytes: s.bytes,
        pending_writes: s.pendingWrites,
        error: s.lastError,
        moved_aside: s.movedAside ?? null,
      };
    });
    app.statsSections.set('ccr', () => statsBlock(store));
    // Headroom's `compression` block: the store of originals as Headroom reports its own
    app.statsSections.set('compression', () => {
      const s = store.stats();
      return {
        ccr_entries: s.entries,
        ccr_max_entries: s.maxEntries,
        original_tokens_cached: s.originalTokens,
        compressed_tokens_cached: s.compressedTokens,
        ccr_retrievals: s.retrievals,
      };
    });
    app.onClose(async () => {
      if (store instanceof PgCcrStore) await store.drain();
      store.close();
    });
    return { originals: store };
  },
});
