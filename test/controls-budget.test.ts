import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { estimateRequest, reservationFor } from '../src/capabilities/controls/estimate.js';
import { MockUpstream } from '../src/mock/upstream.js';
import { accountingOf } from '../src/capabilities/stats/accounting.js';
import { startControlsHarness, logged, until } from './helpers/controls.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness } from './helpers/harness.js';
import { anthropicHeaders, openaiHeaders, send } from './helpers/http.js';
import { UpstreamGate } from './helpers/upstream-gate.js';

type Json = Record<string, any>;

const MODEL = 'claude-sonnet-4-6';
const bodyOf = (text = 'Summarise the build log.', maxTokens = 200) =>
  JSON.stringify({ model: MODEL, max_tokens: maxTokens, messages: [{ role: 'user', content: text }] });
/** What the proxy reserves for `body` (the same estimate and price it uses). */
const reservation = (body: string) => reservationFor('anthropic', MODEL, estimateRequest('messages', JSON.parse(body) as Json, 4096));

const message = (h: Harness, body = bodyOf(), headers: Record<string, string> = {}) =>
  send(`${h.url}/v1/messages`, { body, headers: { ...anthropicHeaders(FAKE_ANTHROPIC_KEY), ...headers } });

const stats = async (h: Harness): Promise<Json> => (await send(`${h.url}/stats`)).json<Json>();
const spendOf = (h: Harness) => h.outcomes.reduce((s, o) => s + (accountingOf(o).cost?.totalUsd ?? 0), 0);

const workspaces: string[] = [];
function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'headroom-budget-'));
  workspaces.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of workspaces) rmSync(d, { recursive: true, force: true });
});

describe('budget: concurrent requests never overshoot', () => {
  let mock: MockUpstream;
  let gate: UpstreamGate;
  let h: Harness | null = null;
  let h2: Harness | null = null;

  beforeAll(async () => {
    mock = new MockUpstream();
    await mock.start();
  });
  afterEach(async () => {
    await h?.close();
    await h2?.close();
    h = h2 = null;
    await gate?.stop();
    mock.reset();
  });
  afterAll(() => mock.close());

  it('50 concurrent requests with a budget for 10: exactly 10 go upstream, 40 are refused, one outcome each', async () => {
    gate = new UpstreamGate(mock.url);
    await gate.start();
    const body = bodyOf();
    const limit = 10.5 * reservation(body);
    h = await startControlsHarness({ config: { budget: limit }, upstreamUrl: gate.url });
    const hh = h;
    const pending = Array.from({ length: 50 }, () => message(hh, body));
    await until(() => gate.held === 10 && hh.outcomes.length === 40, '10 held upstream and 40 refusals');
    gate.open();
    const responses = await Promise.all(pending);
    await h.waitForOutcomes(50);

    expect(responses.filter((r) => r.status === 200)).toHaveLength(10);
    const refused = responses.filter((r) => r.status === 429);
    expect(refused).toHaveLength(40);
    for (const r of refused) {
      expect(r.json()).toMatchObject({ type: 'error', error: { type: 'budget_exceeded' } });
      expect(r.json<Json>().error.message).toMatch(/^Budget exceeded for the daily period \(the global budget\): spent \$[\d.]+ of \$[\d.]+, \$[\d.]+ reserved by requests in flight; this request may cost up to \$[\d.]+\. Resets at \d{4}-\d\d-\d\dT00:00:00Z\.$/);
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
      expect(r.headers['x-should-retry']).toBe('false');
      expect(r.headers['x-headroom-budget-limit-usd']).toBe(String(limit));
    }
    expect(mock.requests).toHaveLength(10);
    expect(gate.held).toBe(10);

    // every request is exactly one outcome; refusals are budget_exceeded, not failures
    expect(new Set(h.outcomes.map((o) => o.requestId)).size).toBe(50);
    expect(h.outcomes.filter((o) => o.errorType === 'budget_exceeded' && o.status === 429)).toHaveLength(40);
    expect(h.outcomes.filter((o) => o.ok)).toHaveLength(10);

    const s = await stats(h);
    expect(s.requests).toMatchObject({ total: 50, failed: 0, rate_limited: 0 });
    expect(s.budget).toMatchObject({ limit_usd: limit, period: 'daily', reserved_usd: 0, rejected_requests: { total: 40, global: 40, key: 0, project: 0 } });
    // the budget's dollars are the dollars /stats reports
    expect(s.budget.spent_usd).toBeCloseTo(spendOf(h), 6);
    expect(s.budget.spent_usd).toBeCloseTo(s.cost.total_cost_usd, 4);
    expect(s.budget.spent_usd).toBeLessThanOrEqual(limit);
    expect(s.budget.remaining_usd).toBeCloseTo(limit - s.budget.spent_usd, 6);
    expect(s.cost).toMatchObject({ budget_limit_usd: limit, budget_period: 'daily' });
  });

  it('two proxies sharing one store (separate SQLite connections) admit 10 together', async () => {
    gate = new UpstreamGate(mock.url);
    await gate.start();
    const body = bodyOf();
    const limit = 10.5 * reservation(body);
    const shared = workspace();
    h = await startControlsHarness({ config: { budget: limit, workspaceDir: shared }, upstreamUrl: gate.url });
    h2 = await startControlsHarness({ config: { budget: limit, workspaceDir: shared }, upstreamUrl: gate.url });
    const [a, b] = [h, h2];
    const pending = Array.from({ length: 50 }, (_, i) => message(i % 2 ? a : b, body));
    await until(() => gate.held + a.outcomes.length + b.outcomes.length === 50, 'every request held or refused');
    expect(gate.held).toBe(10);
    gate.open();
    const responses = await Promise.all(pending);
    expect(responses.filter((r) => r.status === 200)).toHaveLength(10);
    expect(responses.filter((r) => r.status === 429)).toHaveLength(40);
    await a.waitForOutcomes(a.outcomes.length);
    await until(() => a.outcomes.length + b.outcomes.length === 50, 'all outcomes');
    await stats(a);
    await stats(b); // each /stats writes its own process's settled spend
    const [sa, sb] = [await stats(a), await stats(b)];
    // both read the same durable spend: everything either process settled
    expect(sa.budget.spent_usd).toBeCloseTo(spendOf(a) + spendOf(b), 6);
    expect(sb.budget.spent_usd).toBeCloseTo(sa.budget.spent_usd, 6);
    expect(sa.budget.spent_usd).toBeLessThanOrEqual(limit);
  });
});

