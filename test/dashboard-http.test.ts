/** `/dashboard` over HTTP: the page, its bundled assets, caching, compression, access and failure answers. */
import { request as httpRequest } from 'node:http';
import { gunzipSync } from 'node:zlib';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboardPlugin, DASHBOARD_CSP } from '../src/capabilities/dashboard/plugin.js';
import { defaultPlugins } from '../src/compose/proxy.js';
import { healthPlugin } from '../src/capabilities/health/plugin.js';
import { fakeCompressorPlugin } from './helpers/fake-compressor.js';
import { FAKE_ANTHROPIC_KEY, type Harness, startHarness } from './helpers/harness.js';
import { getJson, rawRequest, send } from './helpers/http.js';

let h: Harness;
let html: string;

beforeAll(async () => {
  h = await startHarness({ config: { proxyToken: 'test-proxy-token-http' }, plugins: [...defaultPlugins(), fakeCompressorPlugin] });
  html = (await send(`${h.url}/dashboard`)).text;
});
afterAll(() => h.close());

const assetPaths = (page: string) => [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);

describe('GET /dashboard', () => {
  it('serves the page to a loopback caller (token configured or not), with a strict CSP', async () => {
    const res = await send(`${h.url}/dashboard`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toBe(DASHBOARD_CSP);
    expect(DASHBOARD_CSP).toContain("connect-src 'self'");
    expect(DASHBOARD_CSP).toContain("script-src 'self'");
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.text).toContain('<div id="app">');
    expect((await send(`${h.url}/dashboard/`)).text).toBe(res.text);
  });

  it('references only its own bundled assets; none of them names another host', async () => {
    const paths = assetPaths(html);
    expect(paths.map((p) => p.replace(/-[A-Za-z0-9]{8}\./, '-HASH.'))).toEqual([
      '/dashboard/assets/icon-HASH.svg', '/dashboard/assets/style-HASH.css', '/dashboard/assets/app-HASH.js',
    ]);
    const types = ['image/svg+xml', 'text/css; charset=utf-8', 'text/javascript; charset=utf-8'];
    for (const [i, p] of paths.entries()) {
      const res = await send(`${h.url}${p}`);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe(types[i]);
      expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      // XML namespaces are names, not addresses; nothing else looks like a URL
      const urls = res.text.match(/https?:\/\/[^\s"'`)]+/g) ?? [];
      expect(urls.filter((u) => !u.startsWith('http://www.w3.org/'))).toEqual([]);
    }
  });

  it('gzips for clients that accept it, answers 304 to a matching ETag, and HEAD without a body', async () => {
    const js = assetPaths(html).find((p) => p.endsWith('.js'))!;
    const plain = await send(`${h.url}${js}`);
    const zipped = await rawRequest(`${h.url}${js}`, { headers: { 'accept-encoding': 'gzip, br' } });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers.vary).toBe('accept-encoding');
    expect(gunzipSync(await gzipBody(`${h.url}${js}`)).toString('utf8')).toBe(plain.text);
    const etag = plain.headers.etag as string;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    const again = await send(`${h.url}${js}`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    const head = await send(`${h.url}/dashboard`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(Number(head.headers['content-length'])).toBe(Buffer.byteLength(html));
  });

  it('unknown assets and path tricks are 404; other methods 405', async () => {
    for (const p of ['/dashboard/assets/nope.js', '/dashboard/assets/..%2F..%2Fpackage.json', '/dashboard/assets/index.html']) {
      const res = await send(`${h.url}${p}`);
      expect(res.status).toBe(404);
      expect(res.json()).toEqual({ error: { type: 'not_found', message: 'No such dashboard asset.' } });
    }
    expect((await send(`${h.url}/dashboard/assets/a/b.js`)).status).toBe(404);
    expect((await send(`${h.url}/dashboard`, { method: 'POST', body: '{}' })).status).toBe(405);
  });

  it('the recent-request details it shows carry per-transform and per-stage timings', async () => {
    const client = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0 });
    await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'x'.repeat(9000) }] });
    await h.waitForOutcomes(1);
    const s = await getJson(`${h.url}/stats`);
    const r = s.request_logs.at(-1);
    expect(Object.keys(r.transform_timings_ms)).toEqual(['log_compressor']);
    expect(r.transform_timings_ms.log_compressor).toBeGreaterThanOrEqual(0);
    expect(Object.keys(r.stage_timings_ms)).toContain('compression');
    expect(r.upstream_attempts).toBe(1);
    expect(typeof r.upstream_ms).toBe('number');
  });
});

/** The raw (still gzipped) body. */
function gzipBody(url: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    httpRequest(url, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    }).on('error', reject).end();
  });
}

describe('dashboard switched off or not built', () => {
  it('--no-dashboard: no route', async () => {
    const off = await startHarness({ config: { dashboard: false } });
    try {
      expect((await send(`${off.url}/dashboard`)).status).toBe(404);
    } finally {
      await off.close();
    }
  });

  it('missing build: 503 with the fix, and a warning at startup', async () => {
    const nowhere = [new URL('file:///nonexistent-headroom-dashboard/')];
    const bare = await startHarness({ plugins: [healthPlugin, createDashboardPlugin(nowhere)] });
    try {
      const res = await send(`${bare.url}/dashboard`);
      expect(res.status).toBe(503);
      expect(res.json()).toEqual({ error: { type: 'dashboard_not_built', message: 'The dashboard was not built: run `npm run build`.' } });
      expect(bare.logs.some((l) => l.includes('dashboard assets not found'))).toBe(true);
    } finally {
      await bare.close();
    }
  });
});
