/**
 * The connection to the fleet's Redis, failing open: every command has a deadline
 * (`commandTimeout`), nothing queues while disconnected (`enableOfflineQueue: false`, so a
 * command fails at once instead of waiting for a reconnect), the connect attempt is short and
 * reconnection is retried forever in the background. `run()` turns any failure into
 * `undefined`, counts it, and remembers the last error for `/health`; a caller that gets
 * `undefined` goes on without Redis.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../../core/logger.js';

/** A Redis failure this recent keeps the link reported as degraded. */
const DEGRADED_FOR_MS = 5_000;
/** At most one log line per outage, and one per this interval while it lasts. */
const LOG_EVERY_MS = 30_000;

export function redisOptions(timeoutMs: number): RedisOptions {
  return {
    commandTimeout: timeoutMs,
    connectTimeout: Math.max(timeoutMs, 1_000),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (times) => Math.min(100 * times, 1_000),
    enableAutoPipelining: true,
    lazyConnect: false,
  };
}

/** The URL without its credentials, for logs and `/health`. */
export function safeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname.length > 1 ? u.pathname : ''}`;
  } catch {
    return 'redis://(unparseable URL)';
  }
}

export class RedisLink {
  readonly client: Redis;
  /** Commands that failed or timed out (the request went on without Redis). */
  failures = 0;
  lastError: string | null = null;
  lastErrorAt = 0;
  private lastLogAt = 0;
  private closed = false;

  constructor(
    readonly url: string,
    timeoutMs: number,
    private readonly log: Logger,
  ) {
    this.client = new Redis(url, redisOptions(timeoutMs));
    this.client.on('error', (err: Error) => this.noteError(err, 'connection'));
    this.client.on('ready', () => {
      if (this.lastError !== null) this.log.info({ redis: safeRedisUrl(url) }, 'redis reachable again');
    });
  }

  get connected(): boolean {
    return this.client.status === 'ready';
  }

  get degraded(): boolean {
    return !this.connected || Date.now() - this.lastErrorAt < DEGRADED_FOR_MS;
  }

  private noteError(err: Error, what: string): void {
    if (this.closed) return;
    this.lastError = `${what}: ${err.message}`;
    this.lastErrorAt = Date.now();
    if (this.lastErrorAt - this.lastLogAt >= LOG_EVERY_MS) {
      this.lastLogAt = this.lastErrorAt;
      this.log.warn({ redis: safeRedisUrl(this.url), err: err.message, during: what }, 'redis unavailable: rate limits and the response cache fail open, the live view shows this instance only');
    }
  }

  /** Runs `fn`; any error (refused, timed out, disconnected) is counted and gives `undefined`. */
  async run<T>(what: string, fn: (r: Redis) => Promise<T>): Promise<T | undefined> {
    if (!this.connected) {
      // not connected (yet, or any more): no command is even attempted; reconnecting goes on in the background
      this.failures++;
      if (this.lastError === null) this.noteError(new Error(`not connected (${this.client.status})`), what);
      else this.lastErrorAt = Date.now();
      return undefined;
    }
    try {
      return await fn(this.client);
    } catch (err) {
      this.failures++;
      this.noteError(err as Error, what);
      return undefined;
    }
  }

  /** A second connection (subscribers need their own). */
  duplicate(): Redis {
    const d = this.client.duplicate();
    d.on('error', (err: Error) => this.noteError(err, 'subscriber'));
    return d;
  }

  close(): void {
    this.closed = true;
    this.client.disconnect();
  }
}
