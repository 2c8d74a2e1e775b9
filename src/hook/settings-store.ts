/**
 * The live settings: an immutable snapshot read lock-free by every request, replaced whole
 * by `update()` (validate -> persist atomically -> swap). Writers are serialised. Loading at
 * start never fails: a missing file means defaults; an unreadable, unparseable or invalid
 * file means defaults and a warning.
 */
import { readFileSync } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Logger } from '../telemetry/logger.js';
import { HOOK_DEFAULTS, type HookSettings, mergeSettings, SettingsError, settingsJson } from './settings.js';

export class SettingsStore {
  private current: Readonly<HookSettings>;
  private chain: Promise<unknown> = Promise.resolve();
  private tmpCounter = 0;

  constructor(
    /** Empty: no persistence. */
    readonly path: string,
    private readonly log: Logger,
  ) {
    this.current = Object.freeze(this.load());
  }

  /** The snapshot to use for one request. */
  get settings(): Readonly<HookSettings> {
    return this.current;
  }

  private load(): HookSettings {
    if (!this.path) return { ...HOOK_DEFAULTS };
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.log.info({ path: this.path }, 'no hook config file yet; using defaults');
      } else {
        this.log.warn({ path: this.path, err: (err as Error).message }, 'hook config file unreadable; using defaults');
      }
      return { ...HOOK_DEFAULTS };
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      this.log.warn({ path: this.path, err: (err as Error).message }, 'hook config file unparseable; using defaults');
      return { ...HOOK_DEFAULTS };
    }
    try {
      const s = mergeSettings(HOOK_DEFAULTS, parsed);
      this.log.info({ path: this.path, settings: s }, 'loaded hook config');
      return s;
    } catch (err) {
      this.log.warn({ path: this.path, err: (err as Error).message }, 'hook config file invalid; using defaults');
      return { ...HOOK_DEFAULTS };
    }
  }

  /**
   * Merges a partial update, persists it and makes it live for the next request. Throws
   * SettingsError (invalid value, or the file could not be written: nothing changes then).
   */
  update(body: unknown): Promise<Readonly<HookSettings>> {
    const run = async () => {
      const next = Object.freeze(mergeSettings(this.current, body));
      if (this.path) {
        try {
          await this.persist(next);
        } catch (err) {
          throw new SettingsError('config_file', `persist config: ${(err as Error).message}`);
        }
      }
      this.current = next;
      this.log.info({ settings: next }, 'hook config updated');
      return next;
    };
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  /** Pretty JSON + newline: temp file in the same directory, fsync, rename. */
  private async persist(s: Readonly<HookSettings>): Promise<void> {
    const dir = dirname(this.path);
    await mkdir(dir, { recursive: true, mode: 0o755 });
    const tmp = join(dir, `.${basename(this.path)}.${process.pid}.${++this.tmpCounter}.tmp`);
    const fh = await open(tmp, 'w', 0o644);
    try {
      await fh.writeFile(`${JSON.stringify(settingsJson(s), null, 2)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await rename(tmp, this.path);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
  }
}
