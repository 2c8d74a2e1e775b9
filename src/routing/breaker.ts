/**
 * A circuit breaker per provider, so a dead provider costs no latency. Closed: requests pass;
 * after `failureThreshold` consecutive failures it opens. Open: requests are refused (the
 * caller goes straight to the next fallback) until `cooldownMs` has passed; then it is
 * half-open and lets exactly one probe through. The probe's success closes it; its failure
 * opens it again for another cool-down. The clock is injectable for tests.
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  failureThreshold?: number;
  cooldownMs?: number;
  now?: () => number;
}

export interface BreakerSnapshot {
  state: BreakerState;
  consecutiveFailures: number;
  /** When an open breaker lets its next probe through (ms since the epoch), else null. */
  retryAt: number | null;
  /** How many times it has opened. */
  opened: number;
}

export const DEFAULT_FAILURE_THRESHOLD = 5;
export const DEFAULT_COOLDOWN_MS = 30_000;

export class CircuitBreaker {
  private state: 'closed' | 'open' | 'half-open' = 'closed';
  private failures = 0;
  private openedAt = 0;
  private probing = false;
  private opened = 0;
  readonly failureThreshold: number;
  readonly cooldownMs: number;
  private readonly now: () => number;

  constructor(opts: BreakerOptions = {}) {
    this.failureThreshold = Math.max(1, Math.floor(opts.failureThreshold ?? DEFAULT_FAILURE_THRESHOLD));
    this.cooldownMs = Math.max(0, opts.cooldownMs ?? DEFAULT_COOLDOWN_MS);
    this.now = opts.now ?? Date.now;
  }

  /**
   * May a request go to this provider now? In half-open state only the first caller gets
   * `true` (the probe); it must report `success()` or `failure()`, or `release()` when the
   * attempt ended without a verdict (e.g. the client went away).
   */
  tryAcquire(): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open') {
      if (this.now() - this.openedAt < this.cooldownMs) return false;
      this.state = 'half-open';
      this.probing = false;
    }
    if (this.probing) return false;
    this.probing = true;
    return true;
  }

  success(): void {
    this.failures = 0;
    this.probing = false;
    this.state = 'closed';
  }

  failure(): void {
    this.probing = false;
    if (this.state === 'half-open') {
      this.trip();
      return;
    }
    if (this.state === 'open') return;
    this.failures++;
    if (this.failures >= this.failureThreshold) this.trip();
  }

  /** The half-open probe ended without telling whether the provider works. */
  release(): void {
    this.probing = false;
  }

  snapshot(): BreakerSnapshot {
    const state = this.current();
    return {
      state,
      consecutiveFailures: this.failures,
      retryAt: state === 'open' ? this.openedAt + this.cooldownMs : null,
      opened: this.opened,
    };
  }

  /** The state as of now (an open breaker whose cool-down is over reads as half-open). */
  current(): BreakerState {
    if (this.state === 'open' && this.now() - this.openedAt >= this.cooldownMs) return 'half-open';
    return this.state;
  }

  private trip(): void {
    this.state = 'open';
    this.openedAt = this.now();
    this.opened++;
  }
}

/** One breaker per provider name, created on first use with shared options. */
export class BreakerSet {
  private readonly breakers = new Map<string, CircuitBreaker>();

  constructor(private readonly opts: BreakerOptions = {}) {}

  for(provider: string): CircuitBreaker {
    let b = this.breakers.get(provider);
    if (!b) {
      b = new CircuitBreaker(this.opts);
      this.breakers.set(provider, b);
    }
    return b;
  }

  snapshot(): Record<string, BreakerSnapshot> {
    return Object.fromEntries([...this.breakers].map(([k, b]) => [k, b.snapshot()]));
  }
}

/** What ends an attempt so that the next fallback target is tried (before the first byte). */
export type AttemptFailure = { kind: 'connect' } | { kind: 'timeout' } | { kind: 'status'; status: number };

/** Connect errors, timeouts, 429 and 5xx move on to the next target and count against the breaker. */
export function shouldFallback(f: AttemptFailure): boolean {
  if (f.kind !== 'status') return true;
  return f.status === 429 || (f.status >= 500 && f.status <= 599);
}
