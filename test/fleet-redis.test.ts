/**
 * Three proxy processes (the built CLI) sharing a real Redis (`--redis-url`): what must be
 * decided fleet-wide is, whichever instance a request lands on.
 */
import Anthropic from '@anthropic-ai/sdk';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockUpstream } from '../src/mock/upstream.js';
import { eventually, type Fleet, sleep, startFleet } from './helpers/fleet.js';
import { FAKE_ANTHROPIC_KEY } from './helpers/harness.js';
import { anthropicHeaders, getJson, send } from './helpers/http.js';
import { serversSkipReason, testRedisPrefix, testRedisUrl } from './helpers/test-servers.js';
import { UpstreamGate } from './helpers/upstream-gate.js';

type Json = Record<string, any>;

if (serversSkipReason && process.env.CI === '1') throw new Error(`CI=1: ${serversSkipReason}`);

const MODEL = 'claude-sonnet-4-6';
const body = (text: string) => JSON.stringify({ model: MODEL, max_tokens: 50, messages: [{ role: 'user', content: text }] });
const post = (base: string, text: string, key = FAKE_ANTHROPIC_KEY) => send(`${base}/v1/messages`, { body: body(text), headers: { ...anthropicHeaders(key), 'content-type': 'application/json' } });

describe.skipIf(serversSkipReason)(`a fleet of three proxies sharing Redis${serversSkipReason ? ` (skipped: ${serversSkipReason})` : ''}`, () => {
  let mock: MockUpstream;
  let gate: UpstreamGate;
  let fleet: Fleet;
  let redis: Redis;
  const prefix = testRedisPrefix('fleet');

  beforeAll(async () => {
    mock = new MockUpstream();
    await mock.start();
    gate = new UpstreamGate(mock.url);
    await gate.start();
    gate.open();
    redis = new Redis(testRedisUrl());
    // instance b reaches the upstream through the gate, so the test can hold its requests in flight
    fleet = await startFleet({
      size: 3,
      upstreamUrl: (i) => (i === 1 ? gate.url : mock.url),
      redisUrl: testRedisUrl(),
      redisPrefix: prefix,
      args: ['--rpm', '30', '--cache', '--hook'],
    });
  }, 60_000);
  afterAll(async () => {
    await fleet?.close();
    await gate?.stop();
    await mock?.close();
    redis?.disconnect();
  });

  const urls = () => fleet.proxies.map((p) => p.url);

  it('enforces a per-key 30 rpm across the fleet: 45 requests spread over three instances, 30 admitted', async () => {
    const key = 'sk-ant-api03-FAKEfleetRateLimitKey000000000000000';
    const t0 = Date.now();
    const rs = await Promise.all(Array.from({ length: 45 }, (_, i) => post(urls()[i % 3]!, `rate ${i}`, key)));
    const elapsed = Date.now() - t0;
    const admitted = rs.filter((r) => r.status === 200).length;
    const refused = rs.filter((r) => r.status === 429);
    expect(admitted + refused.length).toBe(45);
    // a bucket refills 0.5 request per second: only time spent sending could admit more
    expect(admitted).toBeGreaterThanOrEqual(30);
    expect(admitted).toBeLessThanOrEqual(30 + Math.floor(elapsed / 2000));
    for (const r of refused) {
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(r.headers['x-ratelimit-limit-requests']).toBe('30');
      expect(JSON.parse(r.text).error.message).toMatch(/30 requests per minute/);
    }
    // every instance refused some: the bucket is the fleet's, not each process's
    const refusedBy = new Set(rs.map((r, i) => (r.status === 429 ? i % 3 : -1)).filter((i) => i >= 0));
    expect(refusedBy.size).toBe(3);
  });

  it('serves a response cached by instance A from instance B, and a clear on C clears it for all', async () => {
    const client = (base: string) => new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: base, maxRetries: 0 });
    const params = { model: MODEL, max_tokens: 40, messages: [{ role: 'user' as const, content: 'What is a token bucket? (cache test)' }] };
    const before = mock.requests.length;
    const a = await client(urls()[0]!).messages.create(params).withResponse();
    expect(a.response.headers.get('x-headroom-cached')).toBeNull();
    expect(mock.requests.length).toBe(before + 1);
    // the store happens after A answered its client
    await eventually(async () => (await redis.zcard(`${prefix}cache:index`)) >= 1, 'the entry in Redis');
    const b = await client(urls()[1]!).messages.create(params).withResponse();
    expect(b.response.headers.get('x-headroom-cached')).toBe('true');
    expect(b.data).toEqual(a.data);
    expect(mock.requests.length).toBe(before + 1);

    const cleared = await send(`${urls()[2]}/cache/clear`, { method: 'POST' });
    expect(cleared.status).toBe(200);
    expect(JSON.parse(cleared.text)).toMatchObject({ status: 'cleared', fleet: true });
    expect(JSON.parse(cleared.text).entries_removed).toBeGreaterThanOrEqual(1);
    const again = await client(urls()[1]!).messages.create(params).withResponse();
    expect(again.response.headers.get('x-headroom-cached')).toBeNull();
    expect(mock.requests.length).toBe(before + 2);
  });

  it('lists on instance A the requests in flight on instance B, each with its instance, until they finish', async () => {
    gate.hold();
    const held = gate.held;
    const key = 'sk-ant-api03-FAKEfleetLiveViewKey00000000000000000';
    const inflight = [post(urls()[1]!, 'held one', key), post(urls()[1]!, 'held two', key)];
    await eventually(async () => gate.held >= held + 2, 'both requests at the upstream');
    const seen = await eventually(async () => {
      const snap = await getJson<Json>(`${urls()[0]}/metrics/active-requests`);
      const onB = (snap.active_requests as Json[]).filter((r) => r.instance === 'b');
      return onB.length === 2 ? snap : null;
    }, 'instance b\'s requests in instance a\'s live view');
    expect(seen.active_total).toBeGreaterThanOrEqual(2);
    expect(seen.fleet.instance).toBe('a');
    expect((seen.fleet.instances as Json[]).map((i) => i.instance).sort()).toEqual(['a', 'b', 'c']);
    expect((seen.fleet.instances as Json[]).find((i) => i.instance === 'b')?.active_total).toBe(2);

    // the SSE stream of instance C carries them too
    const ac = new AbortController();
    const res = await fetch(`${urls()[2]}/metrics/active-requests/stream`, { signal: ac.signal });
    const reader = res.body!.getReader();
    let text = '';
    while (!/"instance":"b"/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
    ac.abort();

    gate.open();
    const done = await Promise.all(inflight);
    expect(done.map((r) => r.status)).toEqual([200, 200]);
    await eventually(async () => {
      const snap = await getJson<Json>(`${urls()[0]}/metrics/active-requests`);
      return (snap.active_requests as Json[]).every((r) => r.instance !== 'b');
    }, 'the finished requests gone from the view');
  });

  it('a stats reset on one instance resets every instance', async () => {
    await post(urls()[2]!, 'counted before the reset', 'sk-ant-api03-FAKEfleetStatsKey0000000000000000000');
    const before = await getJson<Json>(`${urls()[2]}/stats`);
    expect(before.requests.total).toBeGreaterThan(0);
    expect((await send(`${urls()[0]}/stats/reset`, { method: 'POST' })).status).toBe(200);
    await eventually(async () => (await getJson<Json>(`${urls()[2]}/stats`)).requests.total === 0, 'instance c reset');
    await eventually(async () => (await getJson<Json>(`${urls()[1]}/stats`)).requests.total === 0, 'instance b reset');
  });

  it('a hook config change on one instance applies on every instance', async () => {
    const put = await send(`${urls()[0]}/hooks/aperture/config`, { method: 'PUT', body: JSON.stringify({ protect_recent: 7, min_tokens_to_compress: 900 }), headers: { 'content-type': 'application/json' } });
    expect(put.status).toBe(200);
    for (const u of [urls()[1]!, urls()[2]!]) {
      const got = await eventually(async () => {
        const c = await getJson<Json>(`${u}/hooks/aperture/config`);
        return c.protect_recent === 7 ? c : null;
      }, `${u} has the new hook config`);
      expect(got).toMatchObject({ protect_recent: 7, min_tokens_to_compress: 900, compress_system_messages: true });
    }
  });

  it('reports Redis healthy in /health and counts no failures while it is up', async () => {
    const h = await getJson<Json>(`${urls()[0]}/health`);
    expect(h.checks.redis, JSON.stringify(h.checks.redis)).toMatchObject({ enabled: true, status: 'healthy', connected: true, instance: 'a' });
    expect(JSON.stringify(h)).not.toContain(FAKE_ANTHROPIC_KEY);
    const m = await (await fetch(`${urls()[0]}/metrics`)).text();
    expect(m).toMatch(/^headroom_redis_up 1$/m);
  });
});
