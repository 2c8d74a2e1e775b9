/**
 * 100,000 levels of JSON nesting on every route that reads client JSON: a clear 400 in the
 * route's shape (the hook allows the request unchanged, as it does with anything it cannot
 * read), never a stack overflow, a 5xx, or a stage failing open past the budget. Deep JSON
 * inside a tool output string is compressed as text instead of crashing the transforms.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';
import { anthropicHeaders, openaiHeaders, send } from './helpers/http.js';

const DEPTH = 100_000;
const deepArray = '['.repeat(DEPTH) + ']'.repeat(DEPTH);
const deepObject = `${'{"a":'.repeat(DEPTH)}1${'}'.repeat(DEPTH)}`;
const MESSAGE = 'Request body nests JSON deeper than 256 levels.';

let h: Harness;
beforeAll(async () => {
  // every walker of client JSON on: budget and rate-limit estimates, cache keys, log records
  h = await startHarness({ config: { hook: true, budget: 100, rpm: 1000, cache: true, logFile: '', logMessages: true } });
});
afterAll(() => h.close());
beforeEach(() => h.reset());

describe('100k-deep nesting', () => {
  for (const [name, deep] of [['arrays', deepArray], ['objects', deepObject]] as const) {
    it(`(${name}) gets 400 in the provider shape on the LLM routes and /v1/compress`, async () => {
      const cases: [string, string, Record<string, string>, unknown][] = [
        ['/v1/messages', `{"model":"claude-haiku-5-5","max_tokens":8,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":${deep}}]}]}`, anthropicHeaders(FAKE_ANTHROPIC_KEY), { type: 'error', error: { type: 'invalid_request_error', message: MESSAGE } }],
        ['/v1/messages/count_tokens', `{"model":"claude-haiku-5-5","messages":[{"role":"user","content":${deep}}]}`, anthropicHeaders(FAKE_ANTHROPIC_KEY), { type: 'error', error: { type: 'invalid_request_error', message: MESSAGE } }],
        ['/v1/chat/completions', `{"model":"gpt-4o","messages":[{"role":"user","content":"x","extra":${deep}}]}`, openaiHeaders(FAKE_OPENAI_KEY), { error: { type: 'invalid_request_error', message: MESSAGE } }],
        ['/v1/responses', `{"model":"gpt-4o","input":[{"role":"user","content":${deep}}]}`, openaiHeaders(FAKE_OPENAI_KEY), { error: { type: 'invalid_request_error', message: MESSAGE } }],
        ['/v1/compress', `{"model":"gpt-4o","messages":[{"role":"user","content":${deep}}]}`, {}, { error: { type: 'invalid_request', message: MESSAGE } }],
      ];
      for (const [path, body, headers, shape] of cases) {
        const r = await send(`${h.url}${path}`, { body, headers });
        expect(r.status, path).toBe(400);
        expect(r.json(), path).toMatchObject(shape as Record<string, unknown>);
      }
      const outcomes = await h.waitForOutcomes(cases.length);
      expect(outcomes.every((o) => o.status === 400 && o.errorType === 'invalid_request')).toBe(true);
      expect(h.mock.requests).toHaveLength(0);
      expect(h.app.funnel.stats().sinks.every((s) => s.errors === 0)).toBe(true);
    });

    it(`(${name}) on the hook: allowed unchanged`, async () => {
      const r = await send(`${h.url}/hooks/aperture`, { body: `{"metadata":{},"request_body":{"messages":[{"role":"user","content":${deep}}]}}` });
      expect(r.status).toBe(200);
      expect(r.json()).toEqual({ action: 'allow' });
      const [o] = await h.waitForOutcomes(1);
      expect(o!.ext.hook).toMatchObject({ outcome: 'passthrough' });
      expect(o!.errorMessage).toBe('request body nests JSON deeper than 256 levels.');
    });
  }

  it('deep JSON inside a tool output is compressed as text, not a 503', async () => {
    // (objects: a run of 200k brackets is also slow to tokenize, a separate matter)
    const tool = JSON.stringify(deepObject);
    const r = await send(`${h.url}/v1/compress`, {
      body: `{"model":"gpt-4o","messages":[{"role":"user","content":"what failed?"},{"role":"tool","tool_call_id":"t","content":${tool}}]}`,
    });
    expect(r.status).toBe(200);
    const chat = await send(`${h.url}/v1/chat/completions`, {
      body: `{"model":"gpt-4o","messages":[{"role":"user","content":"what failed?"},{"role":"tool","tool_call_id":"t","content":${tool}}]}`,
      headers: openaiHeaders(FAKE_OPENAI_KEY),
    });
    expect(chat.status).toBe(200);
    const outcomes = await h.waitForOutcomes(2);
    expect(outcomes.map((o) => o.compression.error)).toEqual([null, null]);
  });

  it('256 levels (the bound) are still accepted', async () => {
    const ok = `${'['.repeat(250)}1${']'.repeat(250)}`;
    const r = await send(`${h.url}/v1/chat/completions`, { body: `{"model":"gpt-4o","messages":[{"role":"user","content":"x","extra":${ok}}]}`, headers: openaiHeaders(FAKE_OPENAI_KEY) });
    expect(r.status).toBe(200);
  });
});
