/**
 * A replay map shared by the instances of a fleet: memory stays the working copy (the
 * engine's lookups are synchronous map reads), and a shared backend (Postgres,
 * `pg-replay.ts`; a Redis backend implements the same {@link SharedReplayBackend}) holds every
 * instance's decisions.
 *
 * - Before the engine runs, the compression stage calls `prefetch(keys)` with the request's
 *   replay keys (`replay-keys.ts`): the decisions memory lacks are fetched in one round trip.
 * - A decision that changed bytes is written before the request that made it goes upstream
 *   (`durable()`), so the next turn, on any instance, replays it byte for byte. Refreshes are
 *   written in batches off the request path.
 * - The backend failing never fails a request: `prefetch` answers from memory, `durable()`
 *   rejects at once (the request is forwarded uncompressed, as with a full disk), pending rows
 *   are kept (bounded) and written when it answers again.
 */
import { AsyncResource } from 'node:async_hooks';
import { MemoryReplayStore, type ReplayOptions, type ReplayStats, type ReplayWrite } from './replay.js';

export interface SharedDecision extends ReplayWrite {
  /** Epoch ms of its last use. */
  lastUsed: number;
}

/** Where a fleet's replay decisions live. Writes are idempotent: one key always has one decision. */
export interface SharedReplayBackend {
  /** `postgres://host/db`, `redis://host` (no secrets): for stats and health. */
  readonly where: string;
  readonly kind: 'postgres' | 'redis';
  /** The decisions stored for `keys` last used at or after `since` (epoch ms). */
  fetch(keys: readonly string[], since: number): Promise<SharedDecision[]>;
  /** Stores new decisions (the first decision of a key wins) and refreshes `lastUsed` of known ones. */
  write(entries: readonly SharedDecision[]): Promise<void>;
  /** Drops decisions last used before `before`. */
  purge(before: number): Promise<void>;
}

const MAX_PENDING = 200_000;
const PURGE_EVERY_MS = 60_000;

export class SharedReplayStore extends MemoryReplayStore {
  private pending = new Map<string, SharedDecision & { changed: boolean }>();
  private waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private writing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastError: string | null = null;
  private failedAt = 0;
  private retryMs = 250;
  private lastPurge = 0;
  private dropped = 0;
  private fetched = 0;
  private closed = false;
  private readonly onTimer = AsyncResource.bind(() => void this.write());

  constructor(
    opts: ReplayOptions,
    private readonly backend: SharedReplayBackend,
    private readonly flushDelayMs = 250,
  ) {
    super(opts);
  }

  private get failing(): boolean {
    return this.lastError !== null && Date.now() - this.failedAt < this.retryMs;
  }

  /** Loads the decisions of `keys` that memory lacks. Never rejects. */
  async prefetch(keys: readonly string[]): Promise<void> {
    const now = this.now();
    const want = keys.filter((k) => {
      const e = this.map.peek(k);
      return !e || now - e.lastUsed > this.opts.ttlMs;
    });
    if (want.length === 0 || this.failing) return;
    try {
      const found = await this.backend.fetch([...new Set(want)], now - this.opts.ttlMs);
      for (const d of found) {
        if (this.map.peek(d.key)) continue;
        this.set(d.key, d.compressed, d.lastUsed);
        this.fetched++;
      }
      this.evict();
    } catch (err) {
      this.fail(err);
    }
  }

  protected override written(key: string, compressed: string | null, now: number): void {
    this.queue({ key, compressed, lastUsed: now, changed: compressed !== null });
  }

  protected override touched(key: string, now: number): void {
    const e = this.map.peek(key);
    if (e) this.queue({ key, compressed: e.compressed, lastUsed: now, changed: false });
  }

  private queue(d: SharedDecision & { changed: boolean }): void {
    const old = this.pending.get(d.key);
    this.pending.set(d.key, { ...d, changed: d.changed || (old?.changed ?? false) });
    if (this.pending.size > MAX_PENDING) {
      const first = this.pending.keys().next().value;
      if (first !== undefined) {
        this.pending.delete(first);
        this.dropped++;
      }
    }
    this.schedule(this.flushDelayMs);
  }

  private schedule(ms: number): void {
    if (this.closed || this.timer || this.writing) return;
    this.timer = setTimeout(this.onTimer, ms);
    this.timer.unref();
  }

  durable(): Promise<void> {
    let changed = false;
    for (const p of this.pending.values()) if (p.changed) changed = true;
    if (!changed && !this.writing) return Promise.resolve();
    if (this.failing) return Promise.reject(new Error(`replay map unavailable: ${this.lastError}`));
    const p = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    setImmediate(() => void this.write());
    return p;
  }

  withdraw(keys: readonly string[]): void {
    for (const k of keys) {
      const p = this.pending.get(k);
      if (p?.changed) {
        this.pending.delete(k);
        this.remove(k);
      }
    }
  }

  private fail(err: unknown): void {
    this.lastError = (err as Error)?.message ?? String(err);
    this.failedAt = Date.now();
    this.retryMs = Math.min(this.retryMs * 2, 5_000);
  }

  private write(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.writing) return this.writing.then(() => (this.pending.size > 0 || this.waiters.length > 0 ? this.write() : undefined));
    this.writing = (async () => {
      const waiters = this.waiters;
      this.waiters = [];
      try {
        while (this.pending.size > 0) {
          const batch = [...this.pending.values()].slice(0, 500);
          await this.backend.write(batch.map(({ key, compressed, lastUsed }) => ({ key, compressed, lastUsed })));
          for (const d of batch) if (this.pending.get(d.key) === d) this.pending.delete(d.key);
        }
        this.lastError = null;
        this.retryMs = 250;
        for (const w of waiters) w.resolve();
        const now = this.now();
        if (now - this.lastPurge > PURGE_EVERY_MS) {
          this.lastPurge = now;
          await this.backend.purge(now - this.opts.ttlMs).catch(() => undefined);
        }
      } catch (err) {
        this.fail(err);
        for (const w of waiters) w.reject(err);
      } finally {
        this.writing = null;
        if ((this.pending.size > 0 || this.waiters.length > 0) && !this.closed) this.schedule(this.lastError === null ? 0 : this.retryMs);
      }
    })();
    return this.writing;
  }

  override stats(): ReplayStats {
    return {
      ...super.stats(),
      backend: this.backend.kind,
      path: this.backend.where,
      pendingWrites: this.pending.size,
      degraded: this.lastError !== null,
      lastError: this.lastError,
    };
  }

  override flush(): void {
    void this.write();
  }

  /** Writes what is pending (shutdown). */
  async drain(): Promise<void> {
    await this.write().catch(() => undefined);
  }

  override close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    super.close();
  }
}
