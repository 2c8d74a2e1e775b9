/**
 * The live settings: an immutable snapshot read lock-free by every request, replaced whole
 * by `update()` (validate -> persist atomically -> swap). Writers are serialised. Loading at
 * start never fails: a missing file means defaults. A file that is not valid settings (bad
 * JSON, invalid values) is corrupt: it is moved aside (`.corrupt-<time>`) with a warning and
 * defaults apply. A file that cannot be read (permissions, I/O) is kept: defaults apply
 * meanwhile, the hook's health reports it, and reading it is retried in the background until
 * it works (unless `PUT /config` has replaced the settings by then).
 */
import { readFileSync, renameSync } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Logger } from '../../core/logger.js';
import { HOOK_DEFAULTS, type HookSettings, mergeSettings, SettingsPersistError, settingsJson } from './settings.js';
import type { SettingsRemote } from './settings-remote.js';

const RETRY_READ_MS = 5_000;

export class SettingsStore {
  private current: Readonly<HookSettings>;
  private chain: Promise<unknown> = Promise.resolve();
  private tmpCounter = 0;
  /** Why the file could not be read (it is kept and read again later), null when it was. */
  loadError: string | null = null;
  /** Where a corrupt file was moved. */
  movedAside: string | null = null;
  private retry: NodeJS.Timeout | null = null;
  private updated = false;
  private readonly listeners: ((s: Readonly<HookSettings>) => void)[] = [];
  private remote: SettingsRemote | null = null;
  private remoteVersion = 0;
  private poll: NodeJS.Timeout | null = null;
  /** Why the shared settings could not be read or written now (null when they could). */
  remoteError: string | null = null;

  constructor(
    /** Empty: no persistence. */
    readonly path: string,
    private readonly log: Logger,
  ) {
    this.current = Object.freeze(this.load());
  }

  private scheduleRetry(): void {
    if (this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      if (this.updated) return;
      const loaded = this.load();
      if (this.loadError === null && !this.updated) this.current = Object.freeze(loaded);
    }, RETRY_READ_MS);
    this.retry.unref();
  }

  private moveAside(reason: string): void {
    const target = `${this.path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    try {
      renameSync(this.path, target);
      this.movedAside = target;
      this.log.warn({ path: this.path, moved_to: target, reason }, 'hook config file is not valid settings; moved aside, using defaults');
    } catch (err) {
      this.log.warn({ path: this.path, reason, err: (err as Error).message }, 'hook config file is not valid settings (and could not be moved aside); using defaults');
    }
  }

  /**
   * Shares the settings with a fleet: the stored ones apply now (when there are any), a
   * change another instance stores applies within `pollMs`, and `update()` stores there too.
   */
  async share(remote: SettingsRemote, pollMs = 2_000): Promise<void> {
    this.remote = remote;
    await this.pull();
    this.poll = setInterval(() => void this.pull(), pollMs);
    this.poll.unref();
  }

  private async pull(): Promise<void> {
    if (!this.remote) return;
    try {
      const r = await this.remote.read();
      this.remoteError = null;
      if (!r || r.version <= this.remoteVersion) return;
      const next = Object.freeze(mergeSettings(HOOK_DEFAULTS, r.json));
      this.remoteVersion = r.version;
      this.current = next;
      this.updated = true;
      this.log.info({ version: r.version, settings: next }, 'hook config changed by the fleet');
    } catch (err) {
      const message = (err as Error).message;
      if (this.remoteError !== message) this.log.warn({ where: this.remote.where, err: message }, 'shared hook config unavailable; keeping the current settings');
      this.remoteError = message;
    }
  }

  /** Stops the background re-read. */
  close(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
  }

  /** Called after every successful update (the fleet announces it to the other instances). */
  onUpdate(listener: (s: Readonly<HookSettings>) => void): void {
    this.listeners.push(listener);
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
        this.loadError = null;
        this.log.info({ path: this.path }, 'no hook config file yet; using defaults');
      } else {
        const message = (err as Error).message;
        if (this.loadError !== message) this.log.warn({ path: this.path, err: message }, 'hook config file unreadable; using defaults, keeping the file and reading it again later');
        this.loadError = message;
        this.scheduleRetry();
      }
      return { ...HOOK_DEFAULTS };
    }
    this.loadError = null;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      this.moveAside(`unparseable: ${(err as Error).message}`);
      return { ...HOOK_DEFAULTS };
    }
    try {
      const s = mergeSettings(HOOK_DEFAULTS, parsed);
      this.log.info({ path: this.path, settings: s }, 'loaded hook config');
      return s;
    } catch (err) {
      this.moveAside(`invalid: ${(err as Error).message}`);
      return { ...HOOK_DEFAULTS };
    }
  }

  /**
   * Merges a partial update, persists it and makes it live for the next request. Throws
   * SettingsError (an invalid value) or SettingsPersistError (the file could not be written);
   * either way nothing changes, in memory or on disk.
   */
  update(body: unknown): Promise<Readonly<HookSettings>> {
    const run = async () => {
      const next = Object.freeze(mergeSettings(this.current, body));
      if (this.remote) {
        // the fleet's copy first: a change that only one instance applied would split the fleet
        try {
          this.remoteVersion = await this.remote.write(settingsJson(next));
        } catch (err) {
          this.log.error({ where: this.remote.where, err: (err as Error).message }, 'shared hook config could not be saved; settings unchanged');
          throw new SettingsPersistError(this.remote.where, err);
        }
      }
      if (this.path) {
        try {
          await this.persist(next);
        } catch (err) {
          this.log.error({ path: this.path, err: (err as Error).message }, 'hook config could not be saved; settings unchanged');
          throw new SettingsPersistError(this.path, err);
        }
      }
      this.current = next;
      this.updated = true;
      this.loadError = null;
      this.log.info({ settings: next }, 'hook config updated');
      for (const l of this.listeners) l(next);
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
