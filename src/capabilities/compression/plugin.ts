/**
 * The compression capability: the proxy stage, `POST /v1/compress`, the replay map (SQLite in
 * the workspace directory, or memory when `--stateless`), the default originals sink and a
 * `compression` health check.
 */
import { join } from 'node:path';
import { type CompressSettings, DEFAULT_SETTINGS, PROFILE_SETTINGS, resolveSettings, type SavingsProfile } from '../../compress/options.js';
import { tokenizersReady, warmTokenizersInBackground } from '../../compress/tokens.js';
import { BoundedOriginals, originalsSinkFor, setOriginalsSink } from '../../originals/sink.js';
import { MemoryReplayStore, type ReplayStore, SqliteReplayStore } from '../../compress/replay.js';
import type { Config } from '../../config/index.js';
import { compressionStage } from './stage.js';
import type { App, Plugin } from '../../core/app.js';
import { compressHandler } from './route.js';

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

export function createReplayStore(app: App): ReplayStore {
  const { config } = app;
  const opts = { ttlMs: config.replayTtlSeconds * 1000, maxBytes: config.replayMaxBytes };
  if (config.stateless) return new MemoryReplayStore(opts);
  const path = join(config.workspaceDir, 'replay.db');
  // a file that cannot be opened is kept and retried; meanwhile compressed requests go unchanged (see durable())
  let lastLogged: string | null = null;
  return new SqliteReplayStore({
    ...opts,
    path,
    log: app.log,
    onError: (err) => {
      const message = (err as Error)?.message ?? String(err);
      if (message !== lastLogged) app.log.error({ err: message, path }, 'replay map write failed; kept in memory and retried');
      lastLogged = message;
    },
  });
}

export const compressionPlugin: Plugin = {
  name: 'compression',
  setup(app: App) {
    const settings = settingsFromConfig(app.config);
    const replay = createReplayStore(app);
    const fallback = new BoundedOriginals();
    if (!originalsSinkFor(app)) setOriginalsSink(app, fallback);
    const originals = () => originalsSinkFor(app);
    if (app.config.optimize) {
      // in the background: /livez answers at once; /readyz waits (a request needing a vocabulary
      // before it is loaded would finish loading it on the spot, a stall of up to a second)
      const t0 = performance.now();
      const warm = warmTokenizersInBackground().then(() => app.log.debug({ ms: Math.round(performance.now() - t0) }, 'tokenizer vocabularies loaded'));
      app.warming.push(warm);
      app.healthChecks.set('tokenizers', () => ({ enabled: true, ready: tokenizersReady(), state: tokenizersReady() ? 'loaded' : 'loading in the background' }));
    }
    app.addStage(compressionStage({ config: app.config, log: app.log, settings, replay, originals }));
    app.router.add('POST', '/v1/compress', compressHandler({ host: app, config: app.config, log: app.log, settings, originals }), 'admin');
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
        originals: originalsSinkFor(app) === fallback ? { backend: 'memory', entries: fallback.size } : { backend: 'external' },
      };
    });
    app.onClose(() => replay.close());
  },
};
