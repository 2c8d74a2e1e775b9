/**
 * The dashboard in a real browser (chromium via playwright-core): traffic through the proxy
 * against the mock upstream, then every view is opened and checked against the API it reads.
 * Screenshots of each view go to test-results/dashboard/ (git-ignored).
 */
import { readFileSync } from 'node:fs';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fmtInt, fmtUsd } from '../src/capabilities/dashboard/ui/format.js';
import { defaultPlugins } from '../src/compose/proxy.js';
import { type Browser, browserAvailable, foreignRequests, launchBrowser } from './helpers/browser.js';
import { fakeCompressorPlugin } from './helpers/fake-compressor.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';
import { getJson } from './helpers/http.js';

type Json = Record<string, any>;

const LOG = Array.from({ length: 400 }, (_, i) => `2026-03-27T09:00:${String(i % 60).padStart(2, '0')} INFO worker ${i % 7} processed batch ${i} in 12ms`).join('\n');
const SYSTEM = 'Stable instructions for the agent. '.repeat(300);

let h: Harness;
let b: Browser;

/** Traffic with savings, prompt-cache reads and writes (both TTLs), a project, a stack and an error. */
async function traffic(): Promise<void> {
  const anthropic = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0 });
  const openai = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0 });
  const system = (ttl: '5m' | '1h') => [{ type: 'text' as const, text: SYSTEM, cache_control: { type: 'ephemeral' as const, ttl } }];
  await anthropic.messages.create(
    { model: 'claude-sonnet-4-5', max_tokens: 64, system: system('1h'), messages: [{ role: 'user', content: `Summarise this log:\n${LOG}` }] },
    { headers: { 'x-headroom-project': 'checkout-service', 'x-headroom-stack': 'wrap_claude' } },
  );
  const stream = anthropic.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 64, system: system('1h'), messages: [{ role: 'user', content: 'and the errors?' }] });
  await stream.finalMessage();
  await anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 32, system: system('5m'), messages: [{ role: 'user', content: `Triage:\n${LOG}` }] });
  await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] });
  await openai.chat.completions
    .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] }, { headers: { 'x-mock-scenario': 'status:500' } })
    .catch(() => undefined);
  await h.waitForOutcomes(5);
}

