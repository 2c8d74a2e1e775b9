/**
 * Every way an upstream or a client can fail, through the proxy: the client gets the right
 * status and provider-shaped body, retries happen only where safe, and exactly one outcome
 * records what happened.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { createServer } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';
import { anthropicHeaders, openaiHeaders, send, sseEvents } from './helpers/http.js';

let h: Harness;
const msgBody = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model: 'claude-haiku-5-5', max_tokens: 32, messages: [{ role: 'user', content: 'hi' }], ...extra });
const chatBody = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], ...extra });

beforeAll(async () => {
  h = await startHarness({ config: { requestTimeoutSeconds: 0.5, maxBodyBytes: 64 * 1024, retryMaxDelayMs: 2_000 } });
});
afterAll(() => h.close());
beforeEach(() => h.reset());

const A = () => anthropicHeaders(FAKE_ANTHROPIC_KEY);
const O = () => openaiHeaders(FAKE_OPENAI_KEY);

describe('upstream status failures and retries', () => {
  it('5xx is retried up to the attempt limit, then passed through verbatim', async () => {
    const res = await send(`${h.url}/v1/messages`, { body: msgBody(), headers: { ...A(), 'x-mock-fail-times': '9', 'x-mock-fail-status': '500', 'x-mock-key': 'a' } });
    expect(res.status).toBe(500);
    expect(res.json()).toEqual({ type: 'error', error: { type: 'api_error', message: 'mock upstream failure (HTTP 500)' } });
    expect(h.mock.requests).toHaveLength(3);
    const [o] = await h.waitForOutcomes(1);
    expect(o!.timing.upstreamAttempts).toBe(3);
    expect(o!.errorType).toBe('upstream_server_error');
    expect(o!.status).toBe(500);
  });

  it('a transient 503 then success returns the success, with every attempt counted', async () => {
    const res = await send(`${h.url}/v1/chat/completions`, { body: chatBody(), headers: { ...O(), 'x-mock-fail-times': '2', 'x-mock-key': 'b' } });
    expect(res.status).toBe(200);
    expect(h.mock.requests).toHaveLength(3);
    const [o] = await h.waitForOutcomes(1);
    expect(o!.ok).toBe(true);
    expect(o!.timing.upstreamAttempts).toBe(3);
    // retry waits are not proxy overhead
    expect(o!.timing.overheadMs).toBeLessThan(o!.timing.totalMs);
  });

  it('429 with Retry-After is waited out and retried', async () => {
    const res = await send(`${h.url}/v1/messages`, {
      body: msgBody(), headers: { ...A(), 'x-mock-fail-times': '1', 'x-mock-fail-status': '429', 'x-mock-retry-after': '1', 'x-mock-key': 'c' },
    });
    expect(res.status).toBe(200);
    expect(h.mock.requests).toHaveLength(2);
    const [o] = await h.waitForOutcomes(1);
    // The proxy waited at least the hinted second before the second attempt.
    expect(o!.timing.totalMs).toBeGreaterThanOrEqual(990);
  });

  it('429 with a Retry-After above the limit goes straight back to the client with its header', async () => {
    const res = await send(`${h.url}/v1/messages`, { body: msgBody(), headers: { ...A(), 'x-mock-scenario': 'status:429:retry-after=3600' } });
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('3600');
    expect(res.json<{ error: { type: string } }>().error.type).toBe('rate_limit_error');
    expect(h.mock.requests).toHaveLength(1);
    const [o] = await h.waitForOutcomes(1);
    expect(o!.errorType).toBe('upstream_rate_limited');
  });

  it('4xx is never retried', async () => {
    const res = await send(`${h.url}/v1/chat/completions`, { body: chatBody(), headers: { ...O(), 'x-mock-scenario': 'status:400' } });
    expect(res.status).toBe(400);
    expect(h.mock.requests).toHaveLength(1);
  });
});

describe('connection failures', () => {
  it('connection refused -> 502 in each provider shape, after retries', async () => {
    const port = await closedPort();
    const dead = await startHarness({ upstreamUrl: `http://127.0.0.1:${port}` });
    try {
      const a = await send(`${dead.url}/v1/messages`, { body: msgBody(), headers: A() });
      expect(a.status).toBe(502);
      const ab = a.json<{ type: string; error: { type: string; message: string } }>();
      expect(ab.type).toBe('error');
      expect(ab.error.type).toBe('api_error');
      expect(ab.error.message).toMatch(/Upstream unavailable/);
      const o = await send(`${dead.url}/v1/chat/completions`, { body: chatBody(), headers: O() });
      expect(o.status).toBe(502);
      expect(o.json<{ error: { type: string; code: string } }>().error).toMatchObject({ type: 'server_error', code: 'upstream_unavailable' });
      const outs = await dead.waitForOutcomes(2);
      expect(outs.map((x) => [x.errorType, x.timing.upstreamAttempts])).toEqual([['upstream_connect', 3], ['upstream_connect', 3]]);
      // the official SDK raises its server-error class
      const sdk = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: dead.url, maxRetries: 0 });
      const err = await sdk.messages.create({ model: 'm', max_tokens: 1, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Anthropic.InternalServerError);
      expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(502);
    } finally {
      await dead.close();
    }
  });

  it('a reset before any response is retried, then 502', async () => {
    const res = await send(`${h.url}/v1/messages`, { body: msgBody(), headers: { ...A(), 'x-mock-scenario': 'reset-before-headers' } });
    expect(res.status).toBe(502);
    expect(h.mock.requests).toHaveLength(3);
  });

  it('an upstream that never answers -> 504 timeout_error (Anthropic) / upstream_timeout (OpenAI)', async () => {
    const a = await send(`${h.url}/v1/messages`, { body: msgBody(), headers: { ...A(), 'x-mock-scenario': 'hang' } });
    expect(a.status).toBe(504);
    expect(a.json<{ error: { type: string } }>().error.type).toBe('timeout_error');
    const o = await send(`${h.url}/v1/chat/completions`, { body: chatBody(), headers: { ...O(), 'x-mock-scenario': 'hang' } });
    expect(o.status).toBe(504);
    expect(o.json<{ error: { code: string } }>().error.code).toBe('upstream_timeout');
    const outs = await h.waitForOutcomes(2);
    expect(outs.every((x) => x.errorType === 'upstream_timeout' && x.timing.upstreamAttempts === 1)).toBe(true);
  });
});

describe('mid-stream failures', () => {
  it('a reset mid-stream ends the Anthropic stream with an error event, never retried', async () => {
    const res = await send(`${h.url}/v1/messages`, { body: msgBody({ stream: true }), headers: { ...A(), 'x-mock-scenario': 'reset-mid-stream:4' } });
    expect(res.status).toBe(200);
    const events = sseEvents(res.text);
    expect(events[0]!.event).toBe('message_start');
    const last = events.at(-1)!;
    expect(last.event).toBe('error');
    expect(JSON.parse(last.data)).toMatchObject({ type: 'error', error: { type: 'api_error' } });
    expect(h.mock.requests).toHaveLength(1);
    const [o] = await h.waitForOutcomes(1);
    expect(o!.errorType).toBe('upstream_stream');
    expect(o!.ok).toBe(false);
  });

  it('a reset mid-stream surfaces as an APIError in the OpenAI SDK', async () => {
    const client = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0, defaultHeaders: { 'x-mock-scenario': 'reset-mid-stream:3' } });
    const stream = await client.chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'x' }] });
    const seen: string[] = [];
    const err = await (async () => {
      for await (const c of stream) seen.push(c.choices[0]?.delta?.content ?? '');
    })().catch((e: unknown) => e);
    expect(seen.length).toBeGreaterThan(0);
    expect(err).toBeInstanceOf(OpenAI.APIError);
  });

  it('a stalled stream times out into an error event', async () => {
    const res = await send(`${h.url}/v1/messages`, { body: msgBody({ stream: true }), headers: { ...A(), 'x-mock-scenario': 'hang-mid-stream:3' } });
    const last = sseEvents(res.text).at(-1)!;
    expect(last.event).toBe('error');
    expect(JSON.parse(last.data).error.type).toBe('timeout_error');
    const [o] = await h.waitForOutcomes(1);
    expect(o!.errorType).toBe('upstream_timeout');
  });

  it('a stream that ends early without its final event gets an error event', async () => {
    const res = await send(`${h.url}/v1/responses`, { body: JSON.stringify({ model: 'gpt-4o', input: 'x', stream: true }), headers: { ...O(), 'x-mock-scenario': 'truncate:3' } });
    const last = sseEvents(res.text).at(-1)!;
    expect(last.event).toBe('error');
    expect(JSON.parse(last.data)).toMatchObject({ type: 'error', error: { type: 'server_error' } });
    const [o] = await h.waitForOutcomes(1);
    expect(o!.errorType).toBe('upstream_stream');
  });

  it('malformed SSE is forwarded as-is and recorded as a stream error', async () => {
    const res = await send(`${h.url}/v1/messages`, { body: msgBody({ stream: true }), headers: { ...A(), 'x-mock-scenario': 'malformed-sse' } });
    expect(res.text).toContain('this is not an sse line');
    const [o] = await h.waitForOutcomes(1);
    expect(o!.errorType).toBe('upstream_stream');
  });

  it('events are relayed as they arrive, not buffered', async () => {
    // The upstream sends 3 events then stalls: a buffering proxy would deliver nothing.
    const res = await fetch(`${h.url}/v1/messages`, { method: 'POST', body: msgBody({ stream: true }), headers: { ...A(), 'content-type': 'application/json', 'x-mock-scenario': 'hang-mid-stream:3' } });
    const reader = res.body!.getReader();
    let text = '';
    while (sseEvents(text).length < 3) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString('utf8');
    }
    expect(sseEvents(text).slice(0, 3).map((e) => e.event)).toEqual(['message_start', 'content_block_start', 'ping']);
    await reader.cancel();
  });

  it('slow drip streams complete intact', async () => {
    const res = await send(`${h.url}/v1/chat/completions`, { body: chatBody({ stream: true }), headers: { ...O(), 'x-mock-scenario': 'slow-drip:20' } });
    expect(sseEvents(res.text).at(-1)!.data).toBe('[DONE]');
    const [o] = await h.waitForOutcomes(1);
    expect(o!.ok).toBe(true);
    expect(o!.timing.ttfbMs).toBeLessThan(o!.timing.totalMs);
  });
});

describe('client-side failures', () => {
  it('a client disconnect aborts the upstream request and records client_abort', async () => {
    const ac = new AbortController();
    const res = await fetch(`${h.url}/v1/messages`, { method: 'POST', body: msgBody({ stream: true }), signal: ac.signal, headers: { ...A(), 'content-type': 'application/json', 'x-mock-scenario': 'slow-drip:200' } });
    const reader = res.body!.getReader();
    await reader.read();
    ac.abort();
    await h.mock.waitForPeerAbort();
    const [o] = await h.waitForOutcomes(1);
    expect(o!.status).toBe(499);
    expect(o!.errorType).toBe('client_abort');
  });

  it('a body over the limit -> 413 in the provider shape; nothing reaches upstream', async () => {
    const big = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x'.repeat(70 * 1024) }] });
    const a = await send(`${h.url}/v1/messages`, { body: big, headers: A() });
    expect(a.status).toBe(413);
    expect(a.json<{ error: { type: string } }>().error.type).toBe('request_too_large');
    const o = await send(`${h.url}/v1/chat/completions`, { body: big, headers: O() });
    expect(o.status).toBe(413);
    expect(o.json<{ error: { code: string } }>().error.code).toBe('request_too_large');
    expect(h.mock.requests).toHaveLength(0);
    const outs = await h.waitForOutcomes(2);
    expect(outs.map((x) => x.errorType)).toEqual(['body_too_large', 'body_too_large']);
  });

  it('invalid JSON -> 400 in the provider shape, through the SDKs too', async () => {
    const a = await send(`${h.url}/v1/messages`, { body: '{"model": ', headers: A() });
    expect(a.status).toBe(400);
    expect(a.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    const o = await send(`${h.url}/v1/responses`, { body: '[1,2]', headers: O() });
    expect(o.status).toBe(400);
    expect(o.json()).toMatchObject({ error: { type: 'invalid_request_error', message: 'Request body must be a JSON object.' } });
    const e = await send(`${h.url}/v1/chat/completions`, { body: '', headers: O() });
    expect(e.status).toBe(400);
    expect(h.mock.requests).toHaveLength(0);
    const outs = await h.waitForOutcomes(3);
    expect(outs.every((x) => x.errorType === 'invalid_request' && x.status === 400)).toBe(true);
  });

  it('a gzip-encoded request body is understood and forwarded unchanged', async () => {
    const gz = gzipSync(Buffer.from(msgBody()));
    const res = await send(`${h.url}/v1/messages`, { body: gz, headers: { ...A(), 'content-encoding': 'gzip' } });
    expect(res.status).toBe(200); // the mock decodes it, as a provider does
    expect(h.mock.last!.body.equals(gz)).toBe(true);
    expect(h.mock.last!.headers['content-encoding']).toBe('gzip');
    const [o] = await h.waitForOutcomes(1);
    expect(o!.requestedModel).toBe('claude-haiku-5-5');
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
