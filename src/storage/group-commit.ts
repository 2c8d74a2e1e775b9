/**
 * Group commit for a store whose writes must be durable before a request goes on (a CCR
 * marker may only reach the upstream once its original is on disk). Requests that need their
 * writes durable call `wait()`; every waiter of one event-loop turn is settled by one
 * transaction (`write`), run at `setImmediate`, so concurrent requests share the cost. A
 * failed write rejects its waiters, keeps its data (the store restores it to its pending
 * set) and is retried in the background with a backoff, so nothing is dropped while a disk
 * is full.
 */
import { AsyncResource } from 'node:async_hooks';

export interface GroupCommitOptions {
  /** Writes everything pending in one transaction; throws when it could not. */
  write(): void;
  /** Called with each failure (logging, health). */
  onError?(err: unknown): void;
  retryMinMs?: number;
  retryMaxMs?: number;
}

export class GroupCommit {
  private waiters: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  private immediate: NodeJS.Immediate | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryDelay: number;
  private closed = false;
  /** Background callbacks run outside any request's async context. */
  private readonly onImmediate = AsyncResource.bind(() => {
    this.immediate = null;
    this.run();
  });
  private readonly onRetry = AsyncResource.bind(() => {
    this.retryTimer = null;
    this.run();
  });

  constructor(private readonly opts: GroupCommitOptions) {
    this.retryDelay = opts.retryMinMs ?? 250;
  }

  /** Resolves once what is pending now has been written (or rejects with why it was not). */
  wait(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('store closed'));
    const p = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.immediate ??= setImmediate(this.onImmediate);
    return p;
  }

  /** Writes now and settles the waiters; false when the write failed (a retry is scheduled). */
  run(): boolean {
    const waiters = this.waiters;
    this.waiters = [];
    try {
      this.opts.write();
    } catch (err) {
      this.opts.onError?.(err);
      for (const w of waiters) w.reject(err);
      this.scheduleRetry();
      return false;
    }
    this.retryDelay = this.opts.retryMinMs ?? 250;
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    for (const w of waiters) w.resolve();
    return true;
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(this.onRetry, this.retryDelay);
    this.retryTimer.unref();
    this.retryDelay = Math.min(this.retryDelay * 2, this.opts.retryMaxMs ?? 5_000);
  }

  /** Stops background work; waiters still pending are rejected. */
  close(): void {
    this.closed = true;
    if (this.immediate) clearImmediate(this.immediate);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.immediate = null;
    this.retryTimer = null;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(new Error('store closed'));
  }
}
