/**
 * A Gemini-format provider of the routing file as the target of Anthropic Messages and OpenAI
 * Chat clients: the official SDKs through the proxy against the mock Gemini API, stream and
 * not, multi-turn tool use (ids and thought signatures round-trip), the system prompt, the
 * key as `x-goog-api-key`, errors in the client's shape, key rotation on a refused key,
 * fallback from a failing Gemini provider, usage with cached and thought tokens at Google
 * prices in /stats, and compression of a large tool result before translation.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateOutput } from '../src/mock/agent-outputs.js';
import { MockGemini } from '../src/mock/gemini.js';
import { priceFor } from '../src/providers/pricing.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';
import { getJson } from './helpers/http.js';

type Json = Record<string, any>;
const KEY = 'gemini-test-fake-key-000000000000000';
const BAD_KEY = 'gemini-test-fake-revoked-key-99999999';

let h: Harness;
let gemini: MockGemini;
let down: MockGemini;
let dir: string;
let anthropic: Anthropic;
let openai: OpenAI;

beforeAll(async () => {
  gemini = new MockGemini({ apiKeys: [KEY] });
  down = new MockGemini({ apiKeys: [KEY], failWith: 503 });
  await Promise.all([gemini.start(), down.start()]);
  dir = mkdtempSync(join(tmpdir(), 'headroom-gemtarget-'));
  const file = join(dir, 'routing.yaml');
  writeFileSync(
    file,
    [
      'providers:',
      `  gem: { format: gemini, base_url: "${gemini.url}", api_keys: [${KEY}] }`,
      `  gemrot: { format: gemini, base_url: "${gemini.url}/v1beta", api_keys: [${BAD_KEY}, ${KEY}] }`,
      `  gempass: { format: gemini, base_url: "${gemini.url}" }`,
      `  gemdown: { format: gemini, base_url: "${down.url}", api_keys: [${KEY}] }`,
      'model_aliases:',
      '  "claude-*": gem:gemini-2.5-flash',
      '  "gpt-*": gem:gemini-2.5-pro',
      'fallbacks:',
      '  "gemdown:gemini-2.5-flash": [gem:gemini-2.0-flash]',
      '',
    ].join('\n'),
  );
  h = await startHarness({ config: { routingConfig: file, retryMaxAttempts: 1 } });
  anthropic = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0 });
  openai = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0 });
});
afterAll(async () => {
  await h.close();
  await Promise.all([gemini.close(), down.close()]);
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await h.reset();
  gemini.reset();
  down.reset();
});

const anthTools: Anthropic.Tool[] = [{ name: 'run_tests', description: 'Run the tests', input_schema: { type: 'object', properties: { query: { type: 'string' } } } }];
const oaiTools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'run_tests', description: 'Run the tests', parameters: { type: 'object', properties: { query: { type: 'string' } } } } }];

/** The model turn's function-call part and the user turn's function-response part of a Gemini request. */
function callAndResponse(body: Json): { call: Json; response: Json } {
  const parts = (body.contents as Json[]).flatMap((c) => c.parts as Json[]);
  return { call: parts.find((p) => p.functionCall)!, response: parts.find((p) => p.functionResponse)! };
}

