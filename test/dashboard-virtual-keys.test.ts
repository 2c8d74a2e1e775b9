/**
 * The dashboard's "Spend by virtual key" panel in Chromium: traffic under two virtual keys
 * (Anthropic and OpenAI SDKs) and a refusal, then the Session view shows one row per key name
 * with the figures of `/stats.by_virtual_key`, formatted, and no key or hash on the page. A
 * proxy without a `keys:` section shows no such panel.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createControlsPlugin } from '../src/capabilities/controls/plugin.js';
import { generateKey, hashKey } from '../src/capabilities/controls/keys/secret.js';
import { fmtInt, fmtUsd } from '../src/capabilities/dashboard/ui/format.js';
import { defaultPlugins } from '../src/compose/proxy.js';
import type { RawValue } from '../src/config/field.js';
import { type Browser, browserAvailable, foreignRequests, launchBrowser } from './helpers/browser.js';
import { type Harness, startHarness } from './helpers/harness.js';
import { getJson } from './helpers/http.js';

type Json = Record<string, any>;

const TEAM = generateKey();
const BOT = generateKey();
const IDLE = generateKey();

let h: Harness;
let plain: Harness;
let b: Browser;

const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 20_000, interval: 100 });
const cells = (testid: string) =>
  b.page.locator(`[data-testid="${testid}"] tbody tr`).evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => (td.textContent ?? '').trim())));

function shown(by: Record<string, Json>): string[][] {
  return Object.entries(by).map(([name, r]) => [
    name, fmtInt(r.requests), fmtInt(r.refused), fmtInt(r.input_tokens), fmtInt(r.output_tokens), fmtUsd(r.cost_usd), fmtUsd(r.savings_usd),
    r.budget_usd === null ? '-' : `${fmtUsd(r.budget_spent_usd ?? 0)} / ${fmtUsd(r.budget_usd)}`,
  ]);
}

describe.skipIf(!browserAvailable)('virtual keys panel in chromium', () => {
  beforeAll(async () => {
    const keys = [
      { name: 'team-frontend', hash: hashKey(TEAM), budget_usd: 10 },
      { name: 'ci-bot', hash: hashKey(BOT), models: ['gpt-4o*'] },
      { name: 'idle', hash: hashKey(IDLE) },
    ];
    const env = { ANTHROPIC_API_KEY: 'sk-ant-api03-FAKEdashSERVER5555555555555', OPENAI_API_KEY: 'sk-proj-FAKEdashSERVER6666666666666' };
    const plugins = defaultPlugins().map((p) => (p.name === 'controls' ? createControlsPlugin({ env, budgetFlushMs: 20 }) : p));
    h = await startHarness({ config: { keys: keys as unknown as RawValue }, plugins });
    plain = await startHarness();
    b = await launchBrowser();
    const team = new Anthropic({ apiKey: TEAM, baseURL: h.url, maxRetries: 0 });
    const bot = new OpenAI({ apiKey: BOT, baseURL: `${h.url}/v1`, maxRetries: 0 });
    await team.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'first' }] });
    await team.messages.create({ model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'second' }] });
    await bot.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'build status?' }] });
    await bot.chat.completions.create({ model: 'o3', messages: [{ role: 'user', content: 'not allowed' }] }).catch(() => undefined);
    await h.waitForOutcomes(4);
  }, 60_000);
  afterAll(async () => {
    await b?.close();
    await h?.close();
    await plain?.close();
  });

  it('session view: one row per key name with the figures /stats reports', async () => {
    const { page } = b;
    await page.goto(`${h.url}/dashboard`);
    await page.getByTestId('session-view').waitFor();
    const s = await getJson<Json>(`${h.url}/stats?cached=1`);
    const rows = await (async () => {
      await poll(() => cells('virtual-keys-table')).toEqual(shown(s.by_virtual_key));
      return cells('virtual-keys-table');
    })();
    expect(rows.map((r) => r[0])).toEqual(['team-frontend', 'ci-bot', 'idle']);
    expect(rows[0]![1]).toBe('2');
    expect(rows[1]!.slice(1, 3)).toEqual(['1', '1']); // one request, one refusal (a model it may not use)
    expect(s.by_virtual_key['team-frontend'].cost_usd).toBeGreaterThan(0);
    expect(rows[0]![5]).toBe(fmtUsd(s.by_virtual_key['team-frontend'].cost_usd));
    expect(rows[0]![7]).toMatch(/ \/ \$10/);
    const text = (await page.evaluate('document.body.innerText')) as string;
    for (const secret of [TEAM, BOT, IDLE, hashKey(TEAM).slice(7, 19)]) expect(text.includes(secret)).toBe(false);
    await b.screenshot('session-virtual-keys');
  });

  it('no keys: section, no panel', async () => {
    const { page } = b;
    await page.goto(`${plain.url}/dashboard`);
    await page.getByTestId('session-view').waitFor();
    await page.getByTestId('recent-card').waitFor();
    expect(await page.getByTestId('virtual-keys').count()).toBe(0);
  });

  it('made no request outside the proxy and logged no console error', () => {
    expect(foreignRequests(b.requests, new URL(h.url).origin).filter((u) => !u.startsWith(new URL(plain.url).origin))).toEqual([]);
    expect(b.consoleErrors).toEqual([]);
  });
});
