/**
 * The SSE hub behind `/metrics/active-requests/stream`. One snapshot is serialised per
 * version and shared by every client. Changes are coalesced (at most one `update` per
 * `minIntervalMs`), nothing is sent while nothing changes except the heartbeat comment, and
 * every frame carries `id:` (`<boot>-<version>`) so a reconnecting EventSource that is already
 * up to date gets no duplicate snapshot. A client that cannot take a frame is never waited
 * for: it is skipped until its socket drains (then it gets the latest snapshot only), and
 * dropped when it stays blocked for `stallMs`. At most one frame is buffered per client, and
 * a closed connection leaves nothing behind.
 */
import { randomBytes } from 'node:crypto';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

export interface SseOptions {
  minIntervalMs: number;
  heartbeatMs: number;
  retryMs: number;
  maxClients: number;
  stallMs: number;
}

export interface SnapshotSource {
  readonly version: number;
  /** JSON of the current snapshot (no newlines). */
  snapshotJson(): string;
}

interface Client {
  readonly res: ServerResponse;
  /** Waiting for `drain`: nothing is written to it meanwhile. */
  busy: boolean;
  busySince: number;
  /** Version of the last snapshot written to it. */
  sentVersion: number;
  readonly onDrain: () => void;
}

export const SSE_HEADERS: OutgoingHttpHeaders = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

export interface SseStats {
  clients: number;
  busy_clients: number;
  served: number;
  dropped_slow: number;
  rejected_full: number;
  updates_broadcast: number;
  timers: { flush: boolean; heartbeat: boolean; sweep: boolean };
}

export class SseHub {
  /** Distinguishes this process's event ids from a previous run's. */
  readonly bootId = randomBytes(4).toString('hex');
  private readonly clients = new Set<Client>();
  private frame: { version: number; text: string } | null = null;
  private broadcastVersion = -1;
  private lastFlushAt = 0;
  private flushTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private served = 0;
  private dropped = 0;
  private rejected = 0;
  private broadcasts = 0;

  constructor(
    private readonly source: SnapshotSource,
    private readonly opts: SseOptions,
  ) {}

  eventId(version: number): string {
    return `${this.bootId}-${version}`;
  }

  get size(): number {
    return this.clients.size;
  }

  /**
   * Starts a stream on `res` (headers not sent yet). Returns false, without touching `res`,
   * when the hub is full.
   */
  open(res: ServerResponse, lastEventId: string | null): boolean {
    if (this.clients.size >= this.opts.maxClients) {
      this.rejected++;
      return false;
    }
    this.served++;
    res.socket?.setNoDelay(true);
    res.writeHead(200, SSE_HEADERS);
    const client: Client = {
      res,
      busy: false,
      busySince: 0,
      sentVersion: -1,
      onDrain: () => this.drained(client),
    };
    this.clients.add(client);
    res.on('drain', client.onDrain);
    res.once('close', () => this.remove(client));
    const f = this.currentFrame();
    if (lastEventId === this.eventId(f.version)) {
      // The client already holds this exact snapshot: only refresh its retry delay.
      client.sentVersion = f.version;
      this.write(client, `retry: ${this.opts.retryMs}\n\n`, null);
    } else {
      this.write(client, `retry: ${this.opts.retryMs}\n${f.text}`, f.version);
    }
    this.ensureTimers();
    return true;
  }

  /** A tracker change: schedule a coalesced broadcast (O(1)). */
  notify(): void {
    if (this.clients.size === 0 || this.flushTimer !== null) return;
    const wait = Math.max(0, this.lastFlushAt + this.opts.minIntervalMs - Date.now());
    this.flushTimer = setTimeout(this.flush, wait);
    this.flushTimer.unref();
  }

  private readonly flush = (): void => {
    this.flushTimer = null;
    this.lastFlushAt = Date.now();
    if (this.clients.size === 0) return;
    const f = this.currentFrame();
    if (f.version === this.broadcastVersion) return;
    this.broadcastVersion = f.version;
    this.broadcasts++;
    for (const c of this.clients) {
      if (c.sentVersion !== f.version) this.write(c, f.text, f.version);
    }
  };

  private currentFrame(): { version: number; text: string } {
    const version = this.source.version;
    if (this.frame?.version !== version) {
      this.frame = { version, text: `id: ${this.eventId(version)}\nevent: update\ndata: ${this.source.snapshotJson()}\n\n` };
    }
    return this.frame;
  }

  private write(c: Client, text: string, version: number | null): void {
    if (c.busy || c.res.destroyed) return;
    if (version !== null) c.sentVersion = version;
    if (!c.res.write(text)) {
      c.busy = true;
      c.busySince = Date.now();
    }
  }

  private drained(c: Client): void {
    c.busy = false;
    const f = this.frame;
    // Catch up with the newest broadcast only; intermediate snapshots are never queued.
    if (f && f.version === this.broadcastVersion && c.sentVersion !== f.version) this.write(c, f.text, f.version);
  }

  private heartbeat = (): void => {
    for (const c of this.clients) this.write(c, ': heartbeat\n\n', null);
  };

  private sweep = (): void => {
    const now = Date.now();
    for (const c of this.clients) {
      if (c.busy && now - c.busySince >= this.opts.stallMs) {
        this.dropped++;
        c.res.destroy();
        this.remove(c);
      }
    }
  };

  private ensureTimers(): void {
    if (this.heartbeatTimer === null) {
      this.heartbeatTimer = setInterval(this.heartbeat, this.opts.heartbeatMs);
      this.heartbeatTimer.unref();
    }
    if (this.sweepTimer === null) {
      this.sweepTimer = setInterval(this.sweep, Math.max(10, Math.min(this.opts.stallMs / 2, 5_000)));
      this.sweepTimer.unref();
    }
  }

  private remove(c: Client): void {
    if (!this.clients.delete(c)) return;
    c.res.off('drain', c.onDrain);
    if (this.clients.size > 0) return;
    for (const t of [this.flushTimer, this.heartbeatTimer, this.sweepTimer]) if (t !== null) clearTimeout(t);
    this.flushTimer = this.heartbeatTimer = this.sweepTimer = null;
    this.frame = null;
    this.broadcastVersion = -1;
  }

  /** Ends every stream (shutdown). */
  closeAll(): void {
    for (const c of [...this.clients]) {
      c.res.end();
      this.remove(c);
    }
  }

  stats(): SseStats {
    let busy = 0;
    for (const c of this.clients) if (c.busy) busy++;
    return {
      clients: this.clients.size,
      busy_clients: busy,
      served: this.served,
      dropped_slow: this.dropped,
      rejected_full: this.rejected,
      updates_broadcast: this.broadcasts,
      timers: { flush: this.flushTimer !== null, heartbeat: this.heartbeatTimer !== null, sweep: this.sweepTimer !== null },
    };
  }
}

/** Answers a stream request when monitoring is off: one `disabled` event, then the end. */
export function sendDisabledStream(res: ServerResponse, body: unknown): void {
  res.writeHead(200, SSE_HEADERS);
  // A long retry keeps well-behaved clients from hammering; EventSource users should close on `disabled`.
  res.end(`retry: 3600000\nevent: disabled\ndata: ${JSON.stringify(body)}\n\n`);
}
