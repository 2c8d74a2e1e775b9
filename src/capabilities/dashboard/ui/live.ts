/**
 * The active-requests stream (`/metrics/active-requests/stream`, SSE). Each `update` carries
 * the full snapshot. On an error the connection is closed and reopened after a growing,
 * jittered delay (reset by the next update); before every (re)connection the stream cookie is
 * renewed when a token is held (a restarted proxy no longer knows the old cookie). `disabled`
 * (monitoring off) stops it. The owner stops it while the tab is hidden.
 */
import { AuthError, openStreamSession } from './api.js';
import { backoffMs } from './backoff.js';
import type { ActiveSnapshot } from './types.js';

export type StreamState =
  | { kind: 'connecting' }
  | { kind: 'live' }
  | { kind: 'retrying'; inMs: number; attempt: number }
  | { kind: 'paused' }
  | { kind: 'disabled' }
  | { kind: 'unauthorized' };

export const STREAM_URL = '/metrics/active-requests/stream';

export class LiveStream {
  private es: EventSource | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private running = false;
  private generation = 0;

  constructor(
    private readonly onSnapshot: (s: ActiveSnapshot, receivedAt: number) => void,
    private readonly onState: (s: StreamState) => void,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.attempt = 0;
    void this.connect();
  }

  /** Closes the stream; `paused` tells the view why. */
  stop(state: StreamState = { kind: 'paused' }): void {
    this.running = false;
    this.generation++;
    this.close();
    this.onState(state);
  }

  private close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.es?.close();
    this.es = null;
  }

  private async connect(): Promise<void> {
    const gen = ++this.generation;
    this.close();
    this.onState({ kind: 'connecting' });
    try {
      await openStreamSession();
    } catch (err) {
      if (gen !== this.generation) return;
      if (err instanceof AuthError) return this.stop({ kind: 'unauthorized' });
      return this.retry(gen);
    }
    if (gen !== this.generation) return;
    const es = new EventSource(STREAM_URL);
    this.es = es;
    es.addEventListener('update', (e) => {
      if (gen !== this.generation) return;
      this.attempt = 0;
      this.onState({ kind: 'live' });
      this.onSnapshot(JSON.parse((e as MessageEvent<string>).data) as ActiveSnapshot, Date.now());
    });
    es.addEventListener('disabled', () => {
      if (gen === this.generation) this.stop({ kind: 'disabled' });
    });
    es.addEventListener('error', () => {
      if (gen === this.generation) this.retry(gen);
    });
  }

  private retry(gen: number): void {
    this.close();
    if (!this.running || gen !== this.generation) return;
    const inMs = backoffMs(this.attempt);
    this.onState({ kind: 'retrying', inMs, attempt: ++this.attempt });
    this.timer = setTimeout(() => void this.connect(), inMs);
  }
}
