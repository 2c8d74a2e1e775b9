import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LiveMonitor, } from '../src/capabilities/live/monitor.js';
import { FAKE_ANTHROPIC_KEY, type Harness, startHarness } from './helpers/harness.js';
import { getJson, rawStream, until, watch, type Watcher } from './helpers/live-client.js';
import { fakeOutcome, fakeStart } from './helpers/live-events.js';

let h: Harness;
let mon: LiveMonitor;

beforeAll(async () => {
  h = await startHarness({
    config: {
      liveSseMinIntervalMs: 20,
      liveSseHeartbeatSeconds: 0.1,
      liveSseRetryMs: 150,
      liveSseStallSeconds: 0.3,
      liveSseMaxClients: 6,
    },
  });
  mon = h.app.service('live')!;
});
afterAll(() => h.close());

/** Starts an Anthropic stream that stays open until the returned abort is called. */
async function openStream(): Promise<{ id: string; abort: () => Promise<void> }> {
  const ac = new AbortController();
  const res = await fetch(`${h.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': FAKE_ANTHROPIC_KEY, 'anthropic-version': '2023-06-01', 'x-mock-scenario': 'hang-mid-stream:2' },
    body: JSON.stringify({ model: 'claude-haiku-5-5', stream: true, max_tokens: 16, messages: [{ role: 'user', content: 'x' }] }),
    signal: ac.signal,
  });
  const reader = res.body!.getReader();
  await reader.read();
  return {
    id: res.headers.get('x-headroom-request-id')!,
    abort: async () => {
      ac.abort();
      await reader.cancel().catch(() => undefined);
    },
  };
}

const settled = () => until(() => mon.tracker.active.size === 0, 'no active requests');
const openWatchers: Watcher[] = [];
const track = (w: Watcher) => (openWatchers.push(w), w);

describe('GET /metrics/active-requests/stream', () => {
  it('frames carry retry:, id: and event: update with a full snapshot; heartbeats are comments; no CORS wildcard', async () => {
    const raw = await rawStream(h.url);
    expect(raw.status).toBe(200);
    expect(raw.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(raw.headers['cache-control']).toBe('no-cache, no-transform');
    expect(raw.headers['access-control-allow-origin']).toBeUndefined();
    await until(() => raw.text().includes('\n\n'), 'the first frame');
    const first = raw.text().split('\n\n')[0]!;
    const m = /^retry: 150\nid: ([0-9a-f]{8})-(\d+)\nevent: update\ndata: (\{.*\})$/s.exec(first);
    expect(m).not.toBeNull();
    expect(m![1]).toBe(mon.hub.bootId);
    const snap = JSON.parse(m![3]!) as { disabled: boolean; version: number; active_requests: unknown[] };
    expect(snap.disabled).toBe(false);
    expect(snap.version).toBe(Number(m![2]));
    expect(Array.isArray(snap.active_requests)).toBe(true);
    await until(() => raw.text().includes('\n\n: heartbeat\n\n'), 'a heartbeat');
    raw.close();
  });

  it('an EventSource sees a request appear and leave, with increasing ids', async () => {
    await settled();
    const w = track(watch(h.url));
    await until(() => w.updates.length >= 1, 'the initial snapshot');
    const s = await openStream();
    await until(() => w.latest()!.active_requests.some((r) => r.request_id === s.id), 'the request in an update');
    await s.abort();
    await until(() => w.latest()!.active_requests.length === 0 && w.seen.has(s.id), 'the request to leave');
    const versions = w.updates.map((u) => u.version);
    expect([...versions].sort((a, b) => a - b)).toEqual(versions);
    expect(new Set(versions).size).toBe(versions.length);
    expect(w.ids.every((id, i) => id === `${mon.hub.bootId}-${versions[i]}`)).toBe(true);
    expect(w.latest()!.completed.requests).toBe(mon.tracker.all.total.completed);
    w.close();
  });

  it('coalesces bursts and sends nothing while nothing changes', async () => {
    await settled();
    const w = track(watch(h.url));
    await until(() => w.updates.length >= 1, 'the initial snapshot');
    const v0 = mon.tracker.version;
    const streams = await Promise.all(Array.from({ length: 20 }, () => openStream()));
    await Promise.all(streams.map((s) => s.abort()));
    await settled();
    await until(() => w.latest()!.version === mon.tracker.version, 'the final snapshot');
    const changes = mon.tracker.version - v0;
    const updates = w.updates.length - 1;
    expect(changes).toBeGreaterThanOrEqual(60); // start + progress + outcome per request
    expect(updates).toBeLessThan(changes);
    // idle: heartbeats only (they are comments, not events). Three heartbeats on a second
    // stream prove the hub's timers ran meanwhile; an update would have gone to both streams.
    const count = w.updates.length;
    const broadcasts = mon.hub.stats().updates_broadcast;
    const raw = await rawStream(h.url);
    await until(() => raw.text().includes('event: update'), 'the second stream\'s snapshot');
    const mark = raw.text().length;
    await until(() => raw.text().slice(mark).split(': heartbeat').length > 3, 'three heartbeats');
    expect(raw.text().slice(mark).replaceAll(': heartbeat\n\n', '')).toBe('');
    expect(w.updates.length).toBe(count);
    expect(mon.hub.stats().updates_broadcast).toBe(broadcasts);
    raw.close();
    w.close();
  });

  it('resumes cleanly: an up-to-date Last-Event-ID gets no duplicate snapshot, a stale one gets the current one', async () => {
    await settled();
    const current = `${mon.hub.bootId}-${mon.tracker.version}`;
    const fresh = await rawStream(h.url, { 'last-event-id': current });
    await until(() => fresh.text().includes('\n\n'), 'the retry frame');
    expect(fresh.text()).toBe('retry: 150\n\n');
    const s = await openStream();
    await until(() => fresh.text().includes('event: update'), 'an update after a change');
    const stale = await rawStream(h.url, { 'last-event-id': 'deadbeef-1' });
    await until(() => stale.text().includes('event: update'), 'the full snapshot');
    expect(stale.text()).toContain(s.id);
    fresh.close();
    stale.close();
    await s.abort();
    await settled();

    // A real EventSource reconnects after the server drops it, sends Last-Event-ID and gets no duplicate.
    const w = track(watch(h.url));
    await until(() => w.latest()?.version === mon.tracker.version, 'the current snapshot');
    const served = mon.hub.stats().served;
    const before = w.updates.length;
    const versionBefore = w.latest()!.version;
    mon.hub.closeAll();
    await until(() => mon.hub.stats().served === served + 1 && mon.hub.size === 1, 'the reconnection');
    const s2 = await openStream();
    await until(() => w.latest()!.active_requests.some((r) => r.request_id === s2.id), 'updates after the reconnection');
    // A duplicate snapshot would have been the new connection's first frame, so it would have
    // arrived before the update showing s2: every update since is newer than the last one held.
    const since = w.updates.slice(before);
    expect(since.length).toBeGreaterThan(0);
    expect(since.every((u) => u.version > versionBefore)).toBe(true);
    await s2.abort();
    w.close();
  });

  it('refuses streams beyond the client limit with 503', async () => {
    await until(() => mon.hub.size === 0, 'no streams');
    const raws = await Promise.all(Array.from({ length: 6 }, () => rawStream(h.url)));
    const extra = await getJson<{ error: { type: string } }>(`${h.url}/metrics/active-requests/stream`);
    expect(extra.status).toBe(503);
    expect(extra.body.error.type).toBe('too_many_streams');
    for (const r of raws) r.close();
  });

  it('drops a client that never reads without delaying the others', async () => {
    await until(() => mon.hub.size === 0, 'no streams');
    const fast = track(watch(h.url));
    await until(() => fast.updates.length >= 1, 'the fast client');
    // A client that sends its request and then never reads a byte.
    const slow: Socket = connect(Number(new URL(h.url).port), '127.0.0.1');
    let slowClosed = false;
    slow.on('close', () => (slowClosed = true));
    slow.on('error', () => undefined);
    slow.write('GET /metrics/active-requests/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    slow.pause();
    await until(() => mon.hub.size === 2, 'both clients');
    const countAtStart = fast.updates.length;
    const dropsBefore = mon.hub.stats().dropped_slow;

    // Big snapshots (150 in-flight requests with long model names), changing continuously.
    const starts = Array.from({ length: 150 }, (_, i) => fakeStart({ requestedModel: `${'m'.repeat(300)}-${i}` }));
    for (const s of starts) h.app.funnel.start(s);
    let i = 0;
    let countAtDrop = -1;
    await until(async () => {
      const s = starts[i++ % starts.length]!;
      h.app.funnel.progress({ requestId: s.requestId, model: null, inputTokens: i, outputTokens: i, bytesOut: i, ttfbMs: 1 });
      await new Promise((r) => setTimeout(r, 25));
      if (mon.hub.stats().dropped_slow > dropsBefore) {
        countAtDrop = fast.updates.length;
        return true;
      }
      return false;
    }, 'the slow client to be dropped', 60_000);
    slow.resume(); // read what was buffered: the server has ended the connection
    await until(() => slowClosed, 'the slow socket to be closed by the server');
    expect(mon.hub.size).toBe(1);
    // the fast client kept receiving while the slow one was stuck, and is fully up to date
    expect(countAtDrop - countAtStart).toBeGreaterThanOrEqual(3);
    await until(() => fast.latest()!.version === mon.tracker.version, 'the fast client to hold the latest snapshot');
    expect(fast.latest()!.active_total).toBe(150);

    for (const s of starts) h.app.funnel.emit(fakeOutcome(s));
    await settled();
    await until(() => fast.latest()!.active_total === 0, 'the synthetic requests to leave');
    fast.close();
    slow.destroy();
  });

  it('leaves no per-connection state behind', async () => {
    for (const w of openWatchers) w.close();
    await until(() => mon.hub.size === 0, 'every stream to close');
    const ws = Array.from({ length: 4 }, () => watch(h.url));
    const raws = await Promise.all([rawStream(h.url), rawStream(h.url)]);
    await until(() => mon.hub.size === 6 && ws.every((w) => w.updates.length >= 1), 'six streams');
    expect(mon.hub.stats().timers.heartbeat).toBe(true);
    for (const w of ws) w.close();
    for (const r of raws) r.close();
    await until(() => mon.hub.size === 0, 'every stream to close');
    const stats = mon.hub.stats();
    expect(stats.clients).toBe(0);
    expect(stats.busy_clients).toBe(0);
    expect(stats.timers).toEqual({ flush: false, heartbeat: false, sweep: false });
    // changes with nobody listening schedule nothing
    const s = await openStream();
    await s.abort();
    await settled();
    expect(mon.hub.stats().timers).toEqual({ flush: false, heartbeat: false, sweep: false });
  });
});
