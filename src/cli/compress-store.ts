/**
 * Keeps the originals of the CLI's lossy cuts where a proxy can find them: the CCR store of the
 * workspace (`<workspace>/ccr_store.db`, the same file `headroom-ts proxy` uses), so a proxy on
 * that workspace answers `headroom_retrieve` and `GET /v1/retrieve/<hash>` for the markers the
 * CLI printed. Returns the line that tells the user where they went, or that they were not stored.
 */
import pino from 'pino';
import { ccrStorePath, openCcrStore } from '../capabilities/ccr/plugin.js';
import type { OriginalEntry } from '../originals/sink.js';
import { ConfigError, loadConfig } from '../config/index.js';

export interface StoreOptions {
  store: boolean;
  workspaceDir?: string;
}

const minutes = (seconds: number) => (seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`);

export function storeOriginals(entries: readonly OriginalEntry[], opts: StoreOptions): string {
  const n = entries.length;
  const what = `${n} ${n === 1 ? 'original' : 'originals'}`;
  const notStored = (why: string) => `${what} not stored (${why}): their markers cannot be retrieved from any proxy`;
  if (!opts.store) return notStored('--no-store');
  let config;
  try {
    config = loadConfig({ env: process.env, overrides: opts.workspaceDir ? { workspaceDir: opts.workspaceDir } : {} }).config;
  } catch (err) {
    return notStored(err instanceof ConfigError ? err.message : String(err));
  }
  if (config.stateless) return notStored('HEADROOM_STATELESS is set');
  if (config.ccrBackend === 'memory') return notStored('HEADROOM_CCR_BACKEND=memory');
  let failed: string | null = null;
  const log = pino({ level: 'silent' });
  const store = openCcrStore(config, log);
  if (store.stats().backend !== 'sqlite') return notStored(`cannot open ${ccrStorePath(config)}`);
  try {
    store.put(entries);
    store.flush();
    failed = store.stats().lastError;
  } catch (err) {
    failed = (err as Error).message;
  } finally {
    store.close();
  }
  if (failed) return notStored(`writing ${ccrStorePath(config)} failed: ${failed}`);
  return `${what} stored in ${ccrStorePath(config)} for ${minutes(config.ccrTtlSeconds)}: a proxy on this workspace answers headroom_retrieve and GET /v1/retrieve/<hash> for them`;
}
