/**
 * Translation on the proxy path, through real HTTP: the official Anthropic SDK talking to an
 * OpenAI-format provider, and the official OpenAI SDK talking to an Anthropic-format one, via
 * the `translation` link. Routing is stood in for by a link that sets the target by model
 * (test/helpers/target-route.ts); the upstream is the mock, which speaks both wire formats.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultPlugins } from '../src/compose/proxy.js';
import { generateOutput } from '../src/mock/agent-outputs.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';
import { rawRequest } from './helpers/http.js';
import { targetRoutePlugin } from './helpers/target-route.js';

let h: Harness;
let anthropic: Anthropic;
let openai: OpenAI;
const OWN_KEY = 'sk-test-fake-server-side-0000';
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

beforeAll(async () => {
  let base = '';
  const route = targetRoutePlugin(() => ({
    'claude-': { provider: 'local', format: 'openai', baseUrl: `${base}/v1`, model: 'qwen3:8b' },
    'gpt-': { provider: 'anth', format: 'anthropic', baseUrl: base, model: 'claude-target-4-5' },
    'same-': { provider: 'oai', format: 'openai', baseUrl: `${base}/v1`, path: '/chat/completions', model: 'same-model' },
    // a provider with a server-side key: routing sets it (here in the other format's header)
    'keyed-': { provider: 'keyed', format: 'openai', baseUrl: `${base}/v1`, model: 'keyed-model', setHeaders: { 'X-Api-Key': OWN_KEY }, dropHeaders: ['x-api-key'] },
  }));
  h = await startHarness({ plugins: [...defaultPlugins(), route] });
  base = h.mock.url;
  anthropic = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0 });
  openai = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0 });
});
afterAll(() => h.close());
beforeEach(() => h.reset());

const anthTools: Anthropic.Tool[] = [
  { name: 'run_tests', description: 'Run the test suite', input_schema: { type: 'object', properties: { query: { type: 'string' } } } },
];
const oaiTools: OpenAI.ChatCompletionTool[] = [
  { type: 'function', function: { name: 'run_tests', description: 'Run the test suite', parameters: { type: 'object', properties: { query: { type: 'string' } } } } },
];

type Json = Record<string, unknown>;
const upstream = () => h.mock.requests;

describe('Anthropic SDK -> OpenAI-format provider', () => {
  it('non-streaming: system kept, max_tokens unclamped, stop sequences, tool_choice any -> required; an Anthropic message back', async () => {
    const msg = await anthropic.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 20_000,
      system: [{ type: 'text', text: 'You are terse.' }, { type: 'text', text: 'Answer in English.' }],
      stop_sequences: ['\nEND'],
      tools: anthTools,
      tool_choice: { type: 'any' },
      messages: [{ role: 'user', content: 'Run the tests.' }],
    });
    expect(msg.type).toBe('message');
    expect(msg.model).toBe('qwen3:8b');
    expect(msg.stop_reason).toBe('tool_use');
    const call = msg.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use')!;
    expect(call.name).toBe('run_tests');
    expect(call.input).toEqual({ query: 'status of the build' });
    expect(msg.usage.input_tokens).toBeGreaterThan(0);

    expect(upstream()).toHaveLength(1);
    const q = upstream()[0]!;
    expect(q.path).toBe('/v1/chat/completions');
    expect(q.headers.authorization).toBe(`Bearer ${FAKE_ANTHROPIC_KEY}`);
    for (const name of ['x-api-key', 'anthropic-version', 'anthropic-beta']) expect(q.headers[name], name).toBeUndefined();
    const body = q.json!;
    expect(body.model).toBe('qwen3:8b');
    expect(body.max_tokens).toBe(20_000);
    expect(body.stop).toEqual(['\nEND']);
    expect(body.tool_choice).toBe('required');
    expect((body.messages as Json[])[0]).toEqual({ role: 'system', content: 'You are terse.\n\nAnswer in English.' });

    const [o] = await h.waitForOutcomes(1);
    expect(o!.ok).toBe(true);
    expect(o!.api).toBe('messages');
    expect(o!.usage!.output).toBe(msg.usage.output_tokens);
    expect(o!.usage!.input).toBe(msg.usage.input_tokens);
    expect(o!.finishReason).toBe('tool_use');
    expect(o!.ext.translation).toEqual({ from: 'anthropic', to: 'openai', dropped: [] });
  });

  it('streaming tool use, multi-turn: numeric indexes, streamed arguments, ids kept, image and text beside the tool result', async () => {
    const stream = anthropic.messages.stream({
      model: 'claude-sonnet-4-5',
      max_tokens: 1024,
      tools: anthTools,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'What is in this image? Then run the tests.' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } }] }],
    });
    const events: Anthropic.RawMessageStreamEvent[] = [];
    stream.on('streamEvent', (e) => events.push(e));
    const first = await stream.finalMessage();
    expect(first.stop_reason).toBe('tool_use');
    const call = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use')!;
    expect(call.input).toEqual({ query: 'status of the build' });
    for (const e of events) if ('index' in e) expect(typeof e.index).toBe('number');
    // the arguments arrived in pieces, as the upstream streamed them
    expect(events.filter((e) => e.type === 'content_block_delta' && e.delta.type === 'input_json_delta').length).toBeGreaterThan(1);
    expect(first.usage.output_tokens).toBeGreaterThan(0);
    const q1 = upstream()[0]!.json!;
    expect(q1.stream).toBe(true);
    expect(q1.stream_options).toEqual({ include_usage: true });
    const parts = (q1.messages as Json[])[0]!.content as Json[];
    expect(parts[1]).toEqual({ type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } });

    const second = await anthropic.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 1024,
      tools: anthTools,
      messages: [
        { role: 'user', content: 'Run the tests.' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: '3 passed' }, { type: 'text', text: 'And summarise.' }] },
      ],
    });
    expect(second.content.length).toBeGreaterThan(0);
    const msgs = upstream()[1]!.json!.messages as Json[];
    const assistant = msgs.find((m) => m.role === 'assistant')!;
    expect((assistant.tool_calls as Json[])[0]).toMatchObject({ id: call.id, type: 'function', function: { name: 'run_tests' } });
    expect(msgs.find((m) => m.role === 'tool')).toEqual({ role: 'tool', tool_call_id: call.id, content: '3 passed' });
    expect(msgs[msgs.length - 1]).toEqual({ role: 'user', content: 'And summarise.' });

    const [o1] = await h.waitForOutcomes(2);
    expect(o1!.stream).toBe(true);
    expect(o1!.ok).toBe(true);
    expect(o1!.usage!.source).toBe('sse');
    expect(o1!.usage!.input).toBeGreaterThan(0);
    expect(o1!.usage!.output).toBe(first.usage.output_tokens);
    expect(o1!.tools.calls).toBe(1);
  });

  it('cached prompt tokens come back as cache reads (JSON and stream) and are recorded', async () => {
    const params = { model: 'claude-sonnet-4-5', max_tokens: 64, system: 'Long stable instructions. '.repeat(800), messages: [{ role: 'user' as const, content: 'hi' }] };
    await anthropic.messages.create(params);
    const json = await anthropic.messages.create(params);
    const streamed = await anthropic.messages.stream(params).finalMessage();
    expect(json.usage.cache_read_input_tokens).toBeGreaterThan(0);
    expect(streamed.usage.cache_read_input_tokens).toBeGreaterThan(0);
    const os = await h.waitForOutcomes(3);
    expect(os[1]!.usage!.cacheRead).toBe(json.usage.cache_read_input_tokens);
    expect(os[2]!.usage!.cacheRead).toBe(streamed.usage.cache_read_input_tokens);
    expect(os[1]!.usage!.uncached).toBe(json.usage.input_tokens);
  });

  it('upstream errors arrive as Anthropic errors with the status kept', async () => {
    const cases: [number, unknown][] = [
      [400, Anthropic.BadRequestError],
      [401, Anthropic.AuthenticationError],
      [429, Anthropic.RateLimitError],
      [500, Anthropic.InternalServerError],
    ];
    for (const [status, cls] of cases) {
      const err = await anthropic.messages
        .create({ model: 'claude-sonnet-4-5', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-mock-scenario': `status:${status}` } })
        .catch((e: unknown) => e);
      expect(err, String(status)).toBeInstanceOf(cls);
      const e = err as InstanceType<typeof Anthropic.APIError>;
      expect(e.status).toBe(status);
      expect(e.error).toMatchObject({ type: 'error', error: { message: `mock upstream failure (HTTP ${status})` } });
    }
    const os = await h.waitForOutcomes(4);
    expect(os.map((o) => o.status)).toEqual([400, 401, 429, 500]);
    expect(os.every((o) => !o.ok)).toBe(true);
  });

  it('an error inside the upstream stream ends the client stream with an Anthropic error event', async () => {
    const stream = anthropic.messages.stream(
      { model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'x' }] },
      { headers: { 'x-mock-scenario': 'stream-error:3' } },
    );
    const err = await stream.finalMessage().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(String((err as Error).message)).toContain('mock: server error mid-stream');
    const [o] = await h.waitForOutcomes(1);
    expect(o!.ok).toBe(false);
    expect(o!.errorType).toBe('upstream_stream');
  });

  it('a request with no counterpart is a 400 in the Anthropic shape, no upstream call', async () => {
    const err = await anthropic.messages
      .create({ model: 'claude-sonnet-4-5', max_tokens: 8, tools: [{ type: 'web_search_20250305', name: 'web_search' }], messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as Error).message).toMatch(/provider local \(openai format\).*web_search/);
    expect(upstream()).toHaveLength(0);
  });

  it('count_tokens for a model on an OpenAI-format provider is estimated locally', async () => {
    const r = await anthropic.messages.countTokens({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'Count the tokens of this sentence, please. '.repeat(20) }] });
    expect(r.input_tokens).toBeGreaterThan(100);
    expect(r.input_tokens).toBeLessThan(400);
    expect(upstream()).toHaveLength(0);
  });

  it('compression and the stats work on a translated request: the tool output is compressed before translation', async () => {
    const big = generateOutput('search_json', 20_000, 3).text;
    await anthropic.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 256,
      tools: anthTools,
      messages: [
        { role: 'user', content: 'Search.' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'run_tests', input: { query: 'q' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: big }] },
      ],
    });
    const tool = (upstream()[0]!.json!.messages as Json[]).find((m) => m.role === 'tool')!;
    expect(typeof tool.content).toBe('string');
    expect((tool.content as string).length).toBeLessThan(big.length);
    const [o] = await h.waitForOutcomes(1);
    expect(o!.modified).toBe(true);
    expect(o!.compression.tokensSaved).toBeGreaterThan(0);
    expect(o!.usage!.input).toBeGreaterThan(0);
    const stats = (await rawRequest(`${h.url}/stats`)).json<Json>();
    expect(JSON.stringify(stats)).toContain('claude-sonnet-4-5');
  });
});

describe('the chain around the translation', () => {
  it("a target's own key replaces the client's, in the target format's header", async () => {
    await anthropic.messages.create({ model: 'keyed-x', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] });
    const q = upstream()[0]!;
    expect(q.headers.authorization).toBe(`Bearer ${OWN_KEY}`);
    expect(q.headers['x-api-key']).toBeUndefined();
    expect(JSON.stringify(q.headers)).not.toContain(FAKE_ANTHROPIC_KEY);
  });

  it('a retried 503 is translated again and the retry succeeds', async () => {
    const msg = await anthropic.messages.create(
      { model: 'claude-sonnet-4-5', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] },
      { headers: { 'x-mock-fail-times': '1', 'x-mock-key': 'retry-xlate' } },
    );
    expect(msg.type).toBe('message');
    expect(upstream().map((q) => q.path)).toEqual(['/v1/chat/completions', '/v1/chat/completions']);
    expect(upstream()[1]!.body.equals(upstream()[0]!.body)).toBe(true);
    const [o] = await h.waitForOutcomes(1);
    expect(o!.ok).toBe(true);
    expect(o!.timing.upstreamAttempts).toBe(2);
  });

  it('a connection reset mid-stream ends the Anthropic stream with an Anthropic error event', async () => {
    const stream = anthropic.messages.stream(
      { model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'x' }] },
      { headers: { 'x-mock-scenario': 'reset-mid-stream:3' } },
    );
    const err = await stream.finalMessage().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    const [o] = await h.waitForOutcomes(1);
    expect(o!.ok).toBe(false);
  });

  it('an upstream that answers a stream request with JSON: each client still gets its own stream', async () => {
    const msg = await anthropic.messages
      .stream({ model: 'claude-sonnet-4-5', max_tokens: 64, tools: anthTools, messages: [{ role: 'user', content: 'Run the tests.' }] }, { headers: { 'x-mock-scenario': 'no-stream' } })
      .finalMessage();
    expect(msg.stop_reason).toBe('tool_use');
    expect(msg.content.find((b) => b.type === 'tool_use')).toMatchObject({ name: 'run_tests', input: { query: 'status of the build' } });
    expect(msg.usage.output_tokens).toBeGreaterThan(0);
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true }, { headers: { 'x-mock-scenario': 'no-stream' } });
    let text = '';
    for await (const ch of stream) text += ch.choices[0]?.delta.content ?? '';
    expect(text).toContain('mock reply');
    expect(upstream().every((q) => q.json!.stream === true)).toBe(true);
    const os = await h.waitForOutcomes(2);
    for (const o of os) {
      expect(o.ok).toBe(true);
      expect(o.usage!.output).toBeGreaterThan(0);
    }
  });

  it('a 200 JSON answer cut short is a 502 in the client shape, not a broken body', async () => {
    const err = await anthropic.messages
      .create({ model: 'claude-sonnet-4-5', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-mock-scenario': 'json-truncate:end' } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(502);
    expect((err as Error).message).toContain('could not be translated');
  });

  it('CCR resolves headroom_retrieve calls of a translated model in the client format, both rounds translated', async () => {
    const sample = generateOutput('search_json', 12_000, 42);
    const msg = await anthropic.messages.create(
      {
        model: 'claude-sonnet-4-5',
        max_tokens: 512,
        tools: anthTools,
        messages: [
          { role: 'user', content: 'Find the failing items.' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_s1', name: 'run_tests', input: { query: 'failing' } }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_s1', content: sample.text }] },
        ],
      },
      { headers: { 'x-mock-scenario': 'retrieve' } },
    );
    expect(upstream()).toHaveLength(2);
    for (const q of upstream()) {
      expect(q.path).toBe('/v1/chat/completions');
      expect(((q.json!.tools as Json[]) ?? []).map((t) => (t.function as Json).name)).toEqual(['run_tests', 'headroom_retrieve']);
    }
    const second = upstream()[1]!.json!.messages as Json[];
    expect(second[second.length - 1]).toMatchObject({ role: 'tool', content: sample.text });
    expect(msg.content.some((b) => b.type === 'tool_use')).toBe(false);
    const text = msg.content.filter((b): b is Anthropic.TextBlock => b.type === 'text').map((b) => b.text).join('|');
    expect(text).toContain(`Retrieved the original (${sample.text.length} chars)`);
    const [o] = await h.waitForOutcomes(1);
    expect(o!.ok).toBe(true);
    expect(o!.ext.ccr).toMatchObject({ retrievals: 1, hits: 1, rounds: 1 });
  });
});

describe('OpenAI SDK -> Anthropic-format provider', () => {
  it('non-streaming with tools: an OpenAI completion back; the upstream saw an Anthropic request with the key converted', async () => {
    const c = await openai.chat.completions.create({
      model: 'gpt-4o',
      max_tokens: 50_000,
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Run the tests.' }],
      tools: oaiTools,
      tool_choice: 'required',
    });
    expect(c.object).toBe('chat.completion');
    expect(c.model).toBe('claude-target-4-5');
    expect(c.choices[0]!.finish_reason).toBe('tool_calls');
    const call = c.choices[0]!.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(call.function.name).toBe('run_tests');
    expect(JSON.parse(call.function.arguments)).toEqual({ query: 'status of the build' });
    expect(c.usage!.prompt_tokens).toBeGreaterThan(0);

    const q = upstream()[0]!;
    expect(q.path).toBe('/v1/messages');
    expect(q.headers['x-api-key']).toBe(FAKE_OPENAI_KEY);
    expect(q.headers['anthropic-version']).toBe('2023-06-01');
    expect(q.headers.authorization).toBeUndefined();
    expect(q.json).toMatchObject({ model: 'claude-target-4-5', max_tokens: 50_000, system: 'Be brief.', tool_choice: { type: 'any' } });

    const [o] = await h.waitForOutcomes(1);
    expect(o!.ok).toBe(true);
    expect(o!.usage!.input).toBe(c.usage!.prompt_tokens);
    expect(o!.usage!.output).toBe(c.usage!.completion_tokens);
  });

  it('streaming with include_usage: numeric tool-call indexes, arguments in pieces, a usage chunk; multi-turn ids kept', async () => {
    const stream = await openai.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Run the tests.' }],
      tools: oaiTools,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const ch of stream) chunks.push(ch);
    const deltas = chunks.flatMap((ch) => ch.choices.flatMap((x) => x.delta.tool_calls ?? []));
    expect(deltas.every((d) => d.index === 0)).toBe(true);
    expect(deltas.filter((d) => d.function?.arguments).length).toBeGreaterThan(1);
    const id = deltas.find((d) => d.id)!.id!;
    const args = deltas.map((d) => d.function?.arguments ?? '').join('');
    expect(JSON.parse(args)).toEqual({ query: 'status of the build' });
    expect(chunks.some((ch) => ch.choices[0]?.finish_reason === 'tool_calls')).toBe(true);
    const usage = chunks[chunks.length - 1]!.usage!;
    expect(usage.prompt_tokens).toBeGreaterThan(0);

    const second = await openai.chat.completions.create({
      model: 'gpt-4o',
      tools: oaiTools,
      messages: [
        { role: 'user', content: 'Run the tests.' },
        { role: 'assistant', content: null, tool_calls: [{ id, type: 'function', function: { name: 'run_tests', arguments: args } }] },
        { role: 'tool', tool_call_id: id, content: '3 passed' },
      ],
    });
    expect(second.choices[0]!.finish_reason).toBe('stop');
    const msgs = upstream()[1]!.json!.messages as Json[];
    expect(msgs[1]).toEqual({ role: 'assistant', content: [{ type: 'tool_use', id, name: 'run_tests', input: { query: 'status of the build' } }] });
    expect(msgs[2]).toEqual({ role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: '3 passed' }] });
    const [o] = await h.waitForOutcomes(2);
    expect(o!.usage!.input).toBe(usage.prompt_tokens);
    expect(o!.usage!.source).toBe('sse');
  });

  it('a stream without include_usage still records the usage the upstream reported', async () => {
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true });
    let text = '';
    for await (const ch of stream) {
      expect(ch.usage).toBeUndefined();
      text += ch.choices[0]?.delta.content ?? '';
    }
    expect(text).toContain('mock reply');
    const [o] = await h.waitForOutcomes(1);
    expect(o!.usage!.input).toBeGreaterThan(0);
    expect(o!.usage!.output).toBeGreaterThan(0);
  });

  it('upstream errors arrive as OpenAI errors with the status kept', async () => {
    const cases: [number, unknown][] = [
      [400, OpenAI.BadRequestError],
      [401, OpenAI.AuthenticationError],
      [429, OpenAI.RateLimitError],
      [500, OpenAI.InternalServerError],
    ];
    for (const [status, cls] of cases) {
      const err = await openai.chat.completions
        .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-mock-scenario': `status:${status}` } })
        .catch((e: unknown) => e);
      expect(err, String(status)).toBeInstanceOf(cls);
      const e = err as InstanceType<typeof OpenAI.APIError>;
      expect(e.status).toBe(status);
      expect(e.message).toContain(`mock upstream failure (HTTP ${status})`);
    }
  });

  it('an error inside the upstream stream ends the client stream with an OpenAI error the SDK raises', async () => {
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }], stream: true }, { headers: { 'x-mock-scenario': 'stream-error:3' } });
    const err = await (async () => {
      for await (const _ of stream) void _;
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(String((err as Error).message)).toContain('mock: overloaded mid-stream');
  });

  it('a Responses API client routed to an Anthropic-format provider gets a clear 400 in its own shape', async () => {
    const err = await openai.responses.create({ model: 'gpt-4o', input: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as Error).message).toMatch(/Responses API cannot be translated to the anthropic format of provider anth/);
    expect(upstream()).toHaveLength(0);
  });
});

describe('no translation when the formats match', () => {
  it('a target of the client format gets the client body byte for byte, and the answer passes untouched', async () => {
    const body = '{"model":"same-model","messages":[{"role":"user","content":"hi"}],   "max_tokens":5}';
    const r = await rawRequest(`${h.url}/v1/chat/completions`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${FAKE_OPENAI_KEY}`, 'x-mock-scenario': 'echo' },
    });
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe(body);
    expect(upstream()[0]!.body.toString()).toBe(body);
    expect(upstream()[0]!.path).toBe('/v1/chat/completions');
  });
});
