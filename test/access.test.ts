/**
 * Proxy token gate, loopback guard and DNS-rebinding defence. The remote caller is a client
 * on another network stack (see helpers/remote.ts), so the gate is exercised on every machine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proxyPlugin } from '../src/capabilities/proxy/plugin.js';
import { healthPlugin } from '../src/capabilities/health/plugin.js';
import { sendJson } from '../src/core/http.js';
import { definePlugin } from '../src/core/plugin.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';
import { anthropicHeaders, openaiHeaders, type RawResponse, send as sendLocal } from './helpers/http.js';
import { rawStream } from './helpers/live-client.js';
import { remoteRouteForFile } from './helpers/remote.js';

const TOKEN = 'test-proxy-token-0123456789';
const adminPlugin = definePlugin({ name: 'test-admin', setup: ({ app }) => void app.router.add('GET', '/admin/ping', ({ res }) => sendJson(res, 200, { pong: true }), 'admin') });
/** Answers with the peer address the server saw. */
const peerPlugin = definePlugin({ name: 'test-peer', setup: ({ app }) => void app.router.add('GET', '/test/peer', ({ req, res }) => sendJson(res, 200, { peer: req.socket.remoteAddress }), 'open') });

const remote = await remoteRouteForFile();

describe.skipIf(!remote)(`access control for a caller at a non-loopback address (${remote?.kind ?? 'none available'})`, () => {
  let h: Harness;
  let ext: string;
  const send = (url: string, opts: Parameters<typeof sendLocal>[1] = {}): Promise<RawResponse> => sendLocal(url, { ...opts, dispatcher: remote!.dispatcher });
  beforeAll(async () => {
    h = await startHarness({ config: { host: '0.0.0.0', proxyToken: TOKEN }, plugins: [healthPlugin, proxyPlugin, adminPlugin, peerPlugin] });
    ext = remote!.url(h.url);
  });
  afterAll(() => h.close());

  it('the server sees the caller at its own non-loopback address', async () => {
    const r = await send(`${ext}/test/peer`);
    expect(r.json().peer).toBe(remote!.callerAddress);
    expect(r.json().peer).not.toMatch(/^(127\.|::1$|::ffff:127\.)/);
  });

  it('LLM routes need the token from non-loopback callers: 401 in the provider shape, counted', async () => {
    const a = await send(`${ext}/v1/messages`, { body: '{"model":"m","messages":[]}', headers: anthropicHeaders(FAKE_ANTHROPIC_KEY) });
    expect(a.status).toBe(401);
    expect(a.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    const o = await send(`${ext}/v1/chat/completions`, { body: '{"model":"m","messages":[]}', headers: { ...openaiHeaders(FAKE_OPENAI_KEY), 'x-headroom-proxy-token': 'wrong' } });
    expect(o.status).toBe(401);
    expect(o.json()).toMatchObject({ error: { type: 'authentication_error', message: 'Invalid proxy token.' } });
    const outs = await h.waitForOutcomes(2);
    expect(outs.map((x) => x.errorType)).toEqual(['unauthorized', 'unauthorized']);
    expect(h.mock.requests).toHaveLength(0);
  });

  it('with the token the request goes through, and the token is not forwarded', async () => {
    await h.reset();
    const a = await send(`${ext}/v1/messages`, { body: '{"model":"m","max_tokens":4,"messages":[{"role":"user","content":"x"}]}', headers: { ...anthropicHeaders(FAKE_ANTHROPIC_KEY), 'x-headroom-proxy-token': TOKEN } });
    expect(a.status).toBe(200);
    expect(h.mock.last!.headers['x-headroom-proxy-token']).toBeUndefined();
    expect(h.mock.last!.headers['x-api-key']).toBe(FAKE_ANTHROPIC_KEY);
    // a Bearer proxy token (Headroom style) is accepted and not sent upstream as a provider key
    const b = await send(`${ext}/v1/messages`, { body: '{"model":"m","max_tokens":4,"messages":[{"role":"user","content":"x"}]}', headers: { ...anthropicHeaders(FAKE_ANTHROPIC_KEY), authorization: `Bearer ${TOKEN}` } });
    expect(b.status).toBe(200);
    expect(h.mock.last!.headers.authorization).toBeUndefined();
  });

  it('health is open; admin routes 404 without the token, work with it', async () => {
    expect((await send(`${ext}/health`)).status).toBe(200);
    expect((await send(`${ext}/livez`)).status).toBe(200);
    const denied = await send(`${ext}/admin/ping`);
    expect(denied.status).toBe(404);
    expect(denied.json()).toEqual({ detail: 'Not Found' });
    expect((await send(`${ext}/admin/ping`, { headers: { 'x-headroom-proxy-token': TOKEN } })).status).toBe(200);
  });

  it('health hides config from non-loopback callers', async () => {
    expect((await send(`${ext}/health`)).json().config).toBeUndefined();
  });
});

describe('loopback callers', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: { proxyToken: TOKEN }, plugins: [healthPlugin, proxyPlugin, adminPlugin] });
  });
  afterAll(() => h.close());

  it('are never challenged on LLM routes', async () => {
    const r = await sendLocal(`${h.url}/v1/chat/completions`, { body: '{"model":"m","messages":[]}', headers: openaiHeaders(FAKE_OPENAI_KEY) });
    expect(r.status).toBe(200);
  });

  it('reach admin routes only when the Host header names loopback (DNS rebinding defence)', async () => {
    expect((await sendLocal(`${h.url}/admin/ping`)).status).toBe(200);
    expect((await sendLocal(`${h.url}/admin/ping`, { headers: { host: 'attacker.example:8787' } })).status).toBe(404);
    expect((await sendLocal(`${h.url}/health`)).json().config).toBeDefined();
    expect((await sendLocal(`${h.url}/health`, { headers: { host: 'attacker.example' } })).json().config).toBeUndefined();
  });

  it('unknown routes get 404 and wrong methods 405, as JSON', async () => {
    const nf = await sendLocal(`${h.url}/nope`);
    expect(nf.status).toBe(404);
    expect(nf.json()).toMatchObject({ error: { type: 'not_found' } });
    const na = await sendLocal(`${h.url}/health`, { method: 'POST', body: '{}' });
    expect(na.status).toBe(405);
  });
});

