/**
 * Rate-limit allowances on the fleet's Redis (`RedisBuckets` against the real test server,
 * several instances simulated by several links): far from the limit a burst costs a few
 * script calls, near the limit every request is one exact call, unspent allowances and tpm
 * corrections go back to the buckets in batches, and nothing is ever admitted beyond what
 * the buckets hold.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { RedisLink } from '../src/capabilities/fleet/link.js';
import { silentLogger } from '../src/core/logger.js';
import { ALLOWANCE_MS } from '../src/capabilities/controls/rate-limit/allowance.js';
import { RedisBuckets } from '../src/capabilities/controls/rate-limit/redis.js';
import type { TakeResult } from '../src/capabilities/controls/rate-limit/backend.js';
import { sleep } from './helpers/fleet.js';
import { serversSkipReason, testRedisPrefix, testRedisUrl } from './helpers/test-servers.js';

if (serversSkipReason && process.env.CI === '1') throw new Error(`CI=1: ${serversSkipReason}`);

const links: RedisLink[] = [];
const buckets: RedisBuckets[] = [];

/** A link like an instance's, with every script call it sends counted (pipelined ones too). */
async function instance(): Promise<{ link: RedisLink; scripts: () => number }> {
  const link = new RedisLink(testRedisUrl(), 2_000, silentLogger());
  links.push(link);
  if (link.client.status !== 'ready') await new Promise((r) => link.client.once('ready', r));
  let n = 0;
  const send = link.client.sendCommand.bind(link.client);
  link.client.sendCommand = ((cmd: { name: string }, ...rest: unknown[]) => {
    if (/^eval(sha)?$/i.test(cmd.name)) n++;
    return (send as (...a: unknown[]) => unknown)(cmd, ...rest);
  }) as typeof link.client.sendCommand;
  return { link, scripts: () => n };
}

function bucketsOn(link: RedisLink, prefix: string, rpm: number | null, tpm: number | null): RedisBuckets {
  const b = new RedisBuckets(link, prefix, rpm, tpm);
  buckets.push(b);
  return b;
}

const admitted = (t: TakeResult) => t.waitRequests === 0 && t.waitTokens === 0;

/** A bucket's level now, computed as the script does, on Redis's clock. */
async function level(link: RedisLink, key: string, cap: number): Promise<number> {
  const [[, v], [, t]] = (await link.client.multi().hmget(key, 'tokens', 'at').time().exec()) as [[null, (string | null)[]], [null, [string, string]]];
  if (v[0] === null) return cap;
  const now = Number(t[0]) * 1000 + Math.floor(Number(t[1]) / 1000);
  return Math.min(cap, Number(v[0]) + (Math.max(0, now - Number(v[1])) * cap) / 60_000);
}

async function redisNow(link: RedisLink): Promise<number> {
  const [s, us] = await link.client.time();
  return Number(s) * 1000 + Number(us) / 1000;
}

afterEach(() => {
  for (const b of buckets.splice(0)) b.close();
});
afterAll(() => {
  for (const l of links.splice(0)) l.close();
});

