/**
 * The `fallback` link (position 200): makes the attempts of a routed request. Each attempt
 * sets `call.target` (provider, format, base URL, path, model, key headers) and goes down the
 * chain (the retry link retries that same target); its response is held back before the first
 * byte reaches the client only when another attempt could follow it:
 *
 * - 401, 403, 429 or a quota error with server-side keys left untried: the same target again
 *   with the provider's next key;
 * - a connect error, a timeout, 429 or 5xx with fallback targets left: the next target;
 * - otherwise the response (or the error) is handed on as it is.
 *
 * Every provider has a circuit breaker: failed attempts count against it, an open breaker makes
 * its target be skipped (no upstream call), and after the cool-down one probe goes through.
 * Each attempt is recorded in `outcome.ext.routing.attempts` (skips too).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from '../../core/logger.js';
import { type CircuitBreaker, type KeyRotation, type ResolvedModel, shouldFallback, shouldRotateKey } from '../../routing/index.js';
import type { CallFailure, CallHandler, Dispatch, Exchange, FlowControl, ForwardCall, ForwardLink } from '../proxy/api.js';
import type { RoutingAttempt } from './api.js';
import type { RoutePlan } from './route-link.js';
import type { RoutingState } from './state.js';
import { targetFor } from './target.js';

export const FALLBACK_LINK_POSITION = 200;

/** Largest error body held back to decide on (quota text); beyond it the decision uses the status. */
const MAX_HELD_BYTES = 256 * 1024;

const NO_FLOW: FlowControl = { pause() {}, resume() {} };

export function fallbackLink(state: RoutingState, plans: WeakMap<Exchange, RoutePlan>, log: Logger): ForwardLink {
  return {
    name: 'fallback',
    position: FALLBACK_LINK_POSITION,
    apis: ['messages', 'chat'],
    wrap: (next) => (call, handler) => {
      const plan = call.round === 0 && !call.target ? plans.get(call.ex) : undefined;
      if (!plan) return next(call, handler);
      new Attempts(call, handler, next, plan, state, log).start();
    },
  };
}

interface Held {
  status: number;
  headers: IncomingHttpHeaders;
  chunks: Buffer[];
  bytes: number;
}

class Attempts {
  private index = 0;
  private rotation: KeyRotation | null = null;
  private breaker: CircuitBreaker | null = null;
  /** The last response held back (answered when no further attempt can be made). */
  private held: Held | null = null;
  private lastFailure: CallFailure | null = null;
  private readonly skipped: string[] = [];

  constructor(
    private readonly call: ForwardCall,
    private readonly out: CallHandler,
    private readonly next: Dispatch,
    private readonly plan: RoutePlan,
    private readonly state: RoutingState,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.nextTarget();
  }

  private get ex(): Exchange {
    return this.call.ex;
  }

  private get target(): ResolvedModel {
    return this.plan.targets[this.index]!;
  }

  private get moreTargets(): boolean {
    return this.index + 1 < this.plan.targets.length;
  }

  /** Starts the first target at or after `index` whose breaker lets a request through. */
  private nextTarget(): void {
    const summary = this.plan.summary;
    while (this.index < this.plan.targets.length) {
      const t = this.target;
      const breaker = this.state.breakers.for(t.provider.name);
      if (breaker.tryAcquire()) {
        this.breaker = breaker;
        this.rotation = this.plan.snapshot.pools.get(t.provider.name)?.begin() ?? null;
        this.send();
        return;
      }
      this.skipped.push(t.provider.name);
      summary.attempts.push({ provider: t.provider.name, model: t.model, status: null, error: 'breaker_open', durationMs: 0, key: null });
      this.index++;
    }
    this.exhausted();
  }

  /** One attempt at the current target with the current key. */
  private send(): void {
    const t = this.target;
    const ex = this.ex;
    const key = this.rotation?.current() ?? null;
    const summary = this.plan.summary;
    summary.provider = t.provider.name;
    summary.model = t.model;
    summary.translated = t.translate;
    summary.format = t.provider.format;
    if (this.index > 0) summary.via = t.via;
    const attempt: RoutingAttempt = { provider: t.provider.name, model: t.model, status: null, error: null, durationMs: 0, key: key === null ? null : this.rotation!.position() };
    summary.attempts.push(attempt);
    const target = targetFor(t, this.plan.clientFormat, key, ex);
    const call: ForwardCall = target ? { ...this.call, target } : this.call;
    this.next(call, new AttemptHandler(this, attempt, performance.now()));
  }

  /** Whether a response with this status may be followed by another attempt (so it is held back). */
  mayRetry(status: number): boolean {
    if (status < 400) return false;
    if (this.rotation && this.rotation.attempts < (this.plan.snapshot.pools.get(this.target.provider.name)?.size ?? 0)) return true;
    return this.moreTargets && shouldFallback({ kind: 'status', status });
  }

  /** A response came: passed on (`true`) or held back for a decision at its end. */
  committed(status: number): void {
    this.forgetHeldErrors();
    if (shouldFallback({ kind: 'status', status })) this.breaker?.failure();
    else this.breaker?.success();
  }