describe('a reverse proxy on this machine: loopback peer, forwarding headers', () => {
  let h: Harness;
  const forwarded = { 'x-forwarded-for': '203.0.113.7' };
  const withToken = { 'x-headroom-proxy-token': TOKEN };
  const llm = (headers: Record<string, string>) =>
    sendLocal(`${h.url}/v1/messages`, { body: '{"model":"m","max_tokens":4,"messages":[{"role":"user","content":"x"}]}', headers: { ...anthropicHeaders(FAKE_ANTHROPIC_KEY), ...headers } });
  const stream = async (headers: Record<string, string>): Promise<number> => {
    const s = await rawStream(h.url, headers);
    s.close();
    return s.status;
  };
  beforeAll(async () => {
    h = await startHarness({ config: { proxyToken: TOKEN } });
  });
  afterAll(() => h.close());

  it('a forwarded request without the token is refused on LLM routes (401, provider shape, counted)', async () => {
    const headers: Record<string, string>[] = [forwarded, { forwarded: 'for=203.0.113.7;proto=https' }, { 'x-real-ip': '203.0.113.7' }, { 'x-forwarded-host': 'headroom.example.internal' }, { 'x-forwarded-proto': 'https' }];
    for (const header of headers) {
      const r = await llm(header);
      expect(r.status, JSON.stringify(header)).toBe(401);
      expect(r.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    }
    const outs = await h.waitForOutcomes(5);
    expect(outs.map((o) => o.errorType)).toEqual(Array(5).fill('unauthorized'));
    expect(h.mock.requests).toHaveLength(0);
  });

  it('with the token it goes through; without a forwarding header loopback passes as before', async () => {
    await h.reset();
    expect((await llm({ ...forwarded, ...withToken })).status).toBe(200);
    expect((await llm({})).status).toBe(200);
    expect(h.mock.requests).toHaveLength(2);
  });

  it('admin and gated routes treat it as remote', async () => {
    const denied = await sendLocal(`${h.url}/stats/reset`, { method: 'POST', headers: forwarded });
    expect(denied.status).toBe(404);
    expect((await sendLocal(`${h.url}/stats/reset`, { method: 'POST', headers: { ...forwarded, ...withToken } })).status).toBe(200);
    expect((await sendLocal(`${h.url}/stats/reset`, { method: 'POST' })).status).toBe(200);
    expect((await sendLocal(`${h.url}/stats`, { headers: forwarded })).status).toBe(401);
    expect((await sendLocal(`${h.url}/stats`, { headers: { ...forwarded, ...withToken } })).status).toBe(200);
    // loopback-only views are left out, and the dashboard page opens on its sign-in screen
    expect((await sendLocal(`${h.url}/health`, { headers: forwarded })).json().config).toBeUndefined();
    expect((await sendLocal(`${h.url}/health`)).json().config).toBeDefined();
    expect((await sendLocal(`${h.url}/dashboard`, { headers: forwarded })).status).toBe(401);
  });

  it('the live stream needs the token (or its session cookie) too', async () => {
    expect(await stream(forwarded)).toBe(401);
    expect(await stream({ ...forwarded, ...withToken })).toBe(200);
    expect(await stream({})).toBe(200);
    const session = await sendLocal(`${h.url}/metrics/active-requests/stream/session`, { method: 'POST', headers: { ...forwarded, ...withToken } });
    const cookie = String(session.headers['set-cookie']).split(';')[0]!;
    expect(await stream({ ...forwarded, cookie })).toBe(200);
  });
});
