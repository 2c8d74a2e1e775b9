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
import { WriteBehind } from '../storage/write-behind.js';
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

const PURGE_EVERY_MS = 60_000;

type Pending = SharedDecision & { changed: boolean };

export class SharedReplayStore extends MemoryReplayStore {
  private readonly rows: WriteBehind<Pending>;
  private lastPurge = 0;
  private readonly refreshSlackMs: number;

  constructor(
    opts: ReplayOptions,
    private readonly backend: SharedReplayBackend,
    flushDelayMs = 250,
  ) {
    super(opts);
    this.refreshSlackMs = Math.floor(opts.ttlMs / 10);
    this.rows = new WriteBehind<Pending>({
      label: 'replay map',
      chunk: 500,
      delayMs: flushDelayMs,
      vital: (d) => d.changed,
      merge: (old, d) => ({ ...d, changed: d.changed || old.changed }),
      write: (batch) => this.backend.write(batch.map(({ key, compressed, lastUsed }) => ({ key, compressed, lastUsed }))),
      afterWrite: () => this.maybePurge(),
    });
  }

  private async maybePurge(): Promise<void> {
    const now = this.now();
    if (now - this.lastPurge <= PURGE_EVERY_MS) return;
    this.lastPurge = now;
    await this.backend.purge(now - this.opts.ttlMs);
  }

  /** Loads the decisions of `keys` that memory lacks. Never rejects. */
  async prefetch(keys: readonly string[]): Promise<void> {
    const now = this.now();
    const want = keys.filter((k) => {
      const e = this.map.peek(k);
      return !e || now - e.lastUsed > this.opts.ttlMs;
    });
    if (want.length === 0 || this.rows.failing) return;
    try {
      const found = await this.backend.fetch([...new Set(want)], now - this.opts.ttlMs);
      for (const d of found) {
        if (this.map.peek(d.key)) continue;
        this.set(d.key, d.compressed, d.lastUsed);
        const e = this.map.peek(d.key);
        if (e) e.shared = d.lastUsed;
      }
      this.evict();
    } catch (err) {
      this.rows.noteFailure((err as Error)?.message ?? String(err));
    }
  }

  protected override written(key: string, compressed: string | null, now: number): void {
    const e = this.map.peek(key);
    if (e) e.shared = now;
    this.rows.put(key, { key, compressed, lastUsed: now, changed: compressed !== null });
  }

  /** A use refreshes the shared row's last_used (what its expiry is counted from) only when that moves it by more than a tenth of the TTL. */
  protected override touched(key: string, now: number): void {
    const e = this.map.peek(key);
    if (!e || (e.shared !== undefined && now - e.shared < this.refreshSlackMs)) return;
    e.shared = now;
    this.rows.put(key, { key, compressed: e.compressed, lastUsed: now, changed: false });
  }

  durable(): Promise<void> {
    return this.rows.durable();
  }

  withdraw(keys: readonly string[]): void {
    for (const k of keys) if (this.rows.withdraw(k)) this.remove(k);
  }

  override stats(): ReplayStats {
    return {
      ...super.stats(),
      backend: this.backend.kind,
      path: this.backend.where,
      pendingWrites: this.rows.size,
      degraded: this.rows.lastError !== null,
      lastError: this.rows.lastError,
    };
  }

  override flush(): void {
    void this.rows.write();
  }

  /** Writes what is pending (shutdown). */
  drain(): Promise<void> {
    return this.rows.drain();
  }

  override close(): void {
    this.rows.close();
    super.close();
  }
}
