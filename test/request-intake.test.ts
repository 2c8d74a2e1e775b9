/**
 * How request bodies are taken in: a stalled body shows in the live view while it is awaited
 * and gets 408 in the provider's shape after `--request-body-timeout-seconds`; `100 Continue`
 * is sent only for bodies that will be read (never before a 413); a Transfer-Encoding other
 * than `chunked` is refused.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ActiveSnapshot } from '../src/capabilities/live/views.js';
import { FAKE_ANTHROPIC_KEY, type Harness, startHarness } from './helpers/harness.js';
import { getJson } from './helpers/http.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ config: { requestBodyTimeoutSeconds: 0.5, maxBodyBytes: 64 * 1024, hook: true } });
});
afterAll(() => h.close());
beforeEach(() => h.reset());

/** A raw connection: write bytes, collect everything the server answers until it closes or `until` matches. */
function rawConnection(url: string): { socket: Socket; text: () => string; waitFor: (re: RegExp, ms?: number) => Promise<string>; closed: Promise<void> } {
  const u = new URL(url);
  const socket = connect(Number(u.port), u.hostname);
  let buf = '';
  const listeners: (() => void)[] = [];
  socket.on('data', (d) => {
    buf += d.toString('latin1');
    for (const fn of listeners.splice(0)) fn();
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  return {
    socket,
    text: () => buf,
    closed,
    waitFor(re, ms = 5_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${re} within ${ms} ms; got ${JSON.stringify(buf.slice(0, 300))}`)), ms);
        const check = () => {
          if (re.test(buf)) {
            clearTimeout(timer);
            resolve(buf);
          } else listeners.push(check);
        };
        socket.once('close', () => {
          if (!re.test(buf)) {
            clearTimeout(timer);
            reject(new Error(`closed without ${re}; got ${JSON.stringify(buf.slice(0, 300))}`));
          }
        });
        check();
      });
    },
  };
}

const head = (path: string, headers: Record<string, string>) =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;

const ANTHROPIC = { 'content-type': 'application/json', 'x-api-key': FAKE_ANTHROPIC_KEY, 'anthropic-version': '2023-06-01' };

describe('a request body that stalls', () => {
  it('is in flight in /metrics/active-requests while awaited, then gets 408 in the provider shape', async () => {
    const c = rawConnection(h.url);
    const body = '{"model":"claude-haiku-5-5","max_tokens":4,"messages":[';
    c.socket.write(head('/v1/messages', { ...ANTHROPIC, 'content-length': '500' }) + body);
    // observable while the body is being read
    let active: ActiveSnapshot['active_requests'] = [];
    for (let i = 0; i < 50 && active.length === 0; i++) {
      active = (await getJson<ActiveSnapshot>(`${h.url}/metrics/active-requests`)).active_requests;
      if (active.length === 0) await new Promise((r) => setTimeout(r, 20));
    }
    expect(active).toHaveLength(1);
    expect(active[0]).toMatchObject({ path: '/v1/messages', provider: 'anthropic', request_size: 0 });
    const text = await c.waitFor(/\r\n\r\n\{.*\}$/s);
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    const json = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { type: string; error: { type: string; message: string } };
    expect(json).toMatchObject({ type: 'error', error: { type: 'timeout_error' } });
    expect(json.error.message).toMatch(/stalled: no data for 0\.5 s \(\d+ bytes received\)/);
    await c.closed;
    const [o] = await h.waitForOutcomes(1);
    expect(o).toMatchObject({ status: 408, errorType: 'body_timeout', path: '/v1/messages' });
    expect(h.mock.requests).toHaveLength(0);
  });

  it('on /v1/compress too (its own error shape), and the hook allows the request unchanged', async () => {
    const c = rawConnection(h.url);
    c.socket.write(`${head('/v1/compress', { 'content-type': 'application/json', 'content-length': '100' })}{"messages":`);
    const text = await c.waitFor(/\r\n\r\n\{.*\}$/s);
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(text).toContain('"type":"request_timeout"');
    const hook = rawConnection(h.url);
    hook.socket.write(`${head('/hooks/aperture', { 'content-type': 'application/json', 'content-length': '100' })}{"request_body":`);
    const allowed = await hook.waitFor(/\{"action":"allow"\}/);
    expect(allowed).toMatch(/^HTTP\/1\.1 200 /);
    const outcomes = await h.waitForOutcomes(2);
    expect(outcomes.map((o) => o.errorType).sort()).toEqual(['body_timeout', 'body_timeout']);
  });
});

describe('Expect: 100-continue', () => {
  it('a declared length over the limit gets 413 and never a 100 Continue', async () => {
    const c = rawConnection(h.url);
    c.socket.write(head('/v1/messages', { ...ANTHROPIC, 'content-length': String(10 * 1024 * 1024), expect: '100-continue' }));
    const text = await c.waitFor(/\r\n\r\n\{.*\}/s);
    expect(text).not.toMatch(/100 Continue/);
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    expect(text).toContain('"type":"request_too_large"');
    c.socket.destroy();
    expect(h.mock.requests).toHaveLength(0);
  });

  it('a body within the limit gets 100 Continue, then the answer', async () => {
    const c = rawConnection(h.url);
    const body = JSON.stringify({ model: 'claude-haiku-5-5', max_tokens: 4, messages: [{ role: 'user', content: 'x' }] });
    c.socket.write(head('/v1/messages', { ...ANTHROPIC, 'content-length': String(Buffer.byteLength(body)), expect: '100-continue' }));
    await c.waitFor(/^HTTP\/1\.1 100 Continue\r\n\r\n/);
    c.socket.write(body);
    const text = await c.waitFor(/HTTP\/1\.1 200 [\s\S]*"type":"message"/);
    expect(text).toContain('mock reply');
    c.socket.destroy();
  });

  it('a request refused before its body is read (no route) gets no 100 either', async () => {
    const c = rawConnection(h.url);
    c.socket.write(head('/v1/nowhere', { 'content-type': 'application/json', 'content-length': '10', expect: '100-continue' }));
    const text = await c.waitFor(/\r\n\r\n\{.*\}/s);
    expect(text).toMatch(/^HTTP\/1\.1 404 /);
    c.socket.destroy();
  });
});

describe('Transfer-Encoding', () => {
  it('anything but plain chunked is refused with 501 before the body is read', async () => {
    for (const te of ['gzip, chunked', 'deflate, chunked']) {
      const c = rawConnection(h.url);
      c.socket.write(`${head('/v1/messages', { ...ANTHROPIC, 'transfer-encoding': te })}5\r\nhello\r\n0\r\n\r\n`);
      const text = await c.waitFor(/\r\n\r\n\{.*\}/s);
      expect(text, te).toMatch(/^HTTP\/1\.1 501 /);
      expect(text).toContain(`Transfer-Encoding \\"${te}\\" is not supported`);
      c.socket.destroy();
    }
    expect(h.mock.requests).toHaveLength(0);
  });

  it('plain chunked bodies are read as usual', async () => {
    const c = rawConnection(h.url);
    const body = JSON.stringify({ model: 'claude-haiku-5-5', max_tokens: 4, messages: [{ role: 'user', content: 'x' }] });
    c.socket.write(`${head('/v1/messages', { ...ANTHROPIC, 'transfer-encoding': 'chunked' })}${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`);
    const text = await c.waitFor(/HTTP\/1\.1 200 [\s\S]*"type":"message"/);
    expect(text).toContain('mock reply');
    c.socket.destroy();
    expect(h.mock.last!.body.toString()).toBe(body);
  });
});
