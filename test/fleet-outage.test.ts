/**
 * Redis down or slow under load, with three proxy processes sharing it: requests keep
 * flowing (rate limits and the response cache fail open), no request hangs, `/health` says
 * Redis is degraded and the metrics count the failures, and everything recovers by itself.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockUpstream } from '../src/mock/upstream.js';
import { eventually, type Fleet, sleep, startFleet } from './helpers/fleet.js';
import { FAKE_ANTHROPIC_KEY } from './helpers/harness.js';
import { anthropicHeaders, getJson } from './helpers/http.js';
import { serversUnavailable, startRedis, type TestServer } from './helpers/servers.js';

type Json = Record<string, any>;

const missing = serversUnavailable();
if (missing && process.env.CI === '1') throw new Error(`CI=1: the outage tests need real servers, ${missing}`);

const MODEL = 'claude-sonnet-4-6';
/** No request may take longer than this (a request hanging on a dead Redis would). */
const REQUEST_DEADLINE_MS = 8_000;

interface Tally {
  ok: number;
  status: Map<number, number>;
  errors: string[];
  during: number;
}

describe.skipIf(missing)(`Redis outage under load, three proxies${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let mock: MockUpstream;
  let redis: TestServer;
  let fleet: Fleet;

  beforeAll(async () => {
    mock = new MockUpstream();
    await mock.start();
    redis = await startRedis();
    fleet = await startFleet({ size: 3, upstreamUrl: mock.url, redisUrl: redis.url, redisPrefix: 'outage:', args: ['--rpm', '1000000', '--cache'] });
  }, 60_000);
  afterAll(async () => {
    await fleet?.close();
    await redis?.close();
    await mock?.close();
  });

  /** Closed-loop load: `workers` clients, each sending one request after another until `stop()`. */
  function load(workers: number, tally: Tally, phase: () => boolean) {
    let running = true;
    let n = 0;
    const loops = Array.from({ length: workers }, async (_, w) => {
      while (running) {
        const i = n++;
        const url = fleet.proxies[i % 3]!.url;
        try {
          const r = await fetch(`${url}/v1/messages`, {
            method: 'POST',
            headers: { ...anthropicHeaders(FAKE_ANTHROPIC_KEY), 'content-type': 'application/json' },
            // every tenth request repeats one prompt: the cache is exercised too
            body: JSON.stringify({ model: MODEL, max_tokens: 20, messages: [{ role: 'user', content: i % 10 === 0 ? 'repeated' : `load ${w} ${i}` }] }),
            signal: AbortSignal.timeout(REQUEST_DEADLINE_MS),
          });
          await r.arrayBuffer();
          tally.status.set(r.status, (tally.status.get(r.status) ?? 0) + 1);
          if (r.status === 200) tally.ok++;
          if (phase()) tally.during++;
        } catch (err) {
          tally.errors.push((err as Error).message);
        }
      }
    });
    return async () => {
      running = false;
      await Promise.all(loops);
    };
  }

  const health = (i: number) => getJson<Json>(`${fleet.proxies[i]!.url}/health`);

  it('Redis stopped for 10 s under load: zero 5xx, none hangs, degraded then healthy again, limits shared again', async () => {
    // every instance ready first (tokenizers loaded), so that /readyz below speaks of Redis only
    for (const p of fleet.proxies) await eventually(async () => (await fetch(`${p.url}/readyz`)).status === 200, 'ready', 30_000);
    const tally: Tally = { ok: 0, status: new Map(), errors: [], during: 0 };
    let down = false;
    const stop = load(6, tally, () => down);
    await sleep(1_500);
    await redis.stop();
    down = true;
    try {
      const stoppedAt = Date.now();
      // while it is down every instance says so, and keeps serving (a command that failed while the
      // socket was still closing reports degraded a moment before the connection is seen gone)
      const degraded = await eventually(async () => {
        const h = await health(1);
        return h.checks.redis.status === 'degraded' && h.checks.redis.connected === false ? h : null;
      }, 'redis reported degraded and disconnected');
      expect(degraded.ready, JSON.stringify(degraded.checks)).toBe(true);
      expect(degraded.checks.redis.connected).toBe(false);
      const readyz = await fetch(`${fleet.proxies[2]!.url}/readyz`);
      expect(readyz.status).toBe(200);
      await sleep(Math.max(0, 10_000 - (Date.now() - stoppedAt)));
    } finally {
      await redis.start();
      down = false;
    }
    await sleep(1_500);
    await stop();

    expect(tally.errors).toEqual([]);
    const fivexx = [...tally.status].filter(([s]) => s >= 500);
    expect(fivexx).toEqual([]);
    expect([...tally.status.keys()]).toEqual([200]);
    expect(tally.during).toBeGreaterThan(50);

    // recovery: reconnected, healthy once the last failure is 5 s old, and the buckets are in Redis again
    for (let i = 0; i < 3; i++) {
      await eventually(async () => (await health(i)).checks.redis.status === 'healthy', `instance ${i} healthy again`, 20_000);
    }
    const metrics = await (await fetch(`${fleet.proxies[0]!.url}/metrics`)).text();
    expect(Number(/^headroom_redis_failures_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(metrics).toMatch(/^headroom_redis_up 1$/m);
    const probe = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    await probe.flushall();
    const r = await fetch(`${fleet.proxies[1]!.url}/v1/messages`, {
      method: 'POST',
      headers: { ...anthropicHeaders(FAKE_ANTHROPIC_KEY), 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, max_tokens: 20, messages: [{ role: 'user', content: 'after recovery' }] }),
    });
    expect(r.status).toBe(200);
    expect((await probe.keys('outage:rl:*')).length).toBeGreaterThan(0);
    probe.disconnect();
  }, 90_000);

  it('Redis slow (blocked 3 s) under load: requests go on after the command timeout, none waits for Redis', async () => {
    const tally: Tally = { ok: 0, status: new Map(), errors: [], during: 0 };
    let slow = false;
    const stop = load(4, tally, () => slow);
    await sleep(500);
    const blocker = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    blocker.on('error', () => undefined);
    slow = true;
    await blocker.call('DEBUG', 'SLEEP', '3');
    slow = false;
    blocker.disconnect();
    await sleep(500);
    await stop();
    expect(tally.errors).toEqual([]);
    expect([...tally.status.keys()]).toEqual([200]);
    expect(tally.during).toBeGreaterThan(0);
  }, 60_000);
});