describe('Anthropic Messages clients on a Gemini provider', () => {
  it('non-stream multi-turn tool use: system prompt, tool ids and thought signatures round-trip, key as x-goog-api-key', async () => {
    const first = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 2048, system: 'Be careful.', tools: anthTools, messages: [{ role: 'user', content: 'Run the tests.' }] });
    expect(first.model).toBe('gemini-2.5-flash');
    expect(first.stop_reason).toBe('tool_use');
    const use = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use')!;
    expect(use).toMatchObject({ name: 'run_tests', input: { query: 'status of the build' } });
    const q1 = gemini.requests[0]!;
    expect(q1.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(q1.search).toBe('');
    expect(q1.headers['x-goog-api-key']).toBe(KEY);
    expect(q1.headers['x-api-key']).toBeUndefined();
    expect(q1.headers.authorization).toBeUndefined();
    expect(q1.headers['anthropic-version']).toBeUndefined();
    expect(q1.json).toMatchObject({ systemInstruction: { parts: [{ text: 'Be careful.' }] }, generationConfig: { maxOutputTokens: 2048 } });
    expect(q1.json!.model).toBeUndefined();

    const second = await anthropic.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 2048,
      system: 'Be careful.',
      tools: anthTools,
      messages: [
        { role: 'user', content: 'Run the tests.' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '3 passed, 0 failed' }] },
      ],
    });
    expect(second.stop_reason).toBe('end_turn');
    expect((second.content[0] as Anthropic.TextBlock).text).toContain('mock reply after 3 content(s)');
    const { call, response } = callAndResponse(gemini.requests[1]!.json!);
    expect(call.functionCall).toMatchObject({ name: 'run_tests', args: { query: 'status of the build' } });
    // the signature the mock put on its call comes back with it
    expect(call.thoughtSignature).toBe(Buffer.from('sig:run_tests:1').toString('base64'));
    expect(response.functionResponse).toMatchObject({ name: 'run_tests', response: { output: '3 passed, 0 failed' } });

    const [, o] = await h.waitForOutcomes(2);
    expect(o!.ok).toBe(true);
    expect(o!.requestedModel).toBe('claude-sonnet-4-5');
    expect(o!.model).toBe('gemini-2.5-flash');
    expect(o!.ext.routing).toMatchObject({ provider: 'gem', model: 'gemini-2.5-flash', translated: true, format: 'gemini' });
    expect(o!.ext.translation).toMatchObject({ from: 'anthropic', to: 'gemini' });
    expect(o!.usage!.output).toBe(second.usage.output_tokens);
    expect(o!.usage!.input).toBe(second.usage.input_tokens);
  });

  it('streams: a tool call, then text after the tool result, translated as the Gemini SSE chunks arrive', async () => {
    const s1 = anthropic.messages.stream({ model: 'claude-haiku-4-5', max_tokens: 512, tools: anthTools, messages: [{ role: 'user', content: 'Run the tests.' }] });
    const m1 = await s1.finalMessage();
    expect(m1.stop_reason).toBe('tool_use');
    const use = m1.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use')!;
    expect(use.input).toEqual({ query: 'status of the build' });
    expect(gemini.requests[0]!.path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent');
    expect(gemini.requests[0]!.search).toBe('?alt=sse');

    const events: string[] = [];
    const s2 = anthropic.messages.stream({
      model: 'claude-haiku-4-5',
      max_tokens: 512,
      tools: anthTools,
      messages: [
        { role: 'user', content: 'Run the tests.' },
        { role: 'assistant', content: m1.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'all green' }] },
      ],
    });
    s2.on('streamEvent', (e) => void events.push(e.type));
    const m2 = await s2.finalMessage();
    expect((m2.content[0] as Anthropic.TextBlock).text).toBe('This is a mock reply after 3 content(s). The build is green, 3 tests were fixed and the summary is above.');
    // the mock sends the text in 24-character pieces: several deltas reach the client
    expect(events.filter((t) => t === 'content_block_delta').length).toBeGreaterThan(3);
    expect(events[0]).toBe('message_start');
    expect(events.at(-1)).toBe('message_stop');
    expect(callAndResponse(gemini.requests[1]!.json!).call.thoughtSignature).toBe(Buffer.from('sig:run_tests:1').toString('base64'));
    const [, o] = await h.waitForOutcomes(2);
    expect(o!.stream).toBe(true);
    expect(o!.usage!.output).toBe(m2.usage.output_tokens);
    expect(o!.usage!.input).toBeGreaterThan(0);
  });

  it('the client key passes through as x-goog-api-key when the provider has none; a refused key is a 400 in Anthropic shape', async () => {
    const ok = await new Anthropic({ apiKey: KEY, baseURL: h.url, maxRetries: 0 }).messages.create({ model: 'gempass:gemini-2.0-flash', max_tokens: 32, messages: [{ role: 'user', content: 'hi' }] });
    expect(ok.type).toBe('message');
    expect(gemini.last!.headers['x-goog-api-key']).toBe(KEY);
    expect(gemini.last!.headers['x-api-key']).toBeUndefined();
    const err = await anthropic.messages.create({ model: 'gempass:gemini-2.0-flash', max_tokens: 32, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: 'API key not valid. Please pass a valid API key.' } });
    const missing = await anthropic.messages.create({ model: 'gem:gemini-9-nonexistent', max_tokens: 32, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(Anthropic.NotFoundError);
    await h.waitForOutcomes(3);
    const all = h.logs.join('\n');
    expect(all).not.toContain(KEY);
    expect(all).not.toContain('key=');
  });

  it('a large tool result is compressed before translation', async () => {
    const big = generateOutput('search_json', 20_000, 3).text;
    const messages: Anthropic.MessageParam[] = [
      { role: 'user', content: 'Search.' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'run_tests', input: { query: 'q' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: big }] },
    ];
    await anthropic.messages.create({ model: 'claude-opus-4-5', max_tokens: 256, tools: anthTools, messages });
    const { response } = callAndResponse(gemini.requests[0]!.json!);
    expect(JSON.stringify(response.functionResponse.response).length).toBeLessThan(big.length * 0.8);
    const [o] = await h.waitForOutcomes(1);
    expect(o!.modified).toBe(true);
    expect(o!.compression.tokensSaved).toBeGreaterThan(0);

  });

  it('cache and thought tokens in the outcome and /stats, priced at Google prices', async () => {
    const history: Anthropic.MessageParam[] = Array.from({ length: 30 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `turn ${i}: ${'context '.repeat(60)}` }));
    const before = (await getJson(`${h.url}/stats`)) as Json;
    await anthropic.messages.create({ model: 'claude-opus-4-5', max_tokens: 256, messages: [...history, { role: 'user', content: 'one' }] });
    // the same conversation one turn on: Gemini's implicit cache reads the earlier prefix
    const msg = await anthropic.messages.create({
      model: 'claude-opus-4-5',
      max_tokens: 256,
      messages: [...history, { role: 'user', content: 'one' }, { role: 'assistant', content: 'ok' }, { role: 'user', content: 'two' }],
    });
    const [o1, o2] = await h.waitForOutcomes(2);
    expect(msg.usage.cache_read_input_tokens).toBeGreaterThanOrEqual(1024);
    expect(o2!.usage!.cacheRead).toBe(msg.usage.cache_read_input_tokens);
    // Gemini's prompt count includes the cached part; Anthropic's input_tokens does not
    expect(o2!.usage!.input).toBe(msg.usage.input_tokens + msg.usage.cache_read_input_tokens!);
    const stats = (await getJson(`${h.url}/stats`)) as Json;
    const m = stats.cost.per_model['gemini-2.5-flash'];
    const m0 = before.cost.per_model['gemini-2.5-flash'] ?? { input_cost_usd: 0 };
    expect(m.price_fallback).toBe(false);
    const p = priceFor('gcp.gemini', 'gemini-2.5-flash');
    expect(p.fallback).toBe(false);
    const u1 = o1!.usage!;
    const u2 = o2!.usage!;
    const expectIn = ((u1.uncached + u2.uncached) * p.input + (u1.cacheRead + u2.cacheRead) * p.cacheRead) / 1e6;
    expect(m.input_cost_usd - m0.input_cost_usd).toBeCloseTo(expectIn, 5);
    expect(stats.tokens.cache_read_tokens - (before.tokens.cache_read_tokens ?? 0)).toBe(u2.cacheRead);
    expect(stats.requests.by_routed_provider.gem - (before.requests.by_routed_provider?.gem ?? 0)).toBe(2);
  });
});

