/**
 * The dashboard's time zone, locale, spend chart and reports in a real browser (chromium via
 * playwright-core), opened as a user in New York with a German browser would open it: one
 * labelled zone for every time (switchable to UTC, remembered), German number formats, the
 * spend chart and the spend CSV from the store, History subtitles that name the buckets
 * drawn, and the prompt-cache provider table counting the requests the Providers table counts
 * (with requests that carry no cache fields, errors and a proxy failure among them).
 * Screenshots go to test-results/dashboard/ (git-ignored).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rangeText } from '../src/capabilities/dashboard/ui/history-data.js';
import { defaultPlugins } from '../src/compose/proxy.js';
import { type Browser, browserAvailable, foreignRequests, launchBrowser, SCREENSHOT_DIR } from './helpers/browser.js';
import { fakeCompressorPlugin } from './helpers/fake-compressor.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';
import { getJson } from './helpers/http.js';

type Json = Record<string, any>;

const ZONE = 'America/New_York';
const LOCALE = 'de-DE';
const LOG = Array.from({ length: 400 }, (_, i) => `2026-03-27T09:00:${String(i % 60).padStart(2, '0')} INFO worker ${i % 7} processed batch ${i} in 12ms`).join('\n');
const SYSTEM = 'Stable instructions for the agent. '.repeat(300);

let h: Harness;
let b: Browser;

const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 20_000, interval: 100 });

/** Requests with and without prompt-cache fields, streamed, failed upstream, and one the upstream never answered. */
async function traffic(): Promise<number> {
  const anthropic = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0 });
  const openai = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0 });
  const cached = [{ type: 'text' as const, text: SYSTEM, cache_control: { type: 'ephemeral' as const } }];
  await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, system: cached, messages: [{ role: 'user', content: `Summarise this log:\n${LOG}` }] });
  await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, system: cached, messages: [{ role: 'user', content: 'again' }] });
  // no cache_control: the response carries no cache reads or writes
  await anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 32, messages: [{ role: 'user', content: `Triage:\n${LOG}` }] });
  await anthropic.messages.stream({ model: 'claude-haiku-4-5', max_tokens: 32, messages: [{ role: 'user', content: 'stream it' }] }).finalMessage();
  await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] });
  await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `Summarise:\n${LOG}` }] });
  const fail = (scenario: string) => ({ headers: { 'x-mock-scenario': scenario } });
  await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'boom' }] }, fail('status:500')).catch(() => undefined);
  await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 8, messages: [{ role: 'user', content: 'bad' }] }, fail('status:400')).catch(() => undefined);
  await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 8, messages: [{ role: 'user', content: 'gone' }] }, fail('reset-before-headers')).catch(() => undefined);
  await h.waitForOutcomes(9);
  return 9;
}

const sumValues = (testid: string) =>
  b.page.locator(`[data-testid="${testid}"] tbody tr`).evaluateAll((rows) =>
    Object.fromEntries(rows.map((r) => [r.getAttribute('data-key'), Number(r.querySelector('[data-value]')?.getAttribute('data-value'))])));

const clock = (t: string | number, timeZone: string) => new Intl.DateTimeFormat(LOCALE, { hour: '2-digit', minute: '2-digit', second: '2-digit', timeZone }).format(new Date(t));

