/**
 * The dashboard's "Sessions and users" panel in Chromium: traffic from two Claude Code
 * sessions and two users (Anthropic and OpenAI SDKs), then the Session view (this process,
 * `/stats`) and the History view (durable store, `/stats-history`) show one row per hashed id
 * with the figures of the API, formatted, the text painted on screen (a screenshot of the
 * table differs from one with its text made transparent), and no raw id anywhere on the page.
 */
import { createHash } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fmtInt, fmtUsd } from '../src/capabilities/dashboard/ui/format.js';
import { type Browser, browserAvailable, foreignRequests, launchBrowser, SCREENSHOT_DIR } from './helpers/browser.js';
import { defaultPlugins } from '../src/compose/proxy.js';
import { fakeCompressorPlugin } from './helpers/fake-compressor.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';
import { getJson } from './helpers/http.js';

type Json = Record<string, any>;

const h12 = (id: string) => createHash('sha256').update(id).digest('hex').slice(0, 12);
const SESSION_1 = 'dash-raw-session-one-0f0f';
const SESSION_2 = 'dash-raw-session-two-1e1e';
const DEV = 'user_dashrawdev0123_account_dash-raw-acct';
const APP_USER = 'dash-raw-app-user@example.invalid';

const LOG = Array.from({ length: 300 }, (_, i) => `2026-03-27T09:00:${String(i % 60).padStart(2, '0')} INFO worker ${i % 7} processed batch ${i}`).join('\n');

let h: Harness;
let b: Browser;

const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 20_000, interval: 100 });

/** Each row of a rendered table as its cells' text. */
const cells = (testid: string) =>
  b.page.locator(`[data-testid="${testid}"] tbody tr`).evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => (td.textContent ?? '').trim())));

/** What the table must show for an API table: every row, then `(none)` for requests without an id. */
function shown(table: Json): string[][] {
  const row = (id: string, r: Json) => [id, fmtInt(r.requests), fmtInt(r.input_tokens), fmtInt(r.output_tokens), fmtUsd(r.spend_usd), fmtUsd(r.saved_usd)];
  const out = (table.rows as Json[]).map((r) => row(r.id, r));
  if (table.unattributed.requests > 0) out.push(row('(none)', table.unattributed));
  return out;
}

/** The table's text is painted: its screenshot changes when the text is made transparent. */
async function textIsPainted(testid: string, name: string): Promise<void> {
  const table = b.page.getByTestId(testid);
  await table.scrollIntoViewIfNeeded();
  const withText = await table.screenshot({ path: `${SCREENSHOT_DIR}/${name}.png` });
  const paint = (color: string) => b.page.evaluate(`for (const e of [document.querySelector('[data-testid="${testid}"]'), ...document.querySelectorAll('[data-testid="${testid}"] *')]) e.style.color = '${color}'`);
  await paint('transparent');
  const without = await table.screenshot();
  await paint('');
  expect(withText.length).toBeGreaterThan(1000);
  expect(withText.equals(without)).toBe(false);
}

describe.skipIf(!browserAvailable)('attribution panel in chromium', () => {
  beforeAll(async () => {
    h = await startHarness({ plugins: [...defaultPlugins(), fakeCompressorPlugin] });
    b = await launchBrowser();
    const one = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0, defaultHeaders: { 'x-claude-code-session-id': SESSION_1 } });
    const two = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0, defaultHeaders: { 'x-claude-code-session-id': SESSION_2 } });
    const openai = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const ask = (t: string) => [{ role: 'user' as const, content: t }];
    await one.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, metadata: { user_id: DEV }, messages: ask('session one, first') });
    await one.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, metadata: { user_id: DEV }, messages: ask(`session one, second, with a log:\n${LOG}`) });
    await two.messages.create({ model: 'claude-haiku-4-5', max_tokens: 32, metadata: { user_id: DEV }, messages: ask('session two') });
    await openai.chat.completions.create({ model: 'gpt-4o', user: APP_USER, messages: ask('from the app') });
    await h.waitForOutcomes(4);
  }, 60_000);
  afterAll(async () => {
    await b?.close();
    await h?.close();
  });

  it('session view: one row per session and per user, with the figures /stats reports', async () => {
    const { page } = b;
    await page.goto(`${h.url}/dashboard`);
    await page.getByTestId('session-view').waitFor();
    const s = await getJson<Json>(`${h.url}/stats?cached=1`);
    await poll(() => cells('attribution-sessions')).toEqual(shown(s.attribution.sessions));
    await poll(() => cells('attribution-users')).toEqual(shown(s.attribution.users));
    const sessions = await cells('attribution-sessions');
    expect(sessions.map((r) => r[0])).toEqual([h12(SESSION_1), h12(SESSION_2), '(none)']);
    expect(sessions[0]![1]).toBe('2');
    expect(s.attribution.sessions.rows[0].saved_usd).toBeGreaterThan(0); // the log was compressed
    const users = await cells('attribution-users');
    expect(users.map((r) => r[0]).sort()).toEqual([h12(APP_USER), h12(DEV)].sort());
    expect(users.find((r) => r[0] === h12(DEV))![1]).toBe('3');
    await textIsPainted('attribution-sessions', 'attribution-sessions');
    await textIsPainted('attribution-users', 'attribution-users');
    const text = (await page.evaluate('document.body.innerText')) as string;
    for (const raw of [SESSION_1, SESSION_2, DEV, APP_USER, 'dashrawdev']) expect(text.includes(raw), raw).toBe(false);
    await b.screenshot('session-attribution');
  });

  it('history view: the durable store\'s range, with the figures /stats-history reports', async () => {
    const { page } = b;
    await page.keyboard.press('2');
    await page.getByTestId('history-view').waitFor();
    const hist = await getJson<Json>(`${h.url}/stats-history`);
    await poll(() => cells('history-attribution-sessions')).toEqual(shown(hist.attribution.sessions));
    await poll(() => cells('history-attribution-users')).toEqual(shown(hist.attribution.users));
    await textIsPainted('history-attribution-users', 'history-attribution-users');
    await b.screenshot('history-attribution');
  });

  it('made no request outside the proxy and logged no console error', () => {
    expect(foreignRequests(b.requests, new URL(h.url).origin)).toEqual([]);
    expect(b.consoleErrors).toEqual([]);
  });
});