  /** A held-back response ended: another attempt, or the response is answered. */
  decide(held: Held): void {
    const ex = this.ex;
    if (ex.closed) return this.out.onError({ kind: 'aborted', midBody: false, status: 499, type: 'client_abort', message: 'client closed the connection' });
    const body = Buffer.concat(held.chunks, held.bytes);
    const text = held.bytes <= MAX_HELD_BYTES ? body.toString('utf8', 0, Math.min(body.length, 4096)) : null;
    const t = this.target;
    if (this.rotation && shouldRotateKey(held.status, text) && this.rotation.next() !== null) {
      this.log.warn({ provider: t.provider.name, status: held.status, key: this.rotation.position() }, 'upstream refused the key; trying the provider\'s next key');
      this.send();
      return;
    }
    if (this.moreTargets && shouldFallback({ kind: 'status', status: held.status })) {
      this.breaker?.failure();
      this.held = { ...held, chunks: [body] };
      this.lastFailure = null;
      this.log.warn({ provider: t.provider.name, status: held.status, next: this.plan.targets[this.index + 1]!.ref }, 'upstream failed; trying the next fallback target');
      this.index++;
      this.nextTarget();
      return;
    }
    this.committed(held.status);
    this.replay({ ...held, chunks: [body] });
  }

  /**
   * The usage observer (inside this link) noted the detail of every held-back error body; the
   * response now handed on is this request's answer, so those notes are not its error.
   */
  private forgetHeldErrors(): void {
    const rec = this.ex.rec;
    if (rec.errorType === null && this.plan.summary.attempts.length > 1) rec.errorMessage = null;
  }

  /** A call failed before any response reached the client. */
  failed(f: CallFailure, attempt: RoutingAttempt): void {
    if (f.kind === 'aborted') {
      this.breaker?.release();
      this.out.onError(f);
      return;
    }
    attempt.error = f.kind;
    this.breaker?.failure();
    if (this.moreTargets && !this.ex.closed) {
      this.log.warn({ provider: this.target.provider.name, failure: f.kind, next: this.plan.targets[this.index + 1]!.ref }, 'upstream unreachable; trying the next fallback target');
      this.lastFailure = f;
      this.held = null;
      this.index++;
      this.nextTarget();
      return;
    }
    this.out.onError(f);
  }

  /** A failure after the response had been handed on: nothing more can be tried. */
  failedMidBody(f: CallFailure): void {
    if (f.kind === 'aborted') this.breaker?.release();
    else this.breaker?.failure();
    this.out.onError(f);
  }

  get handler(): CallHandler {
    return this.out;
  }

  /** No target left to try (the rest have open breakers): the last answer, or 503. */
  private exhausted(): void {
    if (this.held) return this.replay(this.held);
    if (this.lastFailure) return this.out.onError(this.lastFailure);
    const names = [...new Set(this.skipped)];
    const retryAt = Math.min(...names.map((n) => this.state.breakers.for(n).snapshot().retryAt ?? Date.now()));
    const seconds = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
    this.out.onError({
      kind: 'connect',
      midBody: false,
      status: 503,
      type: 'upstream_overloaded',
      message: `No provider available for model ${JSON.stringify(this.plan.summary.requestedModel)}: the circuit breaker of ${names.join(', ')} is open after repeated failures (next probe in ${seconds} s).`,
    });
  }

  private replay(held: Held): void {
    this.out.onHeaders(held.status, held.headers, NO_FLOW);
    for (const c of held.chunks) this.out.onData(c, NO_FLOW);
    this.out.onEnd();
  }
}

/** The handler of one attempt: passes a response on, or holds it back when another attempt may follow. */
class AttemptHandler implements CallHandler {
  private held: Held | null = null;
  private passed = false;

  constructor(
    private readonly attempts: Attempts,
    private readonly attempt: RoutingAttempt,
    private readonly t0: number,
  ) {}

  onHeaders(status: number, headers: IncomingHttpHeaders, control: FlowControl): void {
    this.attempt.status = status;
    this.attempt.durationMs = Math.round((performance.now() - this.t0) * 1000) / 1000;
    if (this.attempts.mayRetry(status)) {
      this.held = { status, headers, chunks: [], bytes: 0 };
      return;
    }
    this.passed = true;
    this.attempts.committed(status);
    this.attempts.handler.onHeaders(status, headers, control);
  }

  onData(chunk: Buffer, control: FlowControl): void {
    const held = this.held;
    if (!held) return this.attempts.handler.onData(chunk, control);
    held.bytes += chunk.length;
    held.chunks.push(chunk);
  }

  onEnd(): void {
    if (this.held) this.attempts.decide(this.held);
    else this.attempts.handler.onEnd();
  }

  onError(f: CallFailure): void {
    if (this.passed) return this.attempts.failedMidBody(f);
    if (!this.attempt.durationMs) this.attempt.durationMs = Math.round((performance.now() - this.t0) * 1000) / 1000;
    // a held-back response whose body broke: nothing of it was handed on
    this.attempts.failed(this.held ? { ...f, midBody: false } : f, this.attempt);
  }
}
