import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAM_COOKIE, STREAM_PATH, StreamSessions } from '../src/capabilities/live/stream-auth.js';
import { FAKE_ANTHROPIC_KEY, type Harness, startHarness } from './helpers/harness.js';
import { getJson, until, watch } from './helpers/live-client.js';
import { remoteRouteForFile } from './helpers/remote.js';

const TOKEN = 'test-proxy-token-0123456789';

describe('stream session cookies', () => {
  it('verify only untampered, unexpired values signed by this process', () => {
    const s = new StreamSessions(60);
    const now = Date.now();
    const { value, expiresAt } = s.issue(now);
    expect(expiresAt).toBe(now + 60_000);
    expect(s.verify(value, now)).toBe(true);
    expect(s.verify(value, now + 61_000)).toBe(false); // expired
    const [exp, nonce, sig] = value.split('.') as [string, string, string];
    expect(s.verify(`${Number(exp) + 1000}.${nonce}.${sig}`, now)).toBe(false); // expiry extended
    expect(s.verify(`${exp}.${nonce}x.${sig}`, now)).toBe(false);
    expect(s.verify(`${exp}.${nonce}.${sig.slice(0, -2)}`, now)).toBe(false);
    expect(s.verify('garbage', now)).toBe(false);
    expect(new StreamSessions(60).verify(value, now)).toBe(false); // another process's key
  });

  it('mark the cookie Secure behind TLS', () => {
    const s = new StreamSessions(60);
    const req = (headers: Record<string, string>) => ({ socket: {}, headers }) as unknown as IncomingMessage;
    expect(s.setCookie(req({ 'x-forwarded-proto': 'https' })).header).toMatch(/; Secure$/);
    expect(s.setCookie(req({})).header).not.toContain('Secure');
  });
});

const remote = await remoteRouteForFile();

describe.skipIf(!remote)(`live endpoints with a proxy token, called from a non-loopback address (${remote?.kind ?? 'none available'})`, () => {
  let h: Harness;
  let lan: string;
  let local: string;
  /** fetch from the remote caller's side */
  const remoteFetch = remote?.fetch ?? fetch;

  beforeAll(async () => {
    h = await startHarness({ config: { host: '0.0.0.0', proxyToken: TOKEN, liveSseRetryMs: 100 } });
    const port = new URL(h.url).port;
    lan = remote!.url(h.url);
    local = `http://127.0.0.1:${port}`;
  });
  afterAll(() => h.close());

  it('JSON endpoints require the token from non-loopback callers (gated), not from loopback', async () => {
    for (const path of ['/metrics/active-requests', '/metrics/running-totals?format=json', '/metrics/logs']) {
      expect((await remoteFetch(`${lan}${path}`)).status).toBe(401);
      expect((await remoteFetch(`${lan}${path}`, { headers: { 'x-headroom-proxy-token': 'wrong' } })).status).toBe(401);
      expect((await remoteFetch(`${lan}${path}`, { headers: { 'x-headroom-proxy-token': TOKEN } })).status).toBe(200);
      expect((await remoteFetch(`${lan}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
      expect((await fetch(`${local}${path}`)).status).toBe(200);
    }
  });

  it('a proxied request refused for a missing token is recorded and leaves nothing active', async () => {
    const r = await remoteFetch(`${lan}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': FAKE_ANTHROPIC_KEY },
      body: JSON.stringify({ model: 'claude-sonnet-5-5', max_tokens: 8, stream: true, messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(r.status).toBe(401);
    await r.text();
    const [o] = await h.waitForOutcomes(1);
    expect(o!.errorType).toBe('unauthorized');
    expect(h.app.service('live')!.tracker.active.size).toBe(0);
    const { body } = await getJson<{ errors: { request_id: string; error_type: string }[] }>(`${local}/metrics/logs`);
    expect(body.errors[0]).toMatchObject({ request_id: o!.requestId, error_type: 'unauthorized' });
  });

  it('a browser-style EventSource (no headers) gets in with the session cookie, and only then', async () => {
    // Without credentials the stream is refused, and EventSource reports 401.
    const denied = watch(lan, { fetch: remoteFetch });
    await until(() => denied.errors.length > 0, 'the refusal');
    expect(denied.errors[0]!.code).toBe(401);
    denied.close();

    expect((await remoteFetch(`${lan}${STREAM_PATH}/session`, { method: 'POST' })).status).toBe(401);
    const session = await remoteFetch(`${lan}${STREAM_PATH}/session`, { method: 'POST', headers: { 'x-headroom-proxy-token': TOKEN } });
    expect(session.status).toBe(200);
    expect(session.headers.get('cache-control')).toBe('no-store');
    const setCookie = session.headers.get('set-cookie')!;
    expect(setCookie).toMatch(new RegExp(`^${STREAM_COOKIE}=[^;]+; Path=${STREAM_PATH}; Max-Age=3600; HttpOnly; SameSite=Strict$`));
    const body = (await session.json()) as { ok: boolean; expires_at: string };
    expect(body.ok).toBe(true);
    expect(JSON.stringify(body)).not.toContain(TOKEN);
    const cookie = setCookie.split(';')[0]!;

    // What a browser does on the same origin: send the cookie, no headers of its own.
    const withCookie = (c: string): typeof fetch => (input, init) => remoteFetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), cookie: c } });
    const w = watch(lan, { fetch: withCookie(cookie) });
    await until(() => w.updates.length >= 1, 'the snapshot');
    // It reconnects with the same cookie after the server drops it.
    const mon = h.app.service('live')!;
    const served = mon.hub.stats().served;
    mon.hub.closeAll();
    await until(() => mon.hub.stats().served > served && mon.hub.size === 1, 'the reconnection');
    w.close();

    // A forged or altered cookie is refused, and the cookie unlocks nothing but the stream.
    const forged = watch(lan, { fetch: withCookie(`${cookie.slice(0, -3)}abc`) });
    await until(() => forged.errors.length > 0, 'the forged cookie refusal');
    expect(forged.errors[0]!.code).toBe(401);
    forged.close();
    expect((await getJson(`${lan}/metrics/active-requests`, { cookie }, remoteFetch)).status).toBe(401);
  });
});
