/**
 * The compression capability: the proxy stage, `POST /v1/compress`, the replay map (SQLite in
 * the workspace directory, or memory when `--stateless`), the `compression` service and a
 * `compression` health check. Originals of lossy cuts go to the `originals` service (the CCR
 * store) when it is installed, else to a bounded in-memory map.
 */
import { join } from 'node:path';
import { type CompressSettings, DEFAULT_SETTINGS, PROFILE_SETTINGS, resolveSettings, type SavingsProfile } from '../../compress/options.js';
import { tokenizersReady, warmTokenizersInBackground } from '../../compress/tokens.js';
import { MemoryReplayStore, type ReplayStore, SqliteReplayStore } from '../../compress/replay.js';
import { SharedReplayStore } from '../../compress/shared-replay.js';
import { PgReplayBackend, replaySchema } from '../../compress/pg-replay.js';
import type { PgDatabase } from '../../storage/postgres/database.js';
import type {} from '../storage/api.js';
import type { Config } from '../../config/index.js';
import type { Logger } from '../../core/logger.js';
import { definePlugin } from '../../core/plugin.js';
import { BoundedOriginals } from '../../originals/sink.js';
import type { CompressionService } from './api.js';
import { compressHandler } from './route.js';
import { compressionStage, compressTarget } from './stage.js';

/**
 * Server-side settings: defaults, then the savings profile, then every option whose value
 * differs from its default (so a profile sets what the operator left alone).
 */
export function settingsFromConfig(config: Config): CompressSettings {
  const profile = config.savingsProfile === 'none' ? null : (config.savingsProfile as SavingsProfile);
  const base: CompressSettings = { ...DEFAULT_SETTINGS, ...(profile ? PROFILE_SETTINGS[profile] : {}), savingsProfile: profile };
  const explicit: Record<string, unknown> = {};
  const pick = <K extends keyof CompressSettings>(key: K, value: CompressSettings[K]) => {
    const def = DEFAULT_SETTINGS[key];
    const same = Array.isArray(value) && Array.isArray(def) ? value.join('\u0000') === def.join('\u0000') : value === def;
    if (!same) explicit[key] = value;
  };
  pick('compressUserMessages', config.compressUserMessages);
  pick('protectRecent', config.protectRecent);
  pick('protectAnalysisContext', config.protectAnalysisContext);
  pick('targetRatio', config.targetRatio);
  pick('minTokensToCompress', config.minTokensToCompress);
  pick('maxItems', config.maxItems);
  pick('excludeTools', config.excludeTools);
  return resolveSettings(explicit, base);
}

export function createReplayStore(config: Config, log: Logger, shared: PgDatabase | null = null): ReplayStore {
  const opts = { ttlMs: config.replayTtlSeconds * 1000, maxBytes: config.replayMaxBytes };
  if (config.stateless) return new MemoryReplayStore(opts);
  // a fleet shares its decisions: a conversation whose turns land on different instances keeps its history's bytes
  if (shared) return new SharedReplayStore(opts, new PgReplayBackend(shared));
  const path = join(config.workspaceDir, 'replay.db');
  // a file that cannot be opened is kept and retried; meanwhile compressed requests go unchanged (see durable())
  let lastLogged: string | null = null;
  return new SqliteReplayStore({
    ...opts,
    path,
    log,
    onError: (err) => {
      const message = (err as Error)?.message ?? String(err);
      if (message !== lastLogged) log.error({ err: message, path }, 'replay map write failed; kept in memory and retried');
      lastLogged = message;
    },
  });
}

export const compressionPlugin = definePlugin({
  name: 'compression',
  needs: ['proxy'],
  optional: ['originals', 'database'],
  provides: ['compression'],
  async setup(ctx) {
    const { app } = ctx;
    const proxy = ctx.need('proxy');
    const settings = settingsFromConfig(app.config);
    const database = ctx.optional('database');
    const shared = app.config.stateless ? null : (database?.db ?? null);
    if (shared) await database!.migrate(replaySchema);
    const replay = createReplayStore(app.config, app.log, shared);
    const store = ctx.optional('originals');
    const fallback = store ? null : new BoundedOriginals();
    const sink = store ?? fallback!;
    const originals = () => sink;
    if (app.config.optimize) {
      // in the background: /livez answers at once; /readyz waits (a request needing a vocabulary
      // before it is loaded would finish loading it on the spot, a stall of up to a second)
      const t0 = performance.now();
      const warm = warmTokenizersInBackground().then(() => app.log.debug({ ms: Math.round(performance.now() - t0) }, 'tokenizer vocabularies loaded'));
      app.warming.push(warm);
      app.healthChecks.set('tokenizers', () => ({ enabled: true, ready: tokenizersReady(), state: tokenizersReady() ? 'loaded' : 'loading in the background' }));
    }
    const deps = { config: app.config, log: app.log, settings, replay, originals };
    proxy.addStage(compressionStage(deps));
    app.router.add('POST', '/v1/compress', compressHandler({ host: { funnel: app.funnel, nextRequestId: () => app.nextRequestId(), track: (c) => app.track(c) }, config: app.config, log: app.log, settings, originals }), 'admin');
    app.healthChecks.set('compression', () => {
      const s = replay.stats();
      return {
        enabled: app.config.optimize,
        ready: true,
        degraded: s.degraded ?? false,
        ...(s.degraded ? { error: s.lastError ?? null } : {}),
        replay: {
          backend: s.backend, path: s.path, entries: s.entries, bytes: s.bytes, hits: s.hits, misses: s.misses,
          pending_writes: s.pendingWrites, error: s.lastError ?? null, moved_aside: s.movedAside ?? null,
        },
        originals: fallback ? { backend: 'memory', entries: fallback.size } : { backend: 'external' },
      };
    });
    app.onClose(async () => {
      if (replay instanceof SharedReplayStore) await replay.drain();
      replay.close();
    });
    const service: CompressionService = { settings, originals: sink, compress: compressTarget(deps) };
    return { compression: service };
  },
});
