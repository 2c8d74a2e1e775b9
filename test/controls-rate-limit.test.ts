import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { configWith } from '../src/config/index.js';
import { limiterRates } from '../src/capabilities/controls/plugin.js';
import { TokenBuckets } from '../src/capabilities/controls/rate-limit/buckets.js';
import { resetText } from '../src/capabilities/controls/rate-limit/limiter.js';
import { startControlsHarness } from './helpers/controls.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness } from './helpers/harness.js';
import { anthropicHeaders, send } from './helpers/http.js';

type Json = Record<string, any>;

const body = JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'Run the tests.' }] });
const KEY_B = 'sk-ant-api03-FAKEsecondkey000000000000000000000000';
const message = (h: Harness, key = FAKE_ANTHROPIC_KEY, extra: Record<string, string> = {}) =>
  send(`${h.url}/v1/messages`, { body, headers: { ...anthropicHeaders(key), ...extra } });
const stats = async (h: Harness): Promise<Json> => (await send(`${h.url}/stats`)).json<Json>();

describe('token buckets', () => {
  it('start full, refill continuously, and say how long to wait', () => {
    const b = new TokenBuckets(60); // one per second
    expect(b.available('k', 0)).toBe(60);
    for (let i = 0; i < 60; i++) expect(b.tryTake('k', 1, 0)).toBe(true);
    expect(b.tryTake('k', 1, 0)).toBe(false);
    expect(b.waitFor('k', 1, 0)).toBe(1000);
    expect(b.waitFor('k', 1, 400)).toBe(600);
    expect(b.tryTake('k', 1, 1000)).toBe(true);
    expect(b.state('k', 1000)).toEqual({ remaining: 0, resetMs: 60_000 });
    expect(b.available('k', 1_000_000)).toBe(60); // never above capacity
  });

  it('a request larger than the bucket waits for a full bucket and leaves it in debt', () => {
    const b = new TokenBuckets(1000);
    expect(b.tryTake('k', 5000, 0)).toBe(true);
    expect(b.available('k', 0)).toBe(-4000);
    expect(b.waitFor('k', 10, 0)).toBe(Math.ceil(4010 / (1000 / 60_000)));
    b.adjust('k', 4500, 0); // the request used fewer tokens than charged
    expect(b.available('k', 0)).toBe(500);
  });

  it('full buckets are dropped: only callers with spent tokens are active', () => {
    const b = new TokenBuckets(60);
    b.tryTake('a', 1, 0);
    b.tryTake('b', 1, 0);
    expect(b.active(0)).toBe(2);
    expect(b.active(60_000)).toBe(0);
  });

  it('formats reset times like OpenAI', () => {
    expect(resetText(20)).toBe('20ms');
    expect(resetText(1500)).toBe('1.5s');
    expect(resetText(360_000)).toBe('6m0s');
  });

  it('--rate-limit alone means 60 requests/min; --rpm/--tpm turn it on; off by default', () => {
    expect(limiterRates(configWith())).toEqual({ rpm: null, tpm: null });
    expect(limiterRates(configWith({ rateLimit: true }))).toEqual({ rpm: 60, tpm: null });
    expect(limiterRates(configWith({}, { HEADROOM_RPM: '100' }))).toEqual({ rpm: 100, tpm: null });
    expect(limiterRates(configWith({ tpm: 5000 }))).toEqual({ rpm: null, tpm: 5000 });
  });
});