describe.skipIf(!browserAvailable)('dashboard: time zone, locale, spend', () => {
  beforeAll(async () => {
    h = await startHarness({ plugins: [...defaultPlugins(), fakeCompressorPlugin] });
    b = await launchBrowser({ locale: LOCALE, timezoneId: ZONE });
    await traffic();
  }, 90_000);
  afterAll(async () => {
    await b?.close();
    await h?.close();
  });

  it('one labelled zone: the browser\'s by default; UTC changes every time shown, and is remembered', async () => {
    const { page } = b;
    const s = await getJson<Json>(`${h.url}/stats`);
    await page.goto(`${h.url}/dashboard`);
    await poll(async () => Number(await page.locator('[data-testid="hero-requests"] [data-value]').getAttribute('data-value'))).toBe(s.requests.total);
    const label = page.getByTestId('zone-label');
    expect(await label.getAttribute('data-zone')).toBe(ZONE);
    expect(await label.textContent()).toMatch(/^America\/New_York \(UTC-0[45]:00\)$/);

    const newest = (s.request_logs as Json[]).at(-1)!;
    const timeCell = page.locator(`[data-testid="recent-table"] tr[data-key="${newest.request_id}"] td`).first();
    expect(await timeCell.textContent()).toBe(clock(newest.timestamp, ZONE));
    expect(await page.getByTestId('recent-time-head').textContent()).toMatch(/^Time \(UTC-0[45]:00\)$/);
    await b.screenshot('display-session-de-ny');

    await page.getByTestId('zone-select').selectOption('utc');
    await poll(() => label.textContent()).toBe('UTC');
    expect(await timeCell.textContent()).toBe(clock(newest.timestamp, 'UTC'));
    expect(await page.getByTestId('recent-time-head').textContent()).toBe('Time (UTC)');
    expect(clock(newest.timestamp, 'UTC')).not.toBe(clock(newest.timestamp, ZONE));
    // remembered across a reload
    await page.reload();
    await page.getByTestId('session-view').waitFor();
    expect(await page.getByTestId('zone-label').textContent()).toBe('UTC');
    expect(await page.locator(`[data-testid="recent-table"] tr[data-key="${newest.request_id}"] td`).first().textContent()).toBe(clock(newest.timestamp, 'UTC'));
    await page.getByTestId('zone-select').selectOption('local');
    await poll(() => page.getByTestId('zone-label').getAttribute('data-zone')).toBe(ZONE);
  });

  it('numbers follow the browser locale (de-DE: 1.234,5)', async () => {
    const { page } = b;
    const s = await getJson<Json>(`${h.url}/stats?cached=1`);
    expect(s.tokens.saved).toBeGreaterThan(1000);
    const saved = await page.getByTestId('hero-tokens-saved').locator('.stat-value').textContent();
    expect(saved).toBe(new Intl.NumberFormat('de-DE', { maximumFractionDigits: 0 }).format(s.tokens.saved));
    expect(saved).toMatch(/^\d{1,3}(\.\d{3})+$/);
    // dollars: comma decimals, the sign after the figure
    expect(await page.getByTestId('hero-spend').locator('.stat-value').textContent()).toMatch(/^\d+,\d{2,4}\s\$$/);
    // percentages: comma decimal and a space before the sign
    expect(await page.getByTestId('basis-whole-wire').textContent()).toMatch(/\d+,\d\s%/);
  });

  it('the prompt-cache provider table counts the same requests as the Providers table', async () => {
    const s = await getJson<Json>(`${h.url}/stats?cached=1`);
    // the store counts every request; the provider cache figures only those whose usage reported the cache
    const cacheOnly = Object.values(s.prefix_cache.by_provider as Record<string, Json>).reduce((a, f) => a + f.requests, 0);
    expect(cacheOnly).toBeLessThan(s.requests.total);
    const providers = await sumValues('providers-table');
    const cache = await sumValues('cache-providers');
    expect(cache).toEqual(providers);
    expect(providers).toEqual(s.requests.by_provider);
    const total = (m: Record<string, number>) => Object.values(m).reduce((a, n) => a + n, 0);
    expect(total(cache)).toBe(s.requests.total);
    expect(total(providers)).toBe(s.requests.total);
    await b.page.getByTestId('cache-panel').screenshot({ path: join(SCREENSHOT_DIR, 'display-cache-panel.png') });
  });

  it('History: spend chart with data, subtitles naming the buckets drawn, times in the zone', async () => {
    const { page } = b;
    await page.keyboard.press('2');
    const spend = page.getByTestId('chart-spend');
    await spend.locator('canvas').waitFor();
    const hist = await getJson<Json>(`${h.url}/stats-history?history_mode=none`);
    const lifetimeSpend = hist.lifetime.total_input_cost_usd + hist.lifetime.total_output_cost_usd;
    expect(lifetimeSpend).toBeGreaterThan(0);
    await poll(async () => Number(await spend.getAttribute('data-nonzero'))).toBe(1); // all the traffic fell into one hour
    expect(Number(await page.getByTestId('spend-total').getAttribute('data-value'))).toBeCloseTo(lifetimeSpend, 5);
    expect(Number(await page.getByTestId('chart-requests').getAttribute('data-nonzero'))).toBe(1);

    const range = page.getByTestId('history-range');
    const expected: Record<string, number> = { hourly: 24, daily: 14, weekly: 8, monthly: 6 };
    for (const period of ['hourly', 'daily', 'weekly', 'monthly'] as const) {
      await page.getByTestId(`period-${period}`).click();
      await poll(() => range.getAttribute('data-points')).toBe(await page.getByTestId('chart-tokens').getAttribute('data-points'));
      const points = Number(await range.getAttribute('data-points'));
      // the traffic is all from this hour: the minimum span, one more if the hour turned meanwhile
      expect(points - expected[period]!).toBeGreaterThanOrEqual(0);
      expect(points - expected[period]!).toBeLessThanOrEqual(1);
      expect(Number(await spend.getAttribute('data-points'))).toBe(points);
      const text = await range.textContent();
      expect(text).toBe(`${rangeText(points, period)} · ${period === 'hourly' ? (await page.getByTestId('zone-label').textContent())! : 'UTC days'}`);
      if (period === 'hourly') expect(text).toMatch(/^last 2[45] hours, hourly · America\/New_York/);
      if (period === 'daily') expect(text).toMatch(/^last 1[45] days, daily · UTC days$/);
    }

    // the hourly table's hour is in the zone, and says so
    await page.getByTestId('period-hourly').click();
    const bucket = hist.series.hourly.at(-1).timestamp as string;
    const header = await page.locator('[data-testid="buckets-table"] th').first().textContent();
    expect(header).toMatch(/^Hour \(UTC-0[45]:00\)$/);
    const hourText = new Intl.DateTimeFormat(LOCALE, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', timeZone: ZONE }).format(new Date(bucket));
    expect(await page.locator('[data-testid="buckets-table"] tbody tr').first().locator('td').first().textContent()).toBe(hourText);
    await page.getByTestId('zone-select').selectOption('utc');
    const utcText = new Intl.DateTimeFormat(LOCALE, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', timeZone: 'UTC' }).format(new Date(bucket));
    await poll(() => page.locator('[data-testid="buckets-table"] tbody tr').first().locator('td').first().textContent()).toBe(utcText);
    expect(await page.locator('[data-testid="buckets-table"] th').first().textContent()).toBe('Hour (UTC)');
    expect(await page.getByTestId('chart-spend').getAttribute('data-zone')).toBe('UTC');
    await page.getByTestId('zone-select').selectOption('local');
    await poll(() => page.getByTestId('chart-spend').getAttribute('data-zone')).toBe(ZONE);
    await b.screenshot('display-history-de-ny');
  });

  it('the spend CSV: requests, provider, model, input and output cost per day, summing to the store', async () => {
    const { page } = b;
    await page.getByTestId('period-daily').click();
    const download = page.waitForEvent('download');
    await page.getByTestId('export-spend-csv').click();
    const file = await download;
    expect(file.suggestedFilename()).toBe('headroom-spend-daily.csv');
    const text = readFileSync((await file.path())!, 'utf8');
    expect(text).toBe(await fetch(`${h.url}/stats-history?report=spend&series=daily&format=csv`).then((r) => r.text()));
    const [head, ...lines] = text.trimEnd().split('\r\n');
    const cols = head!.split(',');
    expect(cols).toEqual(['timestamp', 'provider', 'model', 'requests', 'input_tokens', 'output_tokens', 'input_cost_usd', 'output_cost_usd', 'total_cost_usd', 'tokens_saved', 'savings_usd']);
    const rows = lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i]!, v])));
    const hist = await getJson<Json>(`${h.url}/stats-history?history_mode=none`);
    const today = `${new Date().toISOString().slice(0, 10)}T00:00:00Z`;
    expect(new Set(rows.map((r) => r.timestamp))).toEqual(new Set([today]));
    expect(new Set(rows.map((r) => r.provider))).toEqual(new Set(['anthropic', 'openai']));
    expect(rows.map((r) => r.model)).toEqual(expect.arrayContaining(['claude-sonnet-4-5', 'claude-haiku-4-5', 'gpt-4o', 'gpt-4o-mini']));
    const total = (k: string) => rows.reduce((a, r) => a + Number(r[k]), 0);
    expect(total('requests')).toBe(hist.lifetime.requests);
    expect(total('input_cost_usd')).toBeCloseTo(hist.lifetime.total_input_cost_usd, 5);
    expect(total('output_cost_usd')).toBeCloseTo(hist.lifetime.total_output_cost_usd, 5);
    expect(total('output_cost_usd')).toBeGreaterThan(0);
    for (const r of rows) expect(Number(r.total_cost_usd)).toBeCloseTo(Number(r.input_cost_usd) + Number(r.output_cost_usd), 6);
  });

  it('made no request outside the proxy and logged no console error', () => {
    expect(foreignRequests(b.requests, new URL(h.url).origin)).toEqual([]);
    expect(b.consoleErrors).toEqual([]);
  });
});