describe.skipIf(serversSkipReason)(`rate-limit allowances on a shared Redis${serversSkipReason ? ` (skipped: ${serversSkipReason})` : ''}`, () => {
  it('far from the limit, 300 requests cost a few script calls and the headers count down', async () => {
    const { link, scripts } = await instance();
    const b = bucketsOn(link, testRedisPrefix('allowance-far'), 60_000, null);
    const before = scripts();
    const remaining: number[] = [];
    const times: number[] = [];
    for (let i = 0; i < 300; i++) {
      const t = await b.take('key:far', 0, Date.now());
      expect(admitted(t)).toBe(true);
      remaining.push(t.requests!.remaining);
      times.push(Date.now());
    }
    const calls = scripts() - before;
    // one call per request without allowances; the grant grows with the demand up to 64
    expect(calls).toBeLessThan(40);
    expect(b.describe().redis_calls).toBe(calls);
    expect(b.describe().served_from_allowance).toBe(300 - calls);
    // Redis's level minus what was spent here (plus a refill of 1000/s): counts down by one each
    expect(remaining[0]).toBe(59_999);
    for (let i = 1; i < remaining.length; i++) expect(remaining[i]).toBeLessThanOrEqual(remaining[i - 1]! - 1 + Math.ceil(times[i]! - times[i - 1]! + 2));
    expect(remaining.at(-1)!).toBeLessThanOrEqual(60_000 - 300 + Math.ceil(times.at(-1)! - times[0]! + 2));
  });

  it('near the limit (below 32), three instances on one bucket admit exactly the limit', async () => {
    const prefix = testRedisPrefix('allowance-near');
    const insts = await Promise.all([instance(), instance(), instance()]);
    const bs = insts.map((i) => bucketsOn(i.link, prefix, 30, null));
    const before = insts.reduce((n, i) => n + i.scripts(), 0);
    const t0 = Date.now();
    const rs = await Promise.all(Array.from({ length: 90 }, (_, i) => bs[i % 3]!.take('key:near', 0, Date.now())));
    const elapsed = Date.now() - t0;
    const ok = rs.filter(admitted).length;
    // 30 a minute refills one every 2 s
    expect(ok).toBeGreaterThanOrEqual(30);
    expect(ok).toBeLessThanOrEqual(30 + Math.floor(elapsed / 2_000));
    // every request was its own exact call: nothing was granted ahead
    expect(insts.reduce((n, i) => n + i.scripts(), 0) - before).toBe(90);
    for (const r of rs.filter((t) => !admitted(t))) expect(r.waitRequests).toBeGreaterThan(0);
  });

  it('with allowances in play, three instances never admit more than the bucket holds, and unspent grants return', async () => {
    const prefix = testRedisPrefix('allowance-bound');
    const insts = await Promise.all([instance(), instance(), instance()]);
    const bs = insts.map((i) => bucketsOn(i.link, prefix, 200, null));
    const t0 = await redisNow(insts[0]!.link);
    let ok = 0;
    // a burst of 600, then more once every allowance has expired and been given back
    ok += (await Promise.all(Array.from({ length: 600 }, (_, i) => bs[i % 3]!.take('key:bound', 0, Date.now())))).filter(admitted).length;
    await sleep(ALLOWANCE_MS * 2 + 100);
    for (let round = 0; round < 3; round++) {
      ok += (await Promise.all(Array.from({ length: 90 }, (_, i) => bs[i % 3]!.take('key:bound', 0, Date.now())))).filter(admitted).length;
      await sleep(ALLOWANCE_MS * 2 + 100);
    }
    const key = `${prefix}rl:{key:bound}:r`;
    const end = await level(insts[0]!.link, key, 200);
    const refill = ((await redisNow(insts[0]!.link)) - t0) * (200 / 60_000);
    // never more than the bucket allowed
    expect(ok).toBeLessThanOrEqual(200 + Math.ceil(refill));
    // and nothing lost: what was admitted plus what is left is what the bucket held and refilled
    expect(Math.abs(ok + end - (200 + refill))).toBeLessThan(2);
  });

  it('gives back an unspent allowance when it expires: the level recovers to what was spent', async () => {
    const { link } = await instance();
    const prefix = testRedisPrefix('allowance-return');
    const b = bucketsOn(link, prefix, 1_200, null);
    const t0 = await redisNow(link);
    // grants of 1, 2, 4, 8, 16, 32 as the demand grows: 23 of the last one left after 40 requests
    for (let i = 0; i < 40; i++) expect(admitted(await b.take('key:ret', 0, Date.now()))).toBe(true);
    const key = `${prefix}rl:{key:ret}:r`;
    const held = await level(link, key, 1_200);
    // the unspent grant is held here: Redis counts it as taken
    expect(held).toBeLessThan(1_200 - 40 - 10);
    await sleep(ALLOWANCE_MS * 2 + 100);
    const after = await level(link, key, 1_200);
    const refill = ((await redisNow(link)) - t0) * (1_200 / 60_000);
    // 40 spent, the rest back (the bucket refills 20 a second meanwhile)
    expect(Math.abs(after - (1_200 - 40 + refill))).toBeLessThan(2);
  });

  it('sends tpm corrections in batches, and the token bucket ends at what was actually used', async () => {
    const { link, scripts } = await instance();
    const prefix = testRedisPrefix('allowance-tpm');
    const b = bucketsOn(link, prefix, null, 6_000);
    const t0 = await redisNow(link);
    for (let i = 0; i < 10; i++) expect(admitted(await b.take('key:tpm', 100, Date.now()))).toBe(true);
    const before = scripts();
    // each response used 40 of the 100 estimated, one used 300
    for (let i = 0; i < 9; i++) b.adjust('key:tpm', 100 - 40);
    b.adjust('key:tpm', 100 - 300);
    await sleep(20);
    expect(scripts() - before).toBe(0);
    await sleep(ALLOWANCE_MS * 2 + 100);
    // one give-back call carries the ten corrections and the unspent allowance
    expect(scripts() - before).toBeLessThanOrEqual(2);
    const key = `${prefix}rl:{key:tpm}:t`;
    const end = await level(link, key, 6_000);
    const refill = ((await redisNow(link)) - t0) * (6_000 / 60_000);
    const used = 9 * 40 + 300;
    expect(Math.abs(end - Math.min(6_000, 6_000 - used + refill))).toBeLessThan(3);
  });

  it('fails open while Redis is away, spends an allowance still held, and gives back what it owes once Redis is back', async () => {
    const { link, scripts } = await instance();
    const reader = (await instance()).link;
    const prefix = testRedisPrefix('allowance-down');
    const key = `${prefix}rl:{key:down}:r`;
    const b = bucketsOn(link, prefix, 600, null);
    // grants of 1, 2, 4, 8, 16 as the demand grows: 11 of the last one left after 20 requests
    for (let i = 0; i < 20; i++) expect(admitted(await b.take('key:down', 0, Date.now()))).toBe(true);
    const calls = scripts();
    const held = await level(reader, key, 600);
    const t0 = await redisNow(reader);
    link.client.disconnect();
    // the allowance still held is spent without Redis
    const t = await b.take('key:down', 0, Date.now());
    expect(admitted(t)).toBe(true);
    expect(t.requests).not.toBeNull();
    await sleep(ALLOWANCE_MS + 50);
    // expired: the request goes through uncounted
    const open = await b.take('key:down', 0, Date.now());
    expect(admitted(open)).toBe(true);
    expect(open.requests).toBeNull();
    expect(b.failedOpen).toBe(1);
    // nothing is sent (or lost) while Redis is away
    await b.sweep();
    expect(scripts()).toBe(calls);
    await link.client.connect();
    await b.sweep();
    expect(scripts()).toBe(calls + 1);
    const refill = ((await redisNow(reader)) - t0) * (600 / 60_000);
    const after = await level(reader, key, 600);
    expect(after - held - refill).toBeGreaterThan(5);
  });
});
