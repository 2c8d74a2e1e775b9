/**
 * What a web page can make the proxy do. A loopback-bound proxy answers only `Host` names of
 * loopback or `--allowed-hosts` (a page on a DNS-rebound domain sends its own name), unless the
 * proxy token is presented; health probes stay open. LLM routes take JSON only: the bodies a
 * page may send cross-site without a CORS preflight (`text/plain`, forms, untyped with an
 * `Origin`) get 415 in the provider's shape. The official SDKs and Claude Code are unaffected.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';
import { rawRequest } from './helpers/http.js';

const TOKEN = 'test-proxy-token-cross-site';
const MESSAGE = JSON.stringify({ model: 'claude-haiku-5-5', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] });
const A = { 'x-api-key': FAKE_ANTHROPIC_KEY, 'anthropic-version': '2023-06-01' };

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ config: { allowedHosts: ['proxy.internal', '.corp.example'], hook: true } });
});
afterAll(() => h.close());
beforeEach(() => h.reset());

describe('DNS rebinding: Host on a loopback-bound proxy', () => {
  it('a foreign Host is refused on LLM routes (provider shape, no upstream call) and gated routes', async () => {
    const host = { host: 'attacker.example:8787' };
    const llm = await rawRequest(`${h.url}/v1/messages`, { method: 'POST', body: MESSAGE, headers: { ...host, ...A, 'content-type': 'application/json' } });
    expect(llm.status).toBe(403);
    expect(llm.json()).toMatchObject({ type: 'error', error: { type: 'permission_error' } });
    expect(llm.json<{ error: { message: string } }>().error.message).toMatch(/Host "attacker\.example" is not served: headroom-ts is bound to loopback/);
    const chat = await rawRequest(`${h.url}/v1/chat/completions`, { method: 'POST', body: '{"model":"gpt-4o","messages":[]}', headers: { ...host, authorization: `Bearer ${FAKE_OPENAI_KEY}`, 'content-type': 'application/json' } });
    expect(chat.status).toBe(403);
    expect(chat.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
    for (const path of ['/stats', '/metrics', '/metrics/running-totals', '/metrics/logs', '/metrics/active-requests', '/stats-history', '/v1/telemetry']) {
      const r = await rawRequest(`${h.url}${path}`, { headers: host });
      expect(r.status, path).toBe(403);
      expect(r.json(), path).toMatchObject({ error: { type: 'forbidden_host' } });
    }
    const hook = await rawRequest(`${h.url}/hooks/aperture`, { method: 'POST', body: '{}', headers: { ...host, 'content-type': 'application/json' } });
    expect(hook.status).toBe(403);
    expect(h.mock.requests).toHaveLength(0);
    const [o] = await h.waitForOutcomes(2);
    expect(o).toMatchObject({ status: 403, errorType: 'unauthorized' });
  });

  it('loopback names and addresses, allowed hosts and the token pass; health probes are open', async () => {
    for (const host of ['localhost:1234', '127.0.0.1', '127.9.9.9:80', '[::1]:8787', 'app.localhost', 'proxy.internal:443', 'a.corp.example', 'corp.example']) {
      const r = await rawRequest(`${h.url}/v1/messages`, { method: 'POST', body: MESSAGE, headers: { host, ...A, 'content-type': 'application/json' } });
      expect(r.status, host).toBe(200);
    }
    for (const path of ['/livez', '/readyz', '/health']) expect((await rawRequest(`${h.url}${path}`, { headers: { host: 'attacker.example' } })).status, path).not.toBe(403);
    const t = await startHarness({ config: { proxyToken: TOKEN } });
    try {
      const r = await rawRequest(`${t.url}/stats`, { headers: { host: 'attacker.example', 'x-headroom-proxy-token': TOKEN } });
      expect(r.status).toBe(200);
      expect((await rawRequest(`${t.url}/stats`, { headers: { host: 'attacker.example' } })).status).toBe(403);
    } finally {
      await t.close();
    }
  });

  it('a proxy bound to all interfaces relies on the token instead', async () => {
    const open = await startHarness({ config: { host: '0.0.0.0' } });
    try {
      const r = await rawRequest(`${open.url.replace('0.0.0.0', '127.0.0.1')}/v1/messages`, { method: 'POST', body: MESSAGE, headers: { host: 'proxy.lan', ...A, 'content-type': 'application/json' } });
      expect(r.status).toBe(200);
    } finally {
      await open.close();
    }
  });
});

describe('bodies a page can send without a preflight', () => {
  it('get 415 in the provider shape on every LLM route and /v1/compress, with no upstream call', async () => {
    const types = ['text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'];
    for (const type of types) {
      const m = await rawRequest(`${h.url}/v1/messages`, { method: 'POST', body: MESSAGE, headers: { ...A, 'content-type': type } });
      expect(m.status, type).toBe(415);
      expect(m.json(), type).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
      for (const path of ['/v1/chat/completions', '/v1/responses', '/v1/messages/count_tokens']) {
        const r = await rawRequest(`${h.url}${path}`, { method: 'POST', body: MESSAGE, headers: { authorization: `Bearer ${FAKE_OPENAI_KEY}`, 'content-type': type } });
        expect(r.status, `${path} ${type}`).toBe(415);
      }
      const c = await rawRequest(`${h.url}/v1/compress`, { method: 'POST', body: JSON.stringify({ model: 'gpt-4o', messages: [] }), headers: { 'content-type': type } });
      expect(c.status, type).toBe(415);
      expect(c.json(), type).toMatchObject({ error: { type: 'invalid_request' } });
    }
    // an untyped body is what a page's Blob sends: refused when a browser says where it came from
    const untyped = await rawRequest(`${h.url}/v1/messages`, { method: 'POST', body: MESSAGE, headers: { ...A, origin: 'https://attacker.example' } });
    expect(untyped.status).toBe(415);
    expect(untyped.json<{ error: { message: string } }>().error.message).toBe('This endpoint takes a JSON body (Content-Type: application/json); got no Content-Type.');
    expect(h.mock.requests).toHaveLength(0);
  });

  it('JSON bodies (and untyped ones from non-browser clients) still work', async () => {
    for (const type of ['application/json', 'application/json; charset=utf-8', 'application/vnd.api+json']) {
      expect((await rawRequest(`${h.url}/v1/messages`, { method: 'POST', body: MESSAGE, headers: { ...A, 'content-type': type } })).status, type).toBe(200);
    }
    expect((await rawRequest(`${h.url}/v1/messages`, { method: 'POST', body: MESSAGE, headers: A })).status).toBe(200);
  });

  it('the official SDKs are unaffected', async () => {
    const anthropic = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0 });
    const m = await anthropic.messages.create({ model: 'claude-haiku-5-5', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] });
    expect(m.type).toBe('message');
    const openai = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const c = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] });
    expect(c.object).toBe('chat.completion');
    const r = await openai.responses.create({ model: 'gpt-4o', input: 'x' });
    expect(r.object).toBe('response');
  });

  const claude = fileURLToPath(new URL('../node_modules/.bin/claude', import.meta.url));
  it.skipIf(!existsSync(claude))('Claude Code works through the proxy', async () => {
    const home = mkdtempSync(join(tmpdir(), 'headroom-claude-'));
    try {
      const child = spawn(claude, ['-p', 'say hi', '--model', 'claude-sonnet-4-5'], {
        cwd: home,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          PATH: process.env.PATH ?? '', HOME: home, ANTHROPIC_BASE_URL: h.url, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY,
          CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', DISABLE_TELEMETRY: '1', DISABLE_AUTOUPDATER: '1',
          ANTHROPIC_CUSTOM_HEADERS: 'x-mock-tools: off',
        },
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code, out).toBe(0);
      expect(out).toContain('mock reply');
      const calls = h.mock.requests.filter((q) => q.path === '/v1/messages');
      expect(calls.length).toBeGreaterThan(0);
      expect(calls.every((q) => String(q.headers['content-type']).startsWith('application/json'))).toBe(true);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, 60_000);
});
