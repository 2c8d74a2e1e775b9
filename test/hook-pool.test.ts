/** The hook's worker pool: failures and replacement, saturation, affinity hits and spills, shutdown. */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../src/compress/options.js';
import { affinityKey, slotFor } from '../src/capabilities/hook/affinity.js';
import { type PoolOptions, PoolError, WorkerPool } from '../src/capabilities/hook/pool.js';
import { silentLogger } from '../src/core/logger.js';
import { FAKE_WORKER, postHook, startHookServer, type HookHarness } from './helpers/hook.js';

const pools: WorkerPool[] = [];
const harnesses: HookHarness[] = [];
afterEach(async () => {
  for (const p of pools.splice(0)) await p.close();
  for (const h of harnesses.splice(0)) await h.close();
});

function pool(opts: Partial<PoolOptions> = {}): WorkerPool {
  const p = new WorkerPool({ size: 2, maxCompressMs: 10_000, affinity: true, log: silentLogger(), script: FAKE_WORKER, closeGraceMs: 200, ...opts });
  pools.push(p);
  return p;
}

const job = (model: string) => ({ envelope: new Uint8Array(0), api: 'chat' as const, model, settings: DEFAULT_SETTINGS });
const threadOf = (r: { result: { transforms: string[] } }) => r.result.transforms[0];
/** A key whose slot is `slot` in a pool of `size`. */
function keyFor(slot: number, size: number, tag = 'k'): string {
  for (let i = 0; ; i++) if (slotFor(`${tag}${i}`, size) === slot) return `${tag}${i}`;
}
const failure = async (p: Promise<unknown>): Promise<PoolError> => {
  try {
    await p;
  } catch (e) {
    return e as PoolError;
  }
  throw new Error('expected the call to fail');
};