describe('budget: durable, periodic, observable', () => {
  let h: Harness | null = null;
  afterEach(async () => {
    await h?.close();
    h = null;
  });

  it('spend survives a restart', async () => {
    const dir = workspace();
    h = await startControlsHarness({ config: { budget: 5, workspaceDir: dir } });
    for (let i = 0; i < 3; i++) expect((await message(h)).status).toBe(200);
    await h.waitForOutcomes(3);
    const spent = spendOf(h);
    expect((await stats(h)).budget.spent_usd).toBeCloseTo(spent, 6);
    await h.close();
    h = await startControlsHarness({ config: { budget: 5, workspaceDir: dir } });
    const s = await stats(h);
    expect(s.requests.total).toBe(0);
    expect(s.budget.spent_usd).toBeCloseTo(spent, 6);
    expect(s.budget.remaining_usd).toBeCloseTo(5 - spent, 6);
    expect(s.budget.store).toMatchObject({ backend: 'sqlite', ok: true });
  });

  it('the daily period resets at midnight (injected clock)', async () => {
    let t = Date.parse('2026-03-10T23:59:00Z');
    const body = bodyOf();
    // room for one request: once it settled, what is left is less than the next reservation
    h = await startControlsHarness({ config: { budget: 1.05 * reservation(body) }, now: () => t });
    expect((await message(h, body)).status).toBe(200);
    await h.waitForOutcomes(1);
    const refused = await message(h, body);
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('60');
    expect(refused.json<Json>().error.message).toContain('Resets at 2026-03-11T00:00:00Z.');
    expect((await stats(h)).budget).toMatchObject({ period_start: '2026-03-10T00:00:00Z', resets_at: '2026-03-11T00:00:00Z' });

    t = Date.parse('2026-03-11T00:00:00Z');
    const next = await message(h, body);
    expect(next.status).toBe(200);
    expect(next.headers['x-headroom-budget-resets-at']).toBe('2026-03-12T00:00:00Z');
    await h.waitForOutcomes(3);
    const s = await stats(h);
    expect(s.budget).toMatchObject({ period_start: '2026-03-11T00:00:00Z', resets_at: '2026-03-12T00:00:00Z' });
    expect(s.budget.spent_usd).toBeCloseTo(accountingOf(h.outcomes[2]!).cost!.totalUsd, 6);
  });

  it('every response carries the remaining budget; it goes down as spend settles', async () => {
    h = await startControlsHarness({ config: { budget: 1 } });
    const a = await message(h);
    await h.waitForOutcomes(1);
    const b = await message(h);
    await h.waitForOutcomes(2);
    const remainingA = Number(a.headers['x-headroom-budget-remaining-usd']);
    const remainingB = Number(b.headers['x-headroom-budget-remaining-usd']);
    // each figure is after that request's own reservation
    expect(remainingA).toBeCloseTo(1 - reservation(bodyOf()), 5);
    expect(remainingB).toBeCloseTo(1 - spendOf(h) + accountingOf(h.outcomes[1]!).cost!.totalUsd - reservation(bodyOf()), 5);
    expect(a.headers).toMatchObject({ 'x-headroom-budget-limit-usd': '1', 'x-headroom-budget-period': 'daily' });
    // routes that cost nothing carry it too
    const models = await send(`${h.url}/v1/models`, { headers: anthropicHeaders(FAKE_ANTHROPIC_KEY) });
    expect(models.status).toBe(200);
    expect(Number(models.headers['x-headroom-budget-remaining-usd'])).toBeCloseTo(1 - spendOf(h), 5);
  });

  it('logs once when crossing 80 % and once when the budget is exhausted', async () => {
    const body = bodyOf();
    h = await startControlsHarness({ config: { budget: 10 * reservation(body), logLevel: 'info' } });
    let refusedAt = -1;
    for (let i = 0; i < 200 && refusedAt < 0; i++) {
      const r = await message(h, body);
      await h.waitForOutcomes(i + 1);
      if (r.status === 429) refusedAt = i;
    }
    expect(refusedAt).toBeGreaterThan(0);
    for (let i = 0; i < 3; i++) expect((await message(h, body)).status).toBe(429);
    const eighty = logged(h, 'budget 80% used');
    const exhausted = logged(h, 'budget exhausted');
    expect(eighty).toHaveLength(1);
    expect(exhausted).toHaveLength(1);
    expect(eighty[0]).toMatchObject({ level: 'warn', event: 'budget_alert', scope: 'global', threshold_percent: 80, period: 'daily' });
    expect(eighty[0]!.percent_used as number).toBeGreaterThanOrEqual(80);
    expect(exhausted[0]!.msg).toMatch(/requests are refused until \d{4}-\d\d-\d\dT00:00:00Z/);
  });

  it('an upstream error or a client abort releases the reservation', async () => {
    const body = bodyOf();
    h = await startControlsHarness({ config: { budget: 1.5 * reservation(body), retryMaxAttempts: 1 } });
    const failed = await message(h, body, { 'x-mock-scenario': 'status:500' });
    expect(failed.status).toBe(500);
    await h.waitForOutcomes(1);
    const aborted = new AbortController();
    const p = fetch(`${h.url}/v1/messages`, { method: 'POST', body, headers: { ...anthropicHeaders(FAKE_ANTHROPIC_KEY), 'content-type': 'application/json', 'x-mock-scenario': 'hang' }, signal: aborted.signal });
    await h.mock.waitForRequests(2);
    aborted.abort();
    await p.catch(() => undefined);
    await h.waitForOutcomes(2);
    expect(h.outcomes[1]!.errorType).toBe('client_abort');
    const ok = await message(h, body);
    expect(ok.status).toBe(200);
    await h.waitForOutcomes(3);
    expect((await stats(h)).budget.spent_usd).toBeCloseTo(accountingOf(h.outcomes[2]!).cost!.totalUsd, 6);
  });

  it('per-key budgets: one key spent, another still served; /stats lists spend per key hash', async () => {
    const body = bodyOf();
    h = await startControlsHarness({ config: { budgetPerKey: 1.05 * reservation(body) } });
    const keyA = 'sk-ant-api03-FAKEkeyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    const keyB = 'sk-ant-api03-FAKEkeyBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB';
    const as = (key: string) => send(`${h!.url}/v1/messages`, { body, headers: anthropicHeaders(key) });
    expect((await as(keyA)).status).toBe(200);
    await h.waitForOutcomes(1);
    const refused = await as(keyA);
    expect(refused.status).toBe(429);
    expect(refused.json<Json>().error.message).toContain('the budget of this API key');
    expect(refused.headers['x-headroom-budget-scope']).toBe('key');
    expect(refused.text).not.toContain(keyA);
    expect((await as(keyB)).status).toBe(200);
    await h.waitForOutcomes(3);
    const s = await stats(h);
    expect(s.budget.limit_usd).toBeNull();
    expect(s.budget.rejected_requests).toMatchObject({ key: 1, global: 0 });
    expect(s.budget.per_key.top).toHaveLength(2);
    expect(s.budget.per_key.top.map((r: Json) => r.key_hash).sort()).toEqual([h.outcomes[0]!.apiKeyHash, h.outcomes[2]!.apiKeyHash].sort());
    expect(JSON.stringify(s.budget)).not.toContain('FAKEkey');
  });

  it('per-project budgets (X-Headroom-Project or a /p/<name>/ prefix)', async () => {
    const body = bodyOf();
    h = await startControlsHarness({ config: { budgetPerProject: 1.05 * reservation(body) } });
    expect((await message(h, body, { 'x-headroom-project': 'alpha' })).status).toBe(200);
    await h.waitForOutcomes(1);
    const refused = await send(`${h.url}/p/alpha/v1/messages`, { body, headers: anthropicHeaders(FAKE_ANTHROPIC_KEY) });
    expect(refused.status).toBe(429);
    expect(refused.json<Json>().error.message).toContain('the budget of project "alpha"');
    expect((await message(h, body, { 'x-headroom-project': 'beta' })).status).toBe(200);
    expect((await message(h, body)).status).toBe(200); // no project: only the (unset) global budget applies
    await h.waitForOutcomes(4);
    const s = await stats(h);
    expect(s.budget.per_project.top.map((r: Json) => r.project).sort()).toEqual(['alpha', 'beta']);
  });

  it('Prometheus gauges and refusal counters', async () => {
    h = await startControlsHarness({ config: { budget: 0.000001 } });
    await message(h);
    await h.waitForOutcomes(1);
    const text = await (await send(`${h.url}/metrics`)).text;
    expect(text).toMatch(/^headroom_budget_limit_usd 0\.000001$/m);
    expect(text).toMatch(/^headroom_budget_spent_usd 0$/m);
    expect(text).toMatch(/^headroom_budget_remaining_usd 0\.000001$/m);
    expect(text).toMatch(/^headroom_budget_rejected_requests_total\{scope="global"\} 1$/m);
    expect(text).toMatch(/^headroom_budget_period_end_timestamp_seconds \d+$/m);
    const health = (await send(`${h.url}/health`)).json<Json>();
    expect(health.checks.budget).toMatchObject({ enabled: true, ready: true, degraded: false, backend: 'sqlite' });
  });
});

