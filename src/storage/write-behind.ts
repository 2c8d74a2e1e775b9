/**
 * Write-behind for a store whose working copy is in memory and whose rows are kept in a shared
 * database (the fleet's CCR originals and replay map): one way of batching writes off the
 * request path and of living through an outage.
 *
 * - Rows are queued by key (a newer row of a key replaces or merges with the pending one) and
 *   written in chunks, `delayMs` after the first one, by one writer at a time.
 * - A *vital* row (a new original, a decision that changed bytes) is one a request must not
 *   go on without: `durable()` resolves once every row pending when it was called is written,
 *   and every request waiting at once shares the same write. While the database is failing it
 *   rejects at once (until the next retry), so a request goes on without waiting on a dead store.
 * - A failed write keeps its rows and is retried with a backoff (250 ms doubling to 5 s); the
 *   pending set is bounded: past `maxPending` the oldest refresh is given up first, a vital row
 *   only past twice that. Given-up rows are counted (`dropped`).
 */
import { AsyncResource } from 'node:async_hooks';

export interface WriteBehindOptions<V> {
  /** In the message `durable()` rejects with: `<label> unavailable: <reason>`. */
  label: string;
  /** Writes one chunk; throws when it could not (the rows stay pending). */
  write(rows: V[]): Promise<void>;
  /** A row `durable()` waits for; the others are refreshes. */
  vital(row: V): boolean;
  /** What a row queued under a key already pending becomes (default: the new row). */
  merge?(pending: V, next: V): V;
  /** Runs after the pending rows were all written (e.g. a periodic purge); its failure is ignored. */
  afterWrite?(): Promise<unknown>;
  /** The one-line reason kept for health (default: the error's message). */
  describeError?(err: unknown): string;
  chunk?: number;
  maxPending?: number;
  delayMs?: number;
}

const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 5_000;

export class WriteBehind<V> {
  private pending = new Map<string, V>();
  private waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private writing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private failedAt = 0;
  private retryMs = RETRY_MIN_MS;
  private closed = false;
  /** Why the last write failed (null once one succeeds). */
  lastError: string | null = null;
  /** Rows given up because the pending set was full. */
  dropped = 0;
  private readonly chunk: number;
  private readonly maxPending: number;
  private readonly delayMs: number;
  private readonly onTimer = AsyncResource.bind(() => void this.write());
  private readonly onImmediate = AsyncResource.bind(() => {
    this.immediate = null;
    void this.write();
  });

  constructor(private readonly opts: WriteBehindOptions<V>) {
    this.chunk = opts.chunk ?? 200;
    this.maxPending = opts.maxPending ?? 200_000;
    this.delayMs = opts.delayMs ?? 250;
  }

  /** The last write failed and its retry is not due yet. */
  get failing(): boolean {
    return this.lastError !== null && Date.now() - this.failedAt < this.retryMs;
  }

  get size(): number {
    return this.pending.size;
  }

  /** Vital rows not written yet. */
  get unsaved(): number {
    let n = 0;
    for (const v of this.pending.values()) if (this.opts.vital(v)) n++;
    return n;
  }

  private hasVital(): boolean {
    for (const v of this.pending.values()) if (this.opts.vital(v)) return true;
    return false;
  }

  put(key: string, row: V): void {
    const old = this.pending.get(key);
    this.pending.set(key, old !== undefined && this.opts.merge ? this.opts.merge(old, row) : row);
    if (this.pending.size > this.maxPending) this.giveUpOne();
    this.schedule(this.delayMs);
  }

  private giveUpOne(): void {
    const any = this.pending.size > this.maxPending * 2;
    for (const [key, v] of this.pending) {
      if (any || !this.opts.vital(v)) {
        this.pending.delete(key);
        this.dropped++;
        return;
      }
    }
  }

  /** Takes back a vital row not written yet; true when there was one. */
  withdraw(key: string): boolean {
    const v = this.pending.get(key);
    if (v === undefined || !this.opts.vital(v)) return false;
    this.pending.delete(key);
    return true;
  }

  /** Resolves once the vital rows pending now are written; rejects at once while the database is failing. */
  durable(): Promise<void> {
    if (!this.writing && !this.hasVital()) return Promise.resolve();
    if (this.failing) return Promise.reject(new Error(`${this.opts.label} unavailable: ${this.lastError}`));
    const p = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.immediate ??= setImmediate(this.onImmediate);
    return p;
  }

  private schedule(ms: number): void {
    if (this.closed || this.timer || this.writing) return;
    this.timer = setTimeout(this.onTimer, ms);
    this.timer.unref();
  }

  /** Writes what is pending now (and what is queued meanwhile), chunk by chunk. */
  write(): Promise<void> {
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
          const batch: [string, V][] = [];
          for (const e of this.pending) {
            batch.push(e);
            if (batch.length >= this.chunk) break;
          }
          await this.opts.write(batch.map(([, v]) => v));
          // a row queued again while it was being written stays pending
          for (const [key, v] of batch) if (this.pending.get(key) === v) this.pending.delete(key);
        }
        this.lastError = null;
        this.retryMs = RETRY_MIN_MS;
        for (const w of waiters) w.resolve();
        await this.opts.afterWrite?.().catch(() => undefined);
      } catch (err) {
        this.lastError = this.opts.describeError?.(err) ?? ((err as Error)?.message || String(err));
        this.failedAt = Date.now();
        this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
        for (const w of waiters) w.reject(err);
      } finally {
        this.writing = null;
        if ((this.pending.size > 0 || this.waiters.length > 0) && !this.closed) this.schedule(this.lastError === null ? 0 : this.retryMs);
      }
    })();
    return this.writing;
  }

  /** Notes a failure of another operation of the same store (a read), so `durable()` fails fast too. */
  noteFailure(reason: string): void {
    this.lastError = reason;
    this.failedAt = Date.now();
  }

  /** Writes what is pending (shutdown); never rejects. */
  async drain(): Promise<void> {
    await this.write().catch(() => undefined);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
  }
}