describe('rate limiter through the proxy', () => {
  let h: Harness | null = null;
  afterEach(async () => {
    await h?.close();
    h = null;
  });

  it('off by default: no limiter stage, /stats.rate_limiter is null', async () => {
    h = await startControlsHarness({ config: {} });
    for (let i = 0; i < 5; i++) expect((await message(h)).status).toBe(200);
    expect(h.app.service('controls')!.limiter).toBeNull();
    expect((await stats(h)).rate_limiter).toBeNull();
    expect((await send(`${h.url}/health`)).json<Json>().checks.rate_limiter).toMatchObject({ enabled: false, status: 'disabled' });
  });

  it('requests per minute: 429 with Retry-After and x-ratelimit-* headers, counted, and served again after the wait', async () => {
    let t = 1_000_000;
    h = await startControlsHarness({ config: { rpm: 2 }, now: () => t });
    expect((await message(h)).status).toBe(200);
    expect((await message(h)).status).toBe(200);
    const r = await message(h);
    expect(r.status).toBe(429);
    expect(r.json()).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    expect(r.json<Json>().error.message).toBe('Rate limit exceeded for this API key: 2 requests per minute. Retry after 30.0 s.');
    expect(r.headers).toMatchObject({
      'retry-after': '30', 'retry-after-ms': '30000',
      'x-ratelimit-limit-requests': '2', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '1m0s',
    });
    expect(r.headers['x-ratelimit-limit-tokens']).toBeUndefined();
    // another key has its own bucket
    expect((await message(h, KEY_B)).status).toBe(200);
    await h.waitForOutcomes(4);
    const limited = h.outcomes.filter((o) => o.errorType === 'rate_limited');
    expect(limited).toHaveLength(1);
    expect(limited[0]).toMatchObject({ status: 429, ok: false, timing: { upstreamAttempts: 0 } });
    expect(h.mock.requests).toHaveLength(3);

    const s = await stats(h);
    expect(s.requests).toMatchObject({ total: 4, rate_limited: 1, failed: 0 });
    expect(s.rate_limiter).toEqual({ requests_per_minute: 2, tokens_per_minute: null, active_keys: 2, limited_by: 'key', rejected: { requests: 1, tokens: 0, total: 1 } });
    const metrics = (await send(`${h.url}/metrics`)).text;
    expect(metrics).toMatch(/^headroom_requests_rate_limited_total 1$/m);
    expect(metrics).toMatch(/^headroom_rate_limit_rejected_requests_total\{limit="requests"\} 1$/m);

    t += 30_000;
    expect((await message(h)).status).toBe(200);
  });

  it('by client IP: every key from one address shares a bucket', async () => {
    h = await startControlsHarness({ config: { rpm: 1, rateLimitBy: 'ip' }, now: () => 0 });
    expect((await message(h)).status).toBe(200);
    const r = await message(h, KEY_B);
    expect(r.status).toBe(429);
    expect(r.json<Json>().error.message).toContain('for this client address');
  });

  it('tokens per minute: the estimate is taken on arrival and corrected to the reported usage', async () => {
    const t = 5_000_000;
    h = await startControlsHarness({ config: { tpm: 100_000 }, now: () => t });
    const limiter = h.app.service('controls')!.limiter!;
    expect((await message(h)).status).toBe(200);
    const [o] = await h.waitForOutcomes(1);
    const key = `key:${o!.apiKeyHash}`;
    expect(limiter.tokens!.available(key, t)).toBe(100_000 - o!.usage!.input - o!.usage!.output);
    // an oversized request waits for a full bucket rather than never passing
    const big = JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'log line '.repeat(50_000) }] });
    const r = await send(`${h.url}/v1/messages`, { body: big, headers: anthropicHeaders(FAKE_ANTHROPIC_KEY) });
    expect(r.status).toBe(429);
    expect(r.json<Json>().error.message).toMatch(/100000 tokens per minute \(this request needs about \d+\)/);
    expect(r.headers['x-ratelimit-limit-tokens']).toBe('100000');
    expect(Number(r.headers['x-ratelimit-remaining-tokens'])).toBe(100_000 - o!.usage!.input - o!.usage!.output);
    expect((await stats(h)).rate_limiter.rejected).toEqual({ requests: 0, tokens: 1, total: 1 });
  });

  it('count_tokens and model lists are not limited', async () => {
    h = await startControlsHarness({ config: { rpm: 1 }, now: () => 0 });
    expect((await message(h)).status).toBe(200);
    for (let i = 0; i < 3; i++) {
      expect((await send(`${h.url}/v1/messages/count_tokens`, { body, headers: anthropicHeaders(FAKE_ANTHROPIC_KEY) })).status).toBe(200);
      expect((await send(`${h.url}/v1/models`, { headers: anthropicHeaders(FAKE_ANTHROPIC_KEY) })).status).toBe(200);
    }
  });

  it('the official SDKs raise RateLimitError for our 429', async () => {
    h = await startControlsHarness({ config: { rpm: 1 }, now: () => 0 });
    const anthropic = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0 });
    await anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
    const a = await anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(a).toBeInstanceOf(Anthropic.RateLimitError);
    expect((a as InstanceType<typeof Anthropic.RateLimitError>).headers.get('retry-after')).toBe('60');

    const openai = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0 });
    await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    const o = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(o).toBeInstanceOf(OpenAI.RateLimitError);
    expect((o as InstanceType<typeof OpenAI.RateLimitError>).code).toBe('rate_limit_exceeded');
    await h.waitForOutcomes(4);
    expect(h.outcomes.filter((x) => x.errorType === 'rate_limited')).toHaveLength(2);
  });

  it('a refusal carries the remaining budget when a budget is set', async () => {
    h = await startControlsHarness({ config: { rpm: 1, budget: 10 }, now: () => Date.parse('2026-04-01T10:00:00Z') });
    expect((await message(h)).status).toBe(200);
    const r = await message(h);
    expect(r.status).toBe(429);
    expect(r.headers['x-headroom-budget-limit-usd']).toBe('10');
    expect(r.headers['x-headroom-budget-resets-at']).toBe('2026-04-02T00:00:00Z');
  });
});
