/**
 * A virtual key's own rpm (`keys:` entry) holds across a fleet: two proxy processes sharing a
 * real Redis keep one bucket per key, so a key limited to 6 requests a minute gets 6 in all,
 * whichever instance each request lands on; another key keeps its own budget of requests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKey } from '../src/capabilities/controls/keys/secret.js';
import { MockUpstream } from '../src/mock/upstream.js';
import { type Fleet, startFleet } from './helpers/fleet.js';
import { anthropicHeaders, send } from './helpers/http.js';
import { serversSkipReason, testRedisPrefix, testRedisUrl } from './helpers/test-servers.js';

if (serversSkipReason && process.env.CI === '1') throw new Error(`CI=1: ${serversSkipReason}`);

const LIMITED = 'hr-test-fake-fleet-limited-key-0000000000000000';
const OTHER = 'hr-test-fake-fleet-other-key-00000000000000000000';
const SERVER_KEY = 'sk-ant-api03-FAKEserverSideFleetKey0000000000000';
const body = (text: string) => JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 20, messages: [{ role: 'user', content: text }] });
const post = (base: string, text: string, key: string) =>
  send(`${base}/v1/messages`, { body: body(text), headers: { ...anthropicHeaders(key), 'content-type': 'application/json' } });

describe.skipIf(serversSkipReason)(`virtual keys across a fleet sharing Redis${serversSkipReason ? ` (skipped: ${serversSkipReason})` : ''}`, () => {
  let mock: MockUpstream;
  let fleet: Fleet;

  beforeAll(async () => {
    mock = new MockUpstream();
    await mock.start();
    const keys = JSON.stringify([
      { name: 'limited', hash: hashKey(LIMITED), rpm: 6 },
      { name: 'other', hash: hashKey(OTHER), rpm: 100 },
    ]);
    fleet = await startFleet({
      size: 2,
      upstreamUrl: () => mock.url,
      redisUrl: testRedisUrl(),
      redisPrefix: testRedisPrefix('fleet-vkeys'),
      args: ['--keys', keys],
      env: { ANTHROPIC_API_KEY: SERVER_KEY },
    });
  }, 60_000);
  afterAll(async () => {
    await fleet?.close();
    await mock?.close();
  });

  it("admits a key's rpm once across the instances, not once per instance", async () => {
    const urls = fleet.proxies.map((p) => p.url);
    const t0 = Date.now();
    const rs = await Promise.all(Array.from({ length: 14 }, (_, i) => post(urls[i % 2]!, `limited ${i}`, LIMITED)));
    const elapsed = Date.now() - t0;
    const admitted = rs.filter((r) => r.status === 200).length;
    expect(rs.filter((r) => r.status !== 200 && r.status !== 429)).toEqual([]);
    // 6 a minute refills one request per 10 s: only a very slow send could earn one more
    expect(admitted).toBeGreaterThanOrEqual(6);
    expect(admitted).toBeLessThanOrEqual(6 + Math.floor(elapsed / 10_000));
    const refusedBy = new Set(rs.map((r, i) => (r.status === 429 ? i % 2 : -1)).filter((i) => i >= 0));
    expect(refusedBy.size).toBe(2);
    // the other key has its own bucket
    const other = await Promise.all(urls.map((u, i) => post(u, `other ${i}`, OTHER)));
    expect(other.map((r) => r.status)).toEqual([200, 200]);
    // the upstream saw only the server-side key, never a virtual one
    const seen = new Set(mock.requests.map((r) => r.headers['x-api-key']));
    expect([...seen]).toEqual([SERVER_KEY]);
  });
});
