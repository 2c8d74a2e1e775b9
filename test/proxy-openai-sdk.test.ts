import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';

let h: Harness;
let client: OpenAI;

beforeAll(async () => {
  h = await startHarness();
  client = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0 });
});
afterAll(() => h.close());
beforeEach(() => h.reset());

const tools: OpenAI.Chat.ChatCompletionTool[] = [
  { type: 'function', function: { name: 'grep', description: 'Search the repo', parameters: { type: 'object', properties: { query: { type: 'string' } } } } },
];
const longHistory = Array.from({ length: 40 }, (_, i) => ({ role: 'user' as const, content: `context line ${i} `.repeat(30) }));

describe('OpenAI SDK through the proxy: chat completions', () => {
  it('non-streaming: reply and usage with cached tokens', async () => {
    const first = await client.chat.completions.create({ model: 'gpt-4o', messages: [...longHistory, { role: 'user', content: 'one' }] });
    const second = await client.chat.completions.create({ model: 'gpt-4o', messages: [...longHistory, { role: 'user', content: 'two' }] });
    expect(first.choices[0]?.message.content).toContain('mock reply');
    const [o1, o2] = await h.waitForOutcomes(2);
    expect(o1!.provider).toBe('openai');
    expect(o1!.api).toBe('chat');
    expect(o1!.usage!.input).toBe(first.usage!.prompt_tokens);
    expect(o1!.usage!.cacheRead).toBe(0);
    expect(o2!.usage!.cacheRead).toBe(second.usage!.prompt_tokens_details!.cached_tokens);
    expect(o2!.usage!.cacheRead).toBeGreaterThanOrEqual(1024);
    expect(o2!.usage!.uncached).toBe(second.usage!.prompt_tokens - o2!.usage!.cacheRead);
    expect(o2!.usage!.cacheWrite).toBe(0);
  });

  it('streaming with include_usage: the final usage chunk is read', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'stream' }],
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toContain('mock reply');
    const [o] = await h.waitForOutcomes(1);
    expect(o!.stream).toBe(true);
    expect(o!.ok).toBe(true);
    expect(o!.usage!.source).toBe('sse');
    expect(o!.usage!.output).toBe(usage!.completion_tokens);
    expect(o!.usage!.input).toBe(usage!.prompt_tokens);
    expect(o!.finishReason).toBe('stop');
  });

  it('tool calls streamed and not, and the tool-result turn', async () => {
    const first = await client.chat.completions.create({ model: 'gpt-4o', tools, messages: [{ role: 'user', content: 'find TODOs' }] });
    const call = first.choices[0]!.message.tool_calls![0]!;
    expect(call.type === 'function' && call.function.name).toBe('grep');
    const runner = await client.chat.completions.create({
      model: 'gpt-4o', tools, stream: true,
      messages: [
        { role: 'user', content: 'find TODOs' },
        first.choices[0]!.message,
        { role: 'tool', tool_call_id: call.id, content: 'src/a.ts:1: TODO fix' },
      ],
    });
    let text = '';
    for await (const chunk of runner) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toContain('mock reply');
    const streamedTool = await client.chat.completions.create({ model: 'gpt-4o', tools, stream: true, messages: [{ role: 'user', content: 'again' }] });
    const argParts: string[] = [];
    for await (const chunk of streamedTool) {
      for (const tc of chunk.choices[0]?.delta?.tool_calls ?? []) argParts.push(tc.function?.arguments ?? '');
    }
    expect(JSON.parse(argParts.join(''))).toEqual({ query: 'status of the build' });
    const outs = await h.waitForOutcomes(3);
    expect(outs[0]!.tools).toEqual({ definitions: 1, results: 0, calls: 1 });
    expect(outs[1]!.tools).toEqual({ definitions: 1, results: 1, calls: 0 });
    expect(outs[2]!.tools.calls).toBe(1);
    expect(outs[2]!.finishReason).toBe('tool_calls');
  });

  it('upstream errors become the SDK error classes', async () => {
    h.mock.enqueue('status:400', 'status:401');
    await expect(client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const outs = await h.waitForOutcomes(2);
    expect(outs.map((o) => o.status)).toEqual([400, 401]);
  });

  it('an error chunk mid-stream raises APIError in the SDK and marks the outcome failed', async () => {
    h.mock.enqueue('stream-error:2');
    const stream = await client.chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'x' }] });
    await expect((async () => { for await (const _ of stream) void _; })()).rejects.toBeInstanceOf(OpenAI.APIError);
    const [o] = await h.waitForOutcomes(1);
    expect(o!.ok).toBe(false);
    expect(o!.errorType).toBe('upstream_stream');
  });
});

describe('OpenAI SDK through the proxy: responses and passthrough', () => {
  it('responses non-streaming and streaming with usage', async () => {
    const r = await client.responses.create({ model: 'gpt-4o', input: 'Say hi' });
    expect(r.output_text).toContain('mock reply');
    const stream = await client.responses.create({ model: 'gpt-4o', input: [{ role: 'user', content: 'Say hi' }], stream: true });
    const types: string[] = [];
    let completedUsage: OpenAI.Responses.ResponseUsage | undefined;
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === 'response.completed') completedUsage = ev.response.usage;
    }
    expect(types.at(-1)).toBe('response.completed');
    const [o1, o2] = await h.waitForOutcomes(2);
    expect(o1!.api).toBe('responses');
    expect(o1!.usage!.input).toBe(r.usage!.input_tokens);
    expect(o1!.usage!.output).toBe(r.usage!.output_tokens);
    expect(o2!.usage!.source).toBe('sse');
    expect(o2!.usage!.output).toBe(completedUsage!.output_tokens);
    expect(o2!.finishReason).toBe('completed');
  });

  it('responses tool calls are counted', async () => {
    const r = await client.responses.create({
      model: 'gpt-4o', input: 'search',
      tools: [{ type: 'function', name: 'grep', parameters: { type: 'object', properties: {} }, strict: false }],
    });
    expect(r.output[0]?.type).toBe('function_call');
    const [o] = await h.waitForOutcomes(1);
    expect(o!.tools.calls).toBe(1);
    expect(o!.tools.definitions).toBe(1);
  });

  it('models and other /v1 paths pass through', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toContain('gpt-4o');
    const emb = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hello' });
    expect(emb.data[0]?.embedding.length).toBe(3);
    const outs = await h.waitForOutcomes(2);
    expect(outs.map((o) => [o.provider, o.api, o.status])).toEqual([['openai', 'models', 200], ['openai', 'passthrough', 200]]);
    expect(h.mock.requests.map((r) => r.path)).toEqual(['/v1/models', '/v1/embeddings']);
  });
});