describe('OpenAI Chat clients on a Gemini provider', () => {
  it('non-stream and stream tool use with ids kept; streamed usage with and without include_usage', async () => {
    const c1 = await openai.chat.completions.create({ model: 'gpt-4o', tools: oaiTools, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Run the tests.' }] });
    expect(c1.model).toBe('gemini-2.5-pro');
    expect(c1.choices[0]!.finish_reason).toBe('tool_calls');
    const tc = c1.choices[0]!.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(tc.function).toMatchObject({ name: 'run_tests', arguments: JSON.stringify({ query: 'status of the build' }) });
    expect(gemini.requests[0]!.path).toBe('/v1beta/models/gemini-2.5-pro:generateContent');
    expect(gemini.requests[0]!.headers['x-goog-api-key']).toBe(KEY);
    expect(gemini.requests[0]!.headers.authorization).toBeUndefined();
    expect(gemini.requests[0]!.json!.systemInstruction).toEqual({ parts: [{ text: 'Be brief.' }] });

    const stream = await openai.chat.completions.create({
      model: 'gpt-4o',
      tools: oaiTools,
      stream: true,
      stream_options: { include_usage: true },
      messages: [
        { role: 'user', content: 'Run the tests.' },
        { role: 'assistant', content: null, tool_calls: [tc] },
        { role: 'tool', tool_call_id: tc.id, content: 'all green' },
      ],
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const ch of stream) {
      text += ch.choices[0]?.delta.content ?? '';
      if (ch.usage) usage = ch.usage;
    }
    expect(text).toContain('mock reply after 3 content(s)');
    expect(usage!.completion_tokens_details?.reasoning_tokens).toBe(12);
    const { call } = callAndResponse(gemini.requests[1]!.json!);
    expect(call.thoughtSignature).toBe(Buffer.from('sig:run_tests:1').toString('base64'));
    expect(gemini.requests[1]!.search).toBe('?alt=sse');

    // no include_usage: the client sees none, the outcome still has it
    const quiet = await openai.chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    let sawUsage = false;
    for await (const ch of quiet) if (ch.usage) sawUsage = true;
    expect(sawUsage).toBe(false);
    const os = await h.waitForOutcomes(3);
    expect(os[1]!.usage!.input).toBe(usage!.prompt_tokens);
    expect(os[2]!.usage!.input).toBeGreaterThan(0);
    expect(os[2]!.usage!.output).toBeGreaterThan(0);
  });

  it('errors keep their status in the OpenAI shape', async () => {
    const err = await openai.chat.completions.create({ model: 'gem:gemini-9-nonexistent', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err as InstanceType<typeof OpenAI.APIError>).code).toBe('NOT_FOUND');
    const bad = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-mock-status': '400' } }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect((bad as InstanceType<typeof OpenAI.APIError>).message).toContain('mock Gemini failure (HTTP 400)');
  });
});

describe('keys and fallbacks of Gemini providers', () => {
  it('400 API_KEY_INVALID rotates to the next key of the pool', async () => {
    const c = await openai.chat.completions.create({ model: 'gemrot:gemini-2.0-flash', messages: [{ role: 'user', content: 'hi' }] });
    expect(c.choices[0]!.message.content).toContain('mock reply');
    expect(gemini.requests.map((q) => q.headers['x-goog-api-key'])).toEqual([BAD_KEY, KEY]);
    expect(gemini.requests[0]!.path).toBe('/v1beta/models/gemini-2.0-flash:generateContent');
    const [o] = await h.waitForOutcomes(1);
    expect(o!.ok).toBe(true);
    expect(o!.ext.routing!.attempts.map((a) => [a.provider, a.status, a.key])).toEqual([
      ['gemrot', 400, 0],
      ['gemrot', 200, 1],
    ]);
    expect(h.logs.join('\n')).not.toContain(BAD_KEY);
  });

  it('a Gemini 503 before the first byte falls back to the next target, stream and not', async () => {
    const msg = await anthropic.messages.create({ model: 'gemdown:gemini-2.5-flash', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
    expect((msg.content[0] as Anthropic.TextBlock).text).toContain('mock reply');
    expect(msg.model).toBe('gemini-2.0-flash');
    const s = anthropic.messages.stream({ model: 'gemdown:gemini-2.5-flash', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
    const m2 = await s.finalMessage();
    expect((m2.content[0] as Anthropic.TextBlock).text).toContain('mock reply');
    expect(down.requests.length).toBeGreaterThanOrEqual(2);
    expect(gemini.requests.map((q) => q.path)).toEqual(['/v1beta/models/gemini-2.0-flash:generateContent', '/v1beta/models/gemini-2.0-flash:streamGenerateContent']);
    const [o] = await h.waitForOutcomes(2);
    expect(o!.ext.routing!.attempts.map((a) => [a.provider, a.status])).toEqual([
      ['gemdown', 503],
      ['gem', 200],
    ]);
  });
});
