/**
 * The `/health` upstream probe: `HEAD <anthropic base URL>` with a 5 s timeout; any HTTP
 * response counts as reachable. The result is cached for 30 s and concurrent checks share one
 * probe. Before the first probe the state is "ok" (as in Headroom).
 *
 * It has its own small connection pool (`probeAgent`), never the proxy's: with every pooled
 * connection busy with streams, a probe queued behind them timed out and marked a healthy
 * upstream unreachable at the proxy's busiest moment.
 */
import { Agent, type Dispatcher } from 'undici';

/** A dedicated pool for the probe: two connections, short keep-alive, the probe's own timeouts. */
export function probeAgent(timeoutMs = 5_000): Agent {
  return new Agent({ connections: 2, connect: { timeout: timeoutMs }, keepAliveTimeout: 10_000, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
}

export interface ProbeState {
  ok: boolean;
  url: string | null;
  error: string | null;
  /** Epoch ms of the last completed probe (null before the first). */
  checkedAt: number | null;
  /** HTTP status of the last probe response. */
  status: number | null;
  latencyMs: number | null;
}

export class UpstreamProbe {
  state: ProbeState = { ok: true, url: null, error: null, checkedAt: null, status: null, latencyMs: null };
  private inflight: Promise<ProbeState> | null = null;

  constructor(
    private readonly url: string,
    private readonly dispatcher: Dispatcher,
    private readonly ttlMs = 30_000,
    private readonly timeoutMs = 5_000,
  ) {}

  /** Starts a probe in the background when the cached result is stale (never waits). */
  refresh(now = Date.now()): void {
    void this.check(now);
  }

  /** Probes unless the cached result is younger than the TTL. */
  check(now = Date.now()): Promise<ProbeState> {
    if (this.state.checkedAt !== null && now - this.state.checkedAt < this.ttlMs) return Promise.resolve(this.state);
    this.inflight ??= this.probe().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async probe(): Promise<ProbeState> {
    const t0 = performance.now();
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      const u = new URL(this.url);
      const res = await this.dispatcher.request({
        origin: u.origin,
        path: u.pathname === '' ? '/' : u.pathname,
        method: 'HEAD',
        signal,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      await res.body.dump().catch(() => undefined);
      this.state = { ok: true, url: this.url, error: null, checkedAt: Date.now(), status: res.statusCode, latencyMs: Math.round(performance.now() - t0) };
    } catch (err) {
      const message = signal.aborted ? `no response within ${this.timeoutMs} ms` : (err as Error).message || String(err);
      this.state = { ok: false, url: this.url, error: message, checkedAt: Date.now(), status: null, latencyMs: null };
    }
    return this.state;
  }
}
