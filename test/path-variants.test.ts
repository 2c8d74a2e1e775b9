/**
 * Every spelling of an LLM route is the same route: paths are normalised once before routing
 * (repeated and trailing slashes, unreserved percent-escapes, dot segments), so budgets, rate
 * limits and compression apply to all of them. Billable requests no control can price
 * (message batches, embeddings, ...) are refused while a budget or rate limit is configured.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';
import { anthropicHeaders, openaiHeaders, rawRequest, send } from './helpers/http.js';

const MESSAGE = JSON.stringify({ model: 'claude-haiku-5-5', max_tokens: 16, messages: [{ role: 'user', content: 'x' }] });
const CHAT = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] });
const A = anthropicHeaders(FAKE_ANTHROPIC_KEY);
const O = openaiHeaders(FAKE_OPENAI_KEY);

const MESSAGE_VARIANTS = ['/v1/messages/', '/v1//messages', '//v1/messages', '/v1/messages//', '/v1/%6Dessages', '/v1/./messages', '/v1/x/../messages', '/p/billing/v1/messages/', '/p/billing//v1//messages'];

describe('with the budget spent (--budget 0)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: { budget: 0 } });
  });
  afterAll(() => h.close());
  beforeEach(() => h.reset());

  it('every spelling of /v1/messages, /v1/chat/completions and /v1/responses is refused like the canonical path', async () => {
    const cases: [string, string, Record<string, string>][] = [
      ...MESSAGE_VARIANTS.map((p) => [p, MESSAGE, A] as [string, string, Record<string, string>]),
      ['/v1/chat/completions/', CHAT, O], ['/v1//chat//completions', CHAT, O], ['/v1/chat/%63ompletions', CHAT, O],
      ['/v1/responses/', JSON.stringify({ model: 'gpt-4o', input: 'x' }), O],
    ];
    for (const [path, body, headers] of cases) {
      const r = await rawRequest(`${h.url}${path}`, { method: 'POST', body, headers: { ...headers, 'content-type': 'application/json' } });
      expect(r.status, path).toBe(429);
      expect(JSON.stringify(r.json()), path).toContain('budget_exceeded');
    }
    const outcomes = await h.waitForOutcomes(cases.length);
    expect(new Set(outcomes.map((o) => o.path))).toEqual(new Set(['/v1/messages', '/v1/chat/completions', '/v1/responses']));
    expect(outcomes.filter((o) => o.project === 'billing')).toHaveLength(2);
    expect(h.mock.requests).toHaveLength(0);
  });

  it('message batches and other billable requests it cannot price are refused (403, provider shape)', async () => {
    const batch = JSON.stringify({ requests: [{ custom_id: 'a', params: JSON.parse(MESSAGE) }] });
    for (const path of ['/v1/messages/batches', '/v1/messages/batches/', '/v1//messages/batches']) {
      const r = await rawRequest(`${h.url}${path}`, { method: 'POST', body: batch, headers: { ...A, 'content-type': 'application/json' } });
      expect(r.status, path).toBe(403);
      expect(r.json(), path).toMatchObject({ type: 'error', error: { type: 'permission_error' } });
      expect(r.json<{ error: { message: string } }>().error.message).toMatch(/cannot price a message batch .* with a budget configured it refuses it/);
    }
    for (const [path, body] of [['/v1/embeddings', '{"model":"text-embedding-3-small","input":"x"}'], ['/v1/completions', '{"model":"gpt-3.5-turbo-instruct","prompt":"x"}'], ['/v1/batches', '{"input_file_id":"f"}']]) {
      const r = await send(`${h.url}${path}`, { body: body!, headers: O });
      expect(r.status, path).toBe(403);
      expect(r.json(), path).toMatchObject({ error: { type: 'invalid_request_error' } });
    }
    // reading batch results or listing models costs nothing: still forwarded
    expect((await send(`${h.url}/v1/messages/batches/msgbatch_1`, { headers: A })).status).toBe(404); // the mock has no such route
    expect((await send(`${h.url}/v1/models`, { headers: O })).status).toBe(200);
    expect(h.mock.requests.map((q) => `${q.method} ${q.path}`)).toEqual(['GET /v1/messages/batches/msgbatch_1', 'GET /v1/models']);
  });
});

describe('with a rate limit', () => {
  it('path variants draw from the same bucket', async () => {
    const h = await startHarness({ config: { rpm: 2 } });
    try {
      const statuses: number[] = [];
      for (const path of ['/v1/messages', '/v1/messages/', '/v1//messages']) {
        statuses.push((await rawRequest(`${h.url}${path}`, { method: 'POST', body: MESSAGE, headers: { ...A, 'content-type': 'application/json' } })).status);
      }
      expect(statuses).toEqual([200, 200, 429]);
      expect(h.mock.requests).toHaveLength(2);
      expect((await send(`${h.url}/v1/messages/batches`, { body: '{"requests":[]}', headers: A })).status).toBe(403);
    } finally {
      await h.close();
    }
  });
});

describe('without controls', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());
  beforeEach(() => h.reset());

  it('a variant is compressed, counted and forwarded under the canonical path', async () => {
    const r = await rawRequest(`${h.url}/v1//messages/`, { method: 'POST', body: MESSAGE, headers: { ...A, 'content-type': 'application/json' } });
    expect(r.status).toBe(200);
    expect(h.mock.last!.path).toBe('/v1/messages');
    const [o] = await h.waitForOutcomes(1);
    expect(o).toMatchObject({ api: 'messages', path: '/v1/messages', requestedModel: 'claude-haiku-5-5' });
    expect(o!.usage).not.toBeNull();
  });

  it('message batches pass through when no budget or rate limit applies', async () => {
    await send(`${h.url}/v1/messages/batches`, { body: '{"requests":[]}', headers: A });
    expect(h.mock.last!.path).toBe('/v1/messages/batches');
  });

  it('paths an upstream could read differently (encoded slash, backslash, NUL) are refused with 400', async () => {
    for (const path of ['/v1/messages%2Fbatches', '/v1/messages%2fbatches', '/v1%5Cmessages', '/v1/messages%00']) {
      const r = await rawRequest(`${h.url}${path}`, { method: 'POST', body: MESSAGE, headers: { ...A, 'content-type': 'application/json' } });
      expect(r.status, path).toBe(400);
      expect(r.json(), path).toMatchObject({ error: { type: 'invalid_request' } });
    }
    expect(h.mock.requests).toHaveLength(0);
  });
});