describe('worker pool', () => {
  it('round trip; the version is captured; the first call of a worker is cold', async () => {
    const p = pool({ size: 1 });
    await p.whenReady();
    expect(p.version).toBe('fake-1.2.3');
    const a = await p.run(job('ok'), '');
    const b = await p.run(job('ok'), '');
    expect(a.result.coldFirstCall).toBe(true);
    expect(b.result.coldFirstCall).toBe(false);
    expect(a.slot).toBe(0);
    expect(a.dispatch).toBe('shared');
  });

  for (const [model, code] of [['CRASH', 'crash'], ['THROW', 'crash'], ['WRONG_ID', 'protocol']] as const) {
    it(`${model}: the call fails, the worker is replaced, the next call is served`, async () => {
      const p = pool({ size: 1 });
      await p.whenReady();
      const before = threadOf(await p.run(job('ok'), ''));
      const e = await failure(p.run(job(model), ''));
      expect(e).toBeInstanceOf(PoolError);
      expect(e.code).toBe(code);
      const after = await p.run(job('ok'), '');
      expect(threadOf(after)).not.toBe(before);
      expect(after.result.coldFirstCall).toBe(true);
      expect(p.spawned).toBe(2);
    });
  }

  it('a call over the cap is terminated and replaced (timeout)', async () => {
    const p = pool({ size: 1, maxCompressMs: 1000 });
    await p.whenReady();
    const before = threadOf(await p.run(job('ok'), ''));
    const e = await failure(p.run(job('HANG'), ''));
    expect(e.code).toBe('timeout');
    expect(e.slot).toBe(0);
    expect(threadOf(await p.run(job('ok'), ''))).not.toBe(before);
  });

  it('an engine error fails the call but keeps the worker', async () => {
    const p = pool({ size: 1 });
    await p.whenReady();
    const before = threadOf(await p.run(job('ok'), ''));
    const e = await failure(p.run(job('ERROR'), ''));
    expect(e.code).toBe('worker_error');
    expect(e.message).toBe('payload.messages must be a list');
    expect(threadOf(await p.run(job('ok'), ''))).toBe(before);
    expect(p.spawned).toBe(1);
  });

  it('saturation: 24 concurrent calls on 2 slots all complete, at most 2 at a time', async () => {
    const p = pool({ size: 2, affinity: false });
    await p.whenReady();
    let maxBusy = 0;
    const calls = Array.from({ length: 24 }, () => p.run(job('SLEEP:5'), '').then((r) => ((maxBusy = Math.max(maxBusy, p.busy)), r)));
    expect(p.waiting).toBeGreaterThan(0);
    const results = await Promise.all(calls);
    expect(results).toHaveLength(24);
    expect(new Set(results.map((r) => r.slot))).toEqual(new Set([0, 1]));
    expect(maxBusy).toBeLessThanOrEqual(2);
    expect(results.every((r) => r.dispatch === 'shared')).toBe(true);
    expect(p.busy).toBe(0);
  });

  it('affinity: the same key always reaches the same worker (hits)', async () => {
    const p = pool({ size: 4 });
    await p.whenReady();
    const key = 'session-abc';
    const rs = [];
    for (let i = 0; i < 5; i++) rs.push(await p.run(job('ok'), key));
    expect(rs.every((r) => r.dispatch === 'hit')).toBe(true);
    expect(new Set(rs.map((r) => r.slot))).toEqual(new Set([slotFor(key, 4)]));
    expect(new Set(rs.map(threadOf)).size).toBe(1);
  });

  it('affinity: with its worker busy and its one-deep queue taken, a call spills to a free worker', async () => {
    const p = pool({ size: 2 });
    await p.whenReady();
    const key = keyFor(0, 2);
    const running = p.run(job('SLEEP:400'), key); // taken by slot 0
    const queued = p.run(job('ok'), key); // slot 0's queue
    const spilled = p.run(job('ok'), key); // queue full -> shared -> slot 1
    const [a, b, c] = await Promise.all([running, queued, spilled]);
    expect([a.dispatch, a.slot]).toEqual(['hit', 0]);
    expect([b.dispatch, b.slot]).toEqual(['hit', 0]);
    expect([c.dispatch, c.slot]).toEqual(['spill', 1]);
  });

  it('affinity off: every call goes through the shared queue', async () => {
    const p = pool({ size: 2, affinity: false });
    await p.whenReady();
    const r = await p.run(job('ok'), 'session-x');
    expect(r.dispatch).toBe('shared');
  });

  it('a caller that gives up leaves the queue; a running call finishes in the background', async () => {
    const p = pool({ size: 1 });
    await p.whenReady();
    const running = p.run(job('SLEEP:300'), '');
    const ac = new AbortController();
    const queued = p.run(job('ok'), '', ac.signal);
    expect(p.waiting).toBe(1);
    ac.abort();
    const e = await failure(queued);
    expect(e.code).toBe('aborted');
    expect(e.dispatch).toBeNull();
    expect(p.waiting).toBe(0);
    const ac2 = new AbortController();
    const late = p.run(job('SLEEP:1000'), '', ac2.signal);
    await running; // the worker took `late` as it finished
    ac2.abort();
    expect((await failure(late)).code).toBe('aborted');
    expect(p.busy).toBe(1); // the worker keeps going (warming), bounded by the cap
    expect((await p.run(job('ok'), '')).slot).toBe(0);
  });

  it('shutdown answers queued calls "pool shutting down" and refuses new ones', async () => {
    const p = pool({ size: 1 });
    await p.whenReady();
    const running = p.run(job('SLEEP:100'), '');
    const queued = p.run(job('ok'), 'k');
    const closing = p.close();
    expect((await failure(queued)).code).toBe('shutdown');
    await running;
    await closing;
    expect((await failure(p.run(job('ok'), ''))).message).toBe('pool shutting down');
  });

  it('a worker that does not say ready is retried with backoff (never serves)', async () => {
    const p = pool({ size: 1, script: new URL('./fixtures/hook-noready-worker.mjs', import.meta.url), readyTimeoutMs: 2000 });
    for (let i = 0; i < 1000 && p.spawned < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(p.spawned).toBeGreaterThanOrEqual(2);
    expect(p.readyCount).toBe(0);
  });

  it('affinity keys: session id verbatim, else a stable hash of the opening messages with key order ignored', () => {
    expect(affinityKey('s1', [{ role: 'user', content: 'x' }])).toBe('s1');
    const a = affinityKey(undefined, [{ role: 'system', content: 'x' }, { role: 'user', content: 'y' }, { role: 'user', content: 'later' }]);
    const b = affinityKey('', [{ content: 'x', role: 'system' }, { content: 'y', role: 'user' }]);
    expect(a).toBe(b);
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(affinityKey(undefined, [{ role: 'user', content: 'other' }])).not.toBe(a);
    expect(affinityKey(undefined, [])).toBe('');
    expect(slotFor('abc', 8)).toBe(slotFor('abc', 8));
    expect(slotFor('abc', 1)).toBe(0);
    const spread = new Set(Array.from({ length: 64 }, (_, i) => slotFor(`s${i}`, 4)));
    expect(spread.size).toBe(4);
  });
});

describe('pool failures through the hook', () => {
  const env = (model: string, sessionId?: string) => ({
    metadata: { provider: 'openai', model, ...(sessionId ? { session_id: sessionId } : {}) },
    request_body: { model, messages: [{ role: 'user', content: 'hi' }] },
  });

  it('crash and timeout fail open as allow(error) and count as failures', async () => {
    const h = await startHookServer({ hookPoolSize: 1, hookMaxCompressSeconds: 1 }, { pool: { script: FAKE_WORKER } });
    harnesses.push(h);
    for (const m of ['CRASH', 'HANG', 'ERROR']) {
      const r = await postHook(h.url, env(m));
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ action: 'allow' });
    }
    const os = await h.waitForOutcomes(3);
    expect(os.map((o) => o.ext.hook!.outcome)).toEqual(['error', 'error', 'error']);
    expect(os.map((o) => o.errorType)).toEqual(['compression', 'compression', 'compression']);
    expect(os[1]!.errorMessage).toMatch(/cap/);
    expect(os.every((o) => o.ok === false && o.status === 200)).toBe(true);
    expect(h.lines.at(-1)).toMatch(/ -> allow\(error\)$/);
    const r = await postHook(h.url, env('ok'));
    expect(r.json).toEqual({ action: 'allow' });
    expect((await h.waitForOutcomes(4))[3]!.ext.hook!.outcome).toBe('noop');
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toContain('headroom_requests_failed_total 3');
    expect(metrics).toContain('tsheadroom_requests_by_outcome{outcome="error"} 3');
  });
});
