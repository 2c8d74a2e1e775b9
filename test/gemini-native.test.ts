/**
 * The Gemini API through the proxy, sent the way the Google SDKs send it (fetch, JSON body,
 * `x-goog-api-key`): generateContent and streamGenerateContent (`alt=sse` and the JSON array
 * stream), usage with cached and thought tokens in the outcome and /stats, Google prices, a
 * function response compressed, the proxy's own key, and Gemini-shaped errors.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apiKeyHashFrom } from '../src/core/identity.js';
import { generateOutput } from '../src/mock/agent-outputs.js';
import { MockGemini } from '../src/mock/gemini.js';
import { priceFor } from '../src/providers/pricing.js';
import { type Harness, startHarness } from './helpers/harness.js';
import { getJson } from './helpers/http.js';

const KEY = 'gemini-test-fake-key-000000000000000';
const PROXY_KEY = 'gemini-test-fake-proxy-key-1111111111';

let gemini: MockGemini;
let h: Harness;

beforeAll(async () => {
  gemini = new MockGemini({ apiKeys: [KEY] });
  await gemini.start();
  h = await startHarness({ config: { geminiApiUrl: gemini.url } });
});
afterAll(async () => {
  await h.close();
  await gemini.close();
});
beforeEach(async () => {
  await h.reset();
  gemini.reset();
});

type Json = Record<string, any>;

function call(model: string, method: string, body: unknown, opts: { key?: string | null; query?: string } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-goog-api-client': 'genai-js/1.0.0' };
  if (opts.key !== null) headers['x-goog-api-key'] = opts.key ?? KEY;
  return fetch(`${h.url}/v1beta/models/${model}:${method}${opts.query ?? ''}`, { method: 'POST', headers, body: JSON.stringify(body) });
}

const history = Array.from({ length: 30 }, (_, i) => ({ role: i % 2 ? 'model' : 'user', parts: [{ text: `turn ${i}: ${'context '.repeat(60)}` }] }));

describe('Gemini generateContent', () => {
  it('usage (prompt, candidates, thoughts, cached content) in the outcome and /stats, at Google prices', async () => {
    const first = await call('gemini-2.5-flash', 'generateContent', { systemInstruction: { parts: [{ text: 'be brief' }] }, contents: [...history, { role: 'user', parts: [{ text: 'one' }] }] });
    expect(first.status).toBe(200);
    await first.json();
    const res = await call('gemini-2.5-flash', 'generateContent', {
      systemInstruction: { parts: [{ text: 'be brief' }] },
      contents: [...history, { role: 'user', parts: [{ text: 'one' }] }, { role: 'model', parts: [{ text: 'ok' }] }, { role: 'user', parts: [{ text: 'two' }] }],
    });
    const body = (await res.json()) as Json;
    expect(body.candidates[0].content.parts[0].text).toContain('mock reply');
    const u = body.usageMetadata;
    expect(u.cachedContentTokenCount).toBeGreaterThanOrEqual(1024);
    const [, o] = await h.waitForOutcomes(2);
    expect(o!.provider).toBe('gcp.gemini');
    expect(o!.api).toBe('generate_content');
    expect(o!.model).toBe('gemini-2.5-flash');
    expect(o!.stream).toBe(false);
    expect(o!.messageCount).toBe(history.length + 4);
    expect(o!.usage).toMatchObject({
      input: u.promptTokenCount,
      cacheRead: u.cachedContentTokenCount,
      uncached: u.promptTokenCount - u.cachedContentTokenCount,
      output: u.candidatesTokenCount + u.thoughtsTokenCount,
      reasoning: u.thoughtsTokenCount,
      source: 'json',
    });
    expect(o!.finishReason).toBe('STOP');
    expect(gemini.last!.headers['x-goog-api-key']).toBe(KEY);
    const stats = (await getJson(`${h.url}/stats`)) as Json;
    const m = stats.cost.per_model['gemini-2.5-flash'];
    expect(m.provider).toBe('gcp.gemini');
    expect(m.price_fallback).toBe(false);
    const p = priceFor('gcp.gemini', 'gemini-2.5-flash');
    expect(p.input).toBe(0.3);
    const firstIn = h.outcomes[0]!.usage!.input;
    const expectIn = ((firstIn + o!.usage!.uncached) * p.input + o!.usage!.cacheRead * p.cacheRead) / 1e6;
    expect(m.input_cost_usd).toBeCloseTo(expectIn, 6);
    expect(stats.tokens.cache_read_tokens).toBe(u.cachedContentTokenCount);
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toMatch(/headroom_requests_by_provider\{provider="gcp\.gemini"\} 2/);
  });

  it('a function call, then a large function response compressed in the newest turn', async () => {
    const tools = [{ functionDeclarations: [{ name: 'read_logs', description: 'Read the service logs', parameters: { type: 'object', properties: { query: { type: 'string' } } } }] }];
    const first = (await (await call('gemini-2.5-pro', 'generateContent', { tools, contents: [{ role: 'user', parts: [{ text: 'why is checkout failing?' }] }] })).json()) as Json;
    const fc = first.candidates[0].content.parts[0].functionCall;
    expect(fc.name).toBe('read_logs');
    const log = generateOutput('service_log', 40_000, 5).text;
    const res = await call('gemini-2.5-pro', 'generateContent', {
      tools,
      contents: [
        { role: 'user', parts: [{ text: 'why is checkout failing?' }] },
        { role: 'model', parts: [{ functionCall: fc }] },
        { role: 'user', parts: [{ functionResponse: { name: 'read_logs', response: { output: log } } }] },
      ],
    });
    expect(res.status).toBe(200);
    const [o1, o2] = await h.waitForOutcomes(2);
    expect(o1!.tools).toEqual({ definitions: 1, results: 0, calls: 1 });
    expect(o2!.tools).toEqual({ definitions: 1, results: 1, calls: 0 });
    expect(o2!.compression.tokensSaved).toBeGreaterThan(0);
    expect(o2!.modified).toBe(true);
    const sent = gemini.last!.json!.contents as Json[];
    const out = sent[2]!.parts[0].functionResponse.response.output as string;
    expect(out.length).toBeLessThan(log.length);
    // the model turn and the call are forwarded as sent
    expect(sent[1]).toEqual({ role: 'model', parts: [{ functionCall: fc }] });
  });
});

describe('Gemini streamGenerateContent', () => {
  it('alt=sse: events pass through, usage from the last chunk', async () => {
    const res = await call('gemini-2.5-flash', 'streamGenerateContent', { contents: [{ role: 'user', parts: [{ text: 'stream it' }] }] }, { query: '?alt=sse' });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const text = await res.text();
    const chunks = text.split('\r\n\r\n').filter(Boolean).map((f) => JSON.parse(f.replace(/^data: /, '')) as Json);
    expect(chunks.length).toBeGreaterThan(2);
    const last = chunks[chunks.length - 1]!;
    const [o] = await h.waitForOutcomes(1);
    expect(o!.stream).toBe(true);
    expect(o!.ok).toBe(true);
    expect(o!.usage!.source).toBe('sse');
    expect(o!.usage!.input).toBe(last.usageMetadata.promptTokenCount);
    expect(o!.usage!.output).toBe(last.usageMetadata.candidatesTokenCount + last.usageMetadata.thoughtsTokenCount);
    expect(o!.finishReason).toBe('STOP');
    expect(h.progress.some((p) => p.inputTokens === last.usageMetadata.promptTokenCount)).toBe(true);
    expect(gemini.last!.search).toBe('?alt=sse');
  });

  it('without alt: the JSON array stream, byte for byte, usage read from it', async () => {
    const res = await call('gemini-2.0-flash', 'streamGenerateContent', { contents: [{ role: 'user', parts: [{ text: 'array stream' }] }] });
    const text = await res.text();
    const arr = JSON.parse(text) as Json[];
    expect(arr.length).toBeGreaterThan(2);
    const [o] = await h.waitForOutcomes(1);
    expect(o!.stream).toBe(true);
    expect(o!.usage!.input).toBe(arr[arr.length - 1]!.usageMetadata.promptTokenCount);
    expect(o!.usage!.reasoning).toBe(0);
    expect(o!.model).toBe('gemini-2.0-flash');
    expect(o!.finishReason).toBe('STOP');
  });

  it('an SSE stream cut before its final chunk is recorded as failed and ends with a Gemini error event', async () => {
    const res = await fetch(`${h.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-goog-api-key': KEY, 'x-mock-cut-after': '1' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'cut me' }] }] }),
    });
    const text = await res.text().catch(() => '');
    const [o] = await h.waitForOutcomes(1);
    expect(o!.ok).toBe(false);
    expect(text).toMatch(/data: \{"error":\{"code":50\d,"message":"[^"]+","status":"(INTERNAL|UNAVAILABLE)"\}\}/);
  });
});

describe('Gemini keys and errors', () => {
  it('the key in the query string works and never reaches the logs', async () => {
    const res = await call('gemini-2.5-flash', 'generateContent', { contents: [{ role: 'user', parts: [{ text: 'q key' }] }] }, { key: null, query: `?key=${KEY}` });
    expect(res.status).toBe(200);
    const [o] = await h.waitForOutcomes(1);
    // the caller is identified by its key wherever it sent it
    expect(o!.apiKeyHash).toBe(apiKeyHashFrom({ 'x-goog-api-key': KEY }));
    expect(o!.apiKeyHash).not.toBeNull();
    expect(h.logs.join('')).not.toContain(KEY);
  });

  it('a bad key gets Gemini\'s own 400 API_KEY_INVALID; an unknown model its 404', async () => {
    const res = await call('gemini-2.5-flash', 'generateContent', { contents: [{ role: 'user', parts: [{ text: 'x' }] }] }, { key: 'gemini-test-fake-wrong' });
    expect(res.status).toBe(400);
    const body = (await res.json()) as Json;
    expect(body.error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT', message: 'API key not valid. Please pass a valid API key.' });
    expect(body.error.details[0].reason).toBe('API_KEY_INVALID');
    const nf = await call('gemini-9-ultra', 'generateContent', { contents: [{ role: 'user', parts: [{ text: 'x' }] }] });
    expect(nf.status).toBe(404);
    expect(((await nf.json()) as Json).error.status).toBe('NOT_FOUND');
    const [o] = await h.waitForOutcomes(2);
    expect(o!.ok).toBe(false);
    expect(h.logs.join('')).not.toContain('gemini-test-fake-wrong');
  });

  it('errors of the proxy itself are Gemini-shaped', async () => {
    const res = await fetch(`${h.url}/v1beta/models/gemini-2.5-flash:generateContent`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-goog-api-key': KEY }, body: '[1,2' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT' });
    expect(gemini.requests).toHaveLength(0);
  });

  it('upstream down: 502 UNAVAILABLE in Gemini\'s shape', async () => {
    const h2 = await startHarness({ config: { geminiApiUrl: 'http://127.0.0.1:9', retryMaxAttempts: 1 } });
    try {
      const res = await fetch(`${h2.url}/v1beta/models/gemini-2.5-flash:generateContent`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-goog-api-key': KEY }, body: JSON.stringify({ contents: [] }) });
      expect(res.status).toBe(502);
      expect(((await res.json()) as Json).error).toMatchObject({ code: 502, status: 'UNAVAILABLE' });
    } finally {
      await h2.close();
    }
  });

  it('the proxy\'s own key replaces the client\'s header and query key', async () => {
    const own = new MockGemini({ apiKeys: [PROXY_KEY] });
    await own.start();
    const h2 = await startHarness({ config: { geminiApiUrl: own.url, geminiApiKey: PROXY_KEY } });
    try {
      const res = await fetch(`${h2.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=gemini-test-fake-client`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-goog-api-key': 'gemini-test-fake-client' },
        body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'x' }] }] }),
      });
      expect(res.status).toBe(200);
      await res.text();
      expect(own.last!.headers['x-goog-api-key']).toBe(PROXY_KEY);
      expect(own.last!.search).toBe('?alt=sse');
      await h2.waitForOutcomes(1);
      expect(h2.logs.join('')).not.toContain(PROXY_KEY);
    } finally {
      await h2.close();
      await own.close();
    }
  });
});
