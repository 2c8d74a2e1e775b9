/**
 * The dashboard from another machine when the proxy has a token: the browser reaches the
 * proxy over this host's non-loopback address, so every data endpoint wants the token. The
 * page must open on its sign-in screen, then work (including the SSE stream, through its
 * cookie) with the token sent as a header and never in a URL.
 */
import { readFileSync } from 'node:fs';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fmtUsd } from '../src/capabilities/dashboard/ui/format.js';
import { defaultPlugins } from '../src/compose/proxy.js';
import { type Browser, browserAvailable, foreignRequests, launchBrowser } from './helpers/browser.js';
import { fakeCompressorPlugin } from './helpers/fake-compressor.js';
import { FAKE_ANTHROPIC_KEY, type Harness, startHarness } from './helpers/harness.js';
import { send } from './helpers/http.js';
import { remoteRouteForFile } from './helpers/remote.js';

type Json = Record<string, any>;

const TOKEN = 'test-proxy-token-dashboard-0123456789';
const LOG = Array.from({ length: 300 }, (_, i) => `INFO request ${i} served in ${i % 13} ms`).join('\n');

const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 20_000, interval: 100 });

let h: Harness;
let b: Browser;
let base: string;

const remote = browserAvailable ? await remoteRouteForFile() : null;
/** Every client of this file (browser, SDK, fetch) calls from the remote side. */
const fetch = remote?.fetch ?? globalThis.fetch;
const withToken = async (path: string): Promise<Json> => (await fetch(`${base}${path}`, { headers: { 'x-headroom-proxy-token': TOKEN } })).json() as Promise<Json>;
const remoteSend = (url: string, opts: { headers?: Record<string, string> } = {}) => send(url, { ...opts, dispatcher: remote!.dispatcher });

describe.skipIf(!browserAvailable || !remote)(`dashboard from a non-loopback address (${remote?.kind ?? 'none available'}) with a proxy token`, () => {
  beforeAll(async () => {
    h = await startHarness({ config: { host: '0.0.0.0', proxyToken: TOKEN }, plugins: [...defaultPlugins(), fakeCompressorPlugin] });
    base = remote!.url(h.url);
    const anthropic = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: base, maxRetries: 0, fetch, defaultHeaders: { 'x-headroom-proxy-token': TOKEN } });
    await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 32, messages: [{ role: 'user', content: `Summarise:\n${LOG}` }] });
    await h.waitForOutcomes(1);
    b = await launchBrowser({ executablePath: remote!.chromium });
  }, 60_000);
  afterAll(async () => {
    await b?.close();
    await h?.close();
  });

  it('without the token: the page answers 401 and opens on the sign-in screen; the data endpoints refuse', async () => {
    const page = await remoteSend(`${base}/dashboard`);
    expect(page.status).toBe(401);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.text).toContain('<div id="app">');
    expect((await remoteSend(`${base}/stats?cached=1`)).status).toBe(401);
    // the same page with the token (e.g. from a script) is a plain 200
    expect((await remoteSend(`${base}/dashboard`, { headers: { 'x-headroom-proxy-token': TOKEN } })).status).toBe(200);

    await b.page.goto(`${base}/dashboard`);
    await b.page.getByTestId('signin').waitFor();
    await b.page.getByTestId('token-input').fill('not-the-token');
    await b.page.getByTestId('token-submit').click();
    await poll(() => b.page.getByTestId('signin-error').textContent()).toBe('That token was not accepted.');
    await b.screenshot('signin');
  });

  it('with the token: figures load, per-request details stay loopback-only', async () => {
    const { page } = b;
    await page.getByTestId('token-input').fill(TOKEN);
    await page.getByTestId('token-submit').click();
    await page.locator('[data-testid="hero-usd-saved"] .stat-value[data-value]:not([data-value=""])').waitFor();
    const s = await withToken('/stats?cached=1');
    expect(s.cost.total_savings_usd).toBeGreaterThan(0);
    expect(await page.getByTestId('hero-usd-saved').locator('.stat-value').textContent()).toBe(fmtUsd(s.cost.total_savings_usd));
    expect(s.request_logs).toBeUndefined();
    await page.getByTestId('recent-loopback-only').waitFor();
    // a reload keeps the token for this tab
    await page.reload();
    await page.getByTestId('session-view').waitFor();
  });

  it('CSV export sends the token as a header', async () => {
    const { page } = b;
    await page.keyboard.press('2');
    await page.getByTestId('chart-tokens').locator('canvas').waitFor();
    const download = page.waitForEvent('download');
    await page.getByTestId('export-csv').click();
    const file = await download;
    const csv = await (await fetch(`${base}/stats-history?format=csv&series=hourly`, { headers: { 'x-headroom-proxy-token': TOKEN } })).text();
    expect(readFileSync((await file.path())!, 'utf8')).toBe(csv);
  });

  it('the live stream opens through its cookie and shows a request in flight', async () => {
    const { page } = b;
    await page.keyboard.press('3');
    await poll(() => page.getByTestId('stream-state').getAttribute('data-state')).toBe('live');
    const ac = new AbortController();
    const res = await fetch(`${base}/v1/messages`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json', 'x-api-key': FAKE_ANTHROPIC_KEY, 'anthropic-version': '2023-06-01',
        'x-headroom-proxy-token': TOKEN, 'x-mock-scenario': 'hang-mid-stream:2',
      },
      body: JSON.stringify({ model: 'claude-haiku-4-5', stream: true, max_tokens: 16, messages: [{ role: 'user', content: 'x' }] }),
      signal: ac.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    const row = page.locator(`[data-testid="active-table"] tr[data-key="${res.headers.get('x-headroom-request-id')}"]`);
    await row.waitFor();
    ac.abort();
    await reader.cancel().catch(() => undefined);
    await row.waitFor({ state: 'detached' });
  });

  it('sign out forgets the token', async () => {
    await b.page.getByRole('button', { name: 'Sign out' }).click();
    await b.page.getByTestId('signin').waitFor();
    expect(await b.page.evaluate('sessionStorage.length')).toBe(0);
  });

  it('talked only to the proxy, never put the token in a URL, and logged only the expected 401s', () => {
    expect(foreignRequests(b.requests, new URL(base).origin)).toEqual([]);
    expect(b.requests.filter((u) => u.includes(TOKEN))).toEqual([]);
    const unexpected = b.consoleErrors.filter((e) => !/status of 401/.test(e));
    expect(unexpected).toEqual([]);
  });
});