describe('budget errors parse as errors in the official SDKs', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startControlsHarness({ config: { budget: 0 } });
  });
  afterAll(() => h.close());

  it('Anthropic SDK: RateLimitError with type budget_exceeded, not retried', async () => {
    const client = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url }); // default retries on
    const err = await client.messages.create({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    const e = err as InstanceType<typeof Anthropic.RateLimitError>;
    expect(e.status).toBe(429);
    expect((e.error as Json).error.type).toBe('budget_exceeded');
    expect(e.message).toMatch(/more than the global budget of \$0\.0000 per daily period \(spent \$0\.0000 so far; resets at \d{4}-\d\d-\d\dT00:00:00Z\); lower max_tokens or raise the budget\./);
    const stream = client.messages.stream({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
    await expect(stream.finalMessage()).rejects.toBeInstanceOf(Anthropic.RateLimitError);
    await h.waitForOutcomes(2);
    expect(h.outcomes.map((o) => o.errorType)).toEqual(['budget_exceeded', 'budget_exceeded']);
  });

  it('OpenAI SDK (chat and responses): RateLimitError with code budget_exceeded, not retried', async () => {
    await h.reset();
    const client = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1` });
    const chat = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(chat).toBeInstanceOf(OpenAI.RateLimitError);
    expect((chat as InstanceType<typeof OpenAI.RateLimitError>).code).toBe('budget_exceeded');
    expect((chat as InstanceType<typeof OpenAI.RateLimitError>).type).toBe('budget_exceeded');
    const resp = await client.responses.create({ model: 'gpt-4o', input: 'hi' }).catch((e: unknown) => e);
    expect(resp).toBeInstanceOf(OpenAI.RateLimitError);
    expect((resp as InstanceType<typeof OpenAI.RateLimitError>).code).toBe('budget_exceeded');
    await h.waitForOutcomes(2);
    expect(h.outcomes).toHaveLength(2);
    expect(h.mock.requests).toHaveLength(0);
  });

  it('count_tokens and model lists are free: not refused', async () => {
    const r = await send(`${h.url}/v1/messages/count_tokens`, { body: bodyOf(), headers: anthropicHeaders(FAKE_ANTHROPIC_KEY) });
    expect(r.status).toBe(200);
    const m = await send(`${h.url}/v1/models`, { headers: openaiHeaders(FAKE_OPENAI_KEY) });
    expect(m.status).toBe(200);
  });
});

