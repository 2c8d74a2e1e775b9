/**
 * A non-streaming 200 that the upstream cuts short is the upstream's failure, never a success
 * and never a client abort: a connection that closes before its content-length, a reset
 * mid-body, and a chunked body that ends cleanly with incomplete JSON are all recorded as
 * `upstream_stream` with status 502, and /stats counts them as errors.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';
import { anthropicHeaders, openaiHeaders, send } from './helpers/http.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ config: { optimize: false } });
});
afterAll(() => h.close());
beforeEach(() => h.reset());

const apis = {
  messages: { path: '/v1/messages', headers: anthropicHeaders(FAKE_ANTHROPIC_KEY), body: { model: 'claude-haiku-5-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] } },
  chat: { path: '/v1/chat/completions', headers: openaiHeaders(FAKE_OPENAI_KEY), body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] } },
} as const;

describe('a JSON body cut short by the upstream', () => {
  for (const [api, a] of Object.entries(apis)) {
    for (const mode of ['length', 'reset', 'end'] as const) {
      it(`${api}, json-truncate:${mode}: recorded as upstream_stream with status 502`, async () => {
        const res = await send(`${h.url}${a.path}`, { body: JSON.stringify(a.body), headers: { ...a.headers, 'x-mock-scenario': `json-truncate:${mode}` } }).catch((err: Error) => err);
        if (mode === 'end') {
          // the framing was complete: the client has exactly the upstream's (incomplete) bytes
          expect(res).not.toBeInstanceOf(Error);
          expect((res as { status: number }).status).toBe(200);
          expect(() => JSON.parse((res as { text: string }).text)).toThrow();
        } else {
          // the proxy drops the connection so the client sees the body is incomplete
          expect(res).toBeInstanceOf(Error);
        }
        const [o] = await h.waitForOutcomes(1);
        expect(o).toMatchObject({ ok: false, status: 502, errorType: 'upstream_stream' });
        expect(o!.errorMessage).toMatch(/upstream/);
        expect(h.mock.requests).toHaveLength(1); // no retry once bytes reached the client
      });
    }
  }

  it('/stats counts it as a failed request, not a success or an abort', async () => {
    await send(`${h.url}/stats/reset`, { method: 'POST' });
    await send(`${h.url}/v1/messages`, { body: JSON.stringify(apis.messages.body), headers: { ...apis.messages.headers, 'x-mock-scenario': 'json-truncate:end' } });
    await h.waitForOutcomes(1);
    const s = (await send(`${h.url}/stats`)).json<Record<string, any>>();
    expect(s.requests).toMatchObject({ total: 1, failed: 1, aborted: 0 });
  });
});
