/**
 * What the fleet live view costs Redis (`FleetLiveView` against the real test server, two
 * instances simulated by two links): publishes are bounded under a burst of changes, and the
 * other instances are read only while someone watches (an SSE client, or a GET in the last
 * 10 s), the first GET after a quiet period reading at once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Fleet } from '../src/capabilities/fleet/api.js';
import { RedisLink } from '../src/capabilities/fleet/link.js';
import { FLEET_VIEW_EVERY_MS, FleetLiveView, PUBLISH_MIN_MS } from '../src/capabilities/live/fleet-view.js';
import { LiveTracker } from '../src/capabilities/live/tracker.js';
import { silentLogger } from '../src/core/logger.js';
import { sleep } from './helpers/fleet.js';
import { fakeOutcome, fakeStart } from './helpers/live-events.js';
import { serversSkipReason, testRedisPrefix, testRedisUrl } from './helpers/test-servers.js';

if (serversSkipReason && process.env.CI === '1') throw new Error(`CI=1: ${serversSkipReason}`);

const open: Array<{ view: FleetLiveView; link: RedisLink }> = [];

/** One instance's view on its own link, with the commands it sends counted by name. */
async function instance(prefix: string, name: string, watchers = () => 0) {
  const link = new RedisLink(testRedisUrl(), 2_000, silentLogger());
  if (link.client.status !== 'ready') await new Promise((r) => link.client.once('ready', r));
  const counts = new Map<string, number>();
  const send = link.client.sendCommand.bind(link.client);
  link.client.sendCommand = ((cmd: { name: string }, ...rest: unknown[]) => {
    counts.set(cmd.name.toLowerCase(), (counts.get(cmd.name.toLowerCase()) ?? 0) + 1);
    return (send as (...a: unknown[]) => unknown)(cmd, ...rest);
  }) as typeof link.client.sendCommand;
  const tracker = new LiveTracker({ errorBuffer: 10, traceBuffer: 10, maxModels: 100 });
  const fleet = { instance: name, prefix, redis: link, bus: null } as unknown as Fleet;
  const view = new FleetLiveView(tracker, fleet, () => {}, { watchers });
  open.push({ view, link });
  const count = (cmd: string) => counts.get(cmd) ?? 0;
  return { view, tracker, count, reset: () => counts.clear() };
}

afterEach(async () => {
  for (const { view } of open) view.close();
  await sleep(50);
  for (const { link } of open.splice(0)) link.close();
});

describe.skipIf(serversSkipReason)(`the fleet live view on a shared Redis${serversSkipReason ? ` (skipped: ${serversSkipReason})` : ''}`, () => {
  it('an unwatched instance publishes but never reads; a GET reads at once and keeps it reading', async () => {
    const prefix = testRedisPrefix('live-watch');
    const a = await instance(prefix, 'a');
    const b = await instance(prefix, 'b');
    b.tracker.start(fakeStart());
    await sleep(100);
    a.reset();
    await sleep(FLEET_VIEW_EVERY_MS * 3 + 100);
    // it stays in the fleet (its key is refreshed) without reading anyone
    expect(a.count('set')).toBeGreaterThanOrEqual(3);
    expect(a.count('smembers')).toBe(0);
    expect(a.count('mget')).toBe(0);
    expect(a.view.snapshot().fleet!.instances.map((i) => i.instance)).toEqual(['a']);

    // a GET after the quiet period: read once, now
    await a.view.watch();
    expect(a.count('smembers')).toBe(1);
    const snap = a.view.snapshot();
    expect(snap.fleet!.instances.map((i) => i.instance).sort()).toEqual(['a', 'b']);
    expect(snap.active_total).toBe(1);
    expect(snap.active_requests.map((r) => r.instance)).toEqual(['b']);
    // then kept being read on each tick for a while
    await sleep(FLEET_VIEW_EVERY_MS * 3 + 100);
    expect(a.count('smembers')).toBeGreaterThanOrEqual(3);
  });

  it('an instance with a client on its stream reads the others on every tick', async () => {
    const prefix = testRedisPrefix('live-sse');
    let clients = 0;
    const a = await instance(prefix, 'a', () => clients);
    await instance(prefix, 'b');
    await sleep(FLEET_VIEW_EVERY_MS + 100);
    a.reset();
    clients = 1;
    await sleep(FLEET_VIEW_EVERY_MS * 3 + 100);
    expect(a.count('smembers')).toBeGreaterThanOrEqual(3);
    expect(a.view.snapshot().fleet!.instances.map((i) => i.instance).sort()).toEqual(['a', 'b']);
    clients = 0;
    await sleep(FLEET_VIEW_EVERY_MS + 100);
    a.reset();
    await sleep(FLEET_VIEW_EVERY_MS * 2 + 100);
    expect(a.count('smembers')).toBe(0);
  });

  it('publishes at most every 250 ms under a burst of changes, and the last state gets out', async () => {
    const prefix = testRedisPrefix('live-burst');
    const a = await instance(prefix, 'a');
    const b = await instance(prefix, 'b', () => 1);
    await sleep(100);
    a.reset();
    const t0 = Date.now();
    const starts = [];
    // ~400 changes over a second: requests starting and finishing
    while (Date.now() - t0 < 1_000) {
      const s = fakeStart();
      a.tracker.start(s);
      starts.push(s);
      if (starts.length > 3) a.tracker.outcome(fakeOutcome(starts.shift()!));
      await sleep(2);
    }
    const elapsed = Date.now() - t0;
    const publishes = a.count('set');
    expect(publishes).toBeGreaterThanOrEqual(2);
    expect(publishes).toBeLessThanOrEqual(Math.ceil(elapsed / PUBLISH_MIN_MS) + 1);
    // the requests still in flight reach the other instance
    await sleep(PUBLISH_MIN_MS + FLEET_VIEW_EVERY_MS + 200);
    const seen = b.view.snapshot().active_requests.filter((r) => r.instance === 'a');
    expect(seen.length).toBe(starts.length);
  });
});
