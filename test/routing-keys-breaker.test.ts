/**
 * Key rotation (next untried key on 401/403/429/quota, round robin between requests) and the
 * per-provider circuit breaker (closed -> open after N consecutive failures -> half-open with a
 * single probe after the cool-down), on an injected clock.
 */
import { describe, expect, it } from 'vitest';
import { BreakerSet, CircuitBreaker, KeyPool, shouldFallback, shouldRotateKey } from '../src/routing/index.js';

describe('key rotation', () => {
  const KEYS = ['sk-test-fake-a', 'sk-test-fake-b', 'sk-test-fake-c'];

  it('an empty pool passes the client key through', () => {
    const r = new KeyPool([]).begin();
    expect(r.current()).toBeNull();
    expect(r.next()).toBeNull();
    expect(r.attempts).toBe(0);
  });

  it('tries every key once, then is exhausted', () => {
    const r = new KeyPool(KEYS).begin();
    const seen = [r.current()];
    for (let k = r.next(); k !== null; k = r.next()) seen.push(k);
    expect(seen).toEqual(KEYS);
    expect(r.current()).toBeNull();
    expect(r.attempts).toBe(3);
  });

  it('starts each request at the next key (round robin) and still tries all others', () => {
    const pool = new KeyPool(KEYS);
    expect(pool.begin().current()).toBe('sk-test-fake-a');
    const second = pool.begin();
    expect(second.current()).toBe('sk-test-fake-b');
    expect([second.next(), second.next(), second.next()]).toEqual(['sk-test-fake-c', 'sk-test-fake-a', null]);
    expect(pool.begin().current()).toBe('sk-test-fake-c');
    expect(pool.begin().current()).toBe('sk-test-fake-a');
  });

  it('rotates on 401, 403, 429 and quota errors, not on other failures', () => {
    expect([401, 403, 429].map((s) => shouldRotateKey(s))).toEqual([true, true, true]);
    expect(shouldRotateKey(400, '{"error":{"type":"insufficient_quota","message":"You exceeded your current quota"}}')).toBe(true);
    expect(shouldRotateKey(400, '{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low"}}')).toBe(true);
    expect(shouldRotateKey(400, '{"error":{"message":"bad tool schema"}}')).toBe(false);
    expect(shouldRotateKey(500)).toBe(false);
    expect(shouldRotateKey(200, 'quota')).toBe(false);
  });
});

describe('circuit breaker', () => {
  const clock = () => {
    let t = 1_000_000;
    return { now: () => t, advance: (ms: number) => (t += ms) };
  };

  it('opens after N consecutive failures; a success in between resets the count', () => {
    const c = clock();
    const b = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 10_000, now: c.now });
    b.failure();
    b.failure();
    b.success();
    b.failure();
    b.failure();
    expect(b.current()).toBe('closed');
    expect(b.tryAcquire()).toBe(true);
    b.failure();
    expect(b.current()).toBe('open');
    expect(b.tryAcquire()).toBe(false);
    expect(b.snapshot()).toEqual({ state: 'open', consecutiveFailures: 3, retryAt: 1_010_000, opened: 1 });
  });

  it('after the cool-down lets exactly one probe through; its success closes it', () => {
    const c = clock();
    const b = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 5_000, now: c.now });
    b.failure();
    c.advance(4_999);
    expect(b.tryAcquire()).toBe(false);
    c.advance(1);
    expect(b.current()).toBe('half-open');
    expect(b.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(false); // a second request while the probe is out
    b.success();
    expect(b.current()).toBe('closed');
    expect([b.tryAcquire(), b.tryAcquire()]).toEqual([true, true]);
  });

  it("a failed probe opens it again for a full cool-down", () => {
    const c = clock();
    const b = new CircuitBreaker({ failureThreshold: 2, cooldownMs: 1_000, now: c.now });
    b.failure();
    b.failure();
    c.advance(1_000);
    expect(b.tryAcquire()).toBe(true);
    b.failure();
    expect(b.current()).toBe('open');
    expect(b.snapshot().opened).toBe(2);
    c.advance(999);
    expect(b.tryAcquire()).toBe(false);
    c.advance(1);
    expect(b.tryAcquire()).toBe(true);
  });

  it('a probe released without a verdict lets the next request probe', () => {
    const c = clock();
    const b = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 0, now: c.now });
    b.failure();
    expect(b.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(false);
    b.release();
    expect(b.tryAcquire()).toBe(true);
  });

  it('keeps one breaker per provider', () => {
    const c = clock();
    const set = new BreakerSet({ failureThreshold: 1, cooldownMs: 60_000, now: c.now });
    set.for('dead').failure();
    expect(set.for('dead').tryAcquire()).toBe(false);
    expect(set.for('alive').tryAcquire()).toBe(true);
    expect(set.snapshot()).toMatchObject({ dead: { state: 'open' }, alive: { state: 'closed' } });
  });

  it('falls back on connect errors, timeouts, 429 and 5xx only', () => {
    expect(shouldFallback({ kind: 'connect' })).toBe(true);
    expect(shouldFallback({ kind: 'timeout' })).toBe(true);
    expect([429, 500, 502, 503, 529].map((status) => shouldFallback({ kind: 'status', status }))).toEqual([true, true, true, true, true]);
    expect([400, 401, 404, 422].map((status) => shouldFallback({ kind: 'status', status }))).toEqual([false, false, false, false]);
  });
});