/** An Anthropic stream that stays open (the mock stops after two frames) until `abort`. */
async function heldStream(): Promise<{ id: string; abort(): Promise<void> }> {
  const ac = new AbortController();
  const res = await fetch(`${h.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': FAKE_ANTHROPIC_KEY, 'anthropic-version': '2023-06-01', 'x-mock-scenario': 'hang-mid-stream:2' },
    body: JSON.stringify({ model: 'claude-opus-4-1', stream: true, max_tokens: 16, messages: [{ role: 'user', content: 'slow one' }] }),
    signal: ac.signal,
  });
  const reader = res.body!.getReader();
  await reader.read();
  return {
    id: res.headers.get('x-headroom-request-id')!,
    async abort() {
      ac.abort();
      await reader.cancel().catch(() => undefined);
    },
  };
}

/** Waits for a condition of the page (bounded generously: a loaded machine may be slow; no timing is asserted). */
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 20_000, interval: 100 });

/** Makes the page believe its tab was hidden or shown again. */
const setVisibility = (state: 'hidden' | 'visible') =>
  b.page.evaluate(`Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => '${state}' }); document.dispatchEvent(new Event('visibilitychange'))`);

const dataValue = async (testid: string): Promise<number> => {
  const raw = await b.page.locator(`[data-testid="${testid}"] [data-value], [data-testid="${testid}"][data-value]`).first().getAttribute('data-value');
  return Number(raw);
};

describe.skipIf(!browserAvailable)('dashboard in chromium', () => {
  beforeAll(async () => {
    h = await startHarness({ plugins: [...defaultPlugins(), fakeCompressorPlugin] });
    b = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await b?.close();
    await h?.close();
  });

  it('a fresh proxy: figures are zero and the panels without data say so', async () => {
    const { page } = b;
    await page.goto(`${h.url}/dashboard`);
    await page.getByTestId('session-view').waitFor();
    expect(await dataValue('hero-requests')).toBe(0);
    expect(await dataValue('hero-usd-saved')).toBe(0);
    expect(await page.getByTestId('basis-new-input').getAttribute('data-value')).toBe(''); // null: no compressor reported new input
    for (const empty of ['cache-empty', 'transforms-empty', 'models-table-empty', 'projects-table-empty', 'recent-empty']) {
      await page.getByTestId(empty).waitFor();
    }
    await b.screenshot('session-empty');
  });

  it('session view: every headline figure is the one /stats reports', async () => {
    const { page } = b;
    await traffic();
    // the page reads /stats?cached=1, a snapshot at most 5 s old: wait until it includes the traffic
    const fresh = await getJson<Json>(`${h.url}/stats`);
    await poll(() => dataValue('hero-requests')).toBe(fresh.requests.total);
    const s = await getJson<Json>(`${h.url}/stats?cached=1`);
    expect(s.requests.total).toBe(fresh.requests.total);
    expect(s.tokens.saved).toBeGreaterThan(0);
    expect(await dataValue('hero-usd-saved')).toBe(s.cost.total_savings_usd);
    expect(await dataValue('hero-tokens-saved')).toBe(s.tokens.saved);
    expect(await dataValue('basis-whole-wire')).toBe(s.tokens.savings_bases.whole_wire.percent);
    expect(await dataValue('basis-new-input')).toBe(s.tokens.savings_bases.new_input.percent);
    expect(await dataValue('hero-spend')).toBe(s.cost.total_cost_usd);
    expect(await dataValue('hero-requests')).toBe(s.requests.total);
    expect(await dataValue('hero-errors')).toBe(s.requests.errors);
    // the upstream 500 passed through is an error, not a proxy failure (Headroom's `failed`)
    expect(s.requests.errors).toBe(1);
    expect(s.requests.failed).toBe(0);
    expect(await dataValue('hero-overhead')).toBe(s.overhead.p50_ms);
    expect(await dataValue('hero-overhead-p99')).toBe(s.overhead.p99_ms);
    // what is shown is the formatted figure
    expect(await page.getByTestId('hero-usd-saved').locator('.stat-value').textContent()).toBe(fmtUsd(s.cost.total_savings_usd));
    expect(await page.getByTestId('hero-tokens-saved').locator('.stat-value').textContent()).toBe(fmtInt(s.tokens.saved));

    // prompt cache
    const pc = s.prefix_cache.totals;
    expect(pc.cache_read_tokens).toBeGreaterThan(0);
    expect(await dataValue('cache-reads')).toBe(pc.cache_read_tokens);
    expect(await dataValue('cache-writes')).toBe(pc.cache_write_tokens);
    expect(await dataValue('cache-hit-rate')).toBe(pc.hit_rate);
    expect(await dataValue('cache-net-usd')).toBe(pc.net_savings_usd);
    expect(await dataValue('cache-busts')).toBe(pc.bust_count);
    await poll(() => page.getByTestId('ttl-mix').textContent()).toMatch(/5 min.*1 hour/);

    // tables: one row per model / provider / project / stack
    const keys = (testid: string) => page.locator(`[data-testid="${testid}"] tbody tr`).evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')));
    expect((await keys('models-table')).sort()).toEqual(Object.keys(s.cost.per_model).sort());
    expect((await keys('providers-table')).sort()).toEqual(Object.keys(s.requests.by_provider).sort());
    expect(await keys('projects-table')).toEqual(['checkout-service']);
    expect(await keys('stacks-table')).toEqual(['wrap_claude']);
    expect(await keys('transforms-table')).toEqual(Object.keys(s.pipeline_timing));

    // recent requests: the compressed one opens onto its transforms and token counts
    const compressed = (s.request_logs as Json[]).find((r) => r.tokens_saved > 0)!;
    await page.locator(`[data-testid="recent-table"] tr[data-key="${compressed.request_id}"]`).click();
    const details = page.getByTestId('request-details');
    await poll(() => details.getByTestId('request-transforms').textContent()).toBe('log_compressor');
    expect(await details.textContent()).toContain(`${fmtInt(compressed.input_tokens_original)} before → ${fmtInt(compressed.input_tokens_optimized)} after`);
    expect(await details.textContent()).toMatch(/transforms: log_compressor \d/);
    await b.screenshot('session');
    // a smaller laptop screen
    await page.setViewportSize({ width: 1280, height: 800 });
    await b.screenshot('session-1280');
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  it('keyboard: r refreshes, t switches the theme', async () => {
    const { page } = b;
    const statsCalls = () => b.requests.filter((u) => u.endsWith('/stats?cached=1')).length;
    const before = statsCalls();
    await page.keyboard.press('r');
    await poll(statsCalls).toBeGreaterThan(before);
    expect(await page.evaluate('document.documentElement.dataset.theme')).toBe('dark'); // auto follows the system (dark here)
    await page.keyboard.press('t'); // dark
    await page.keyboard.press('t'); // light
    expect(await page.evaluate('document.documentElement.dataset.theme')).toBe('light');
    await b.screenshot('session-light');
    await page.keyboard.press('t'); // back to auto
    expect(await page.evaluate('document.documentElement.dataset.theme')).toBe('dark');
  });

  it('history view: lifetime figures, a chart with points, a model filter and CSV export', async () => {
    const { page } = b;
    await page.keyboard.press('2');
    const chart = page.getByTestId('chart-tokens');
    await chart.locator('canvas').waitFor();
    const hist = await getJson<Json>(`${h.url}/stats-history`);
    expect(await dataValue('lifetime-tokens-saved')).toBe(hist.lifetime.tokens_saved);
    expect(await dataValue('lifetime-usd-saved')).toBe(hist.lifetime.compression_savings_usd);
    expect(await dataValue('lifetime-requests')).toBe(hist.lifetime.requests);
    expect(Number(await chart.getAttribute('data-points'))).toBeGreaterThanOrEqual(24);
    expect(Number(await chart.getAttribute('data-nonzero'))).toBe(1); // all the traffic fell into the current hour
    expect(Number(await page.getByTestId('chart-usd').getAttribute('data-nonzero'))).toBe(1);

    // a model that saved nothing has an empty chart; all models again restores it
    await page.getByTestId('model-filter').selectOption('gpt-4o');
    await poll(() => chart.getAttribute('data-nonzero')).toBe('0');
    await page.getByTestId('model-filter').selectOption('');
    await poll(() => chart.getAttribute('data-nonzero')).toBe('1');

    await page.getByTestId('period-daily').click();
    await poll(() => page.getByTestId('chart-tokens').getAttribute('data-points')).toBe('14');
    const download = page.waitForEvent('download');
    await page.getByTestId('export-csv').click();
    const file = await download;
    expect(file.suggestedFilename()).toBe('headroom-stats-history-daily.csv');
    const csv = (await fetch(`${h.url}/stats-history?format=csv&series=daily`).then((r) => r.text()));
    expect(readFileSync((await file.path())!, 'utf8')).toBe(csv);
    await page.getByTestId('period-hourly').click();
    await b.screenshot('history');
  });

  it('live view: an in-flight request appears, its duration ticks, and it leaves when done', async () => {
    const { page } = b;
    await page.keyboard.press('3');
    await poll(() => page.getByTestId('stream-state').getAttribute('data-state')).toBe('live');
    const held = await heldStream();
    const row = page.locator(`[data-testid="active-table"] tr[data-key="${held.id}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('claude-opus-4-1');
    const first = Number(await row.getByTestId('active-duration').getAttribute('data-value'));
    await poll(async () => Number(await row.getByTestId('active-duration').getAttribute('data-value'))).toBeGreaterThan(first);
    await poll(() => page.getByTestId('rt-active').locator('[data-value]').getAttribute('data-value')).toBe('1');
    await b.screenshot('live');
    await held.abort();
    await row.waitFor({ state: 'detached' });
    await page.getByTestId('active-empty').waitFor();
    // it ended as a client abort: listed among the errors, and counted by the running totals
    await poll(() => page.getByTestId('errors-table').textContent()).toContain('client_abort');
    const rt = await getJson<Json>(`${h.url}/metrics/running-totals?format=json`);
    await poll(async () => dataValue('rt-requests')).toBe(rt.summary.total_requests);
    await b.screenshot('live-after');
  });

  it('live view: reconnects after the stream drops, and closes it while the tab is hidden', async () => {
    const state = b.page.getByTestId('stream-state');
    const hub = h.app.service('live')!.hub;
    expect(await state.getAttribute('data-retries')).toBe('0');
    hub.closeAll();
    await poll(() => state.getAttribute('data-retries')).toBe('1');
    await poll(() => state.getAttribute('data-state')).toBe('live');
    await poll(() => hub.size).toBe(1);

    await setVisibility('hidden');
    await poll(() => state.getAttribute('data-state')).toBe('paused');
    await poll(() => hub.size).toBe(0);
    await setVisibility('visible');
    await poll(() => state.getAttribute('data-state')).toBe('live');
    await poll(() => hub.size).toBe(1);
  });

  it('made no request outside the proxy and logged no console error', () => {
    expect(b.requests.length).toBeGreaterThan(10);
    expect(foreignRequests(b.requests, new URL(h.url).origin)).toEqual([]);
    expect(b.consoleErrors).toEqual([]);
  });
});
