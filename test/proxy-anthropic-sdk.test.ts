import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FAKE_ANTHROPIC_KEY, type Harness, startHarness } from './helpers/harness.js';

let h: Harness;
let client: Anthropic;

beforeAll(async () => {
  h = await startHarness();
  client = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0 });
});
afterAll(() => h.close());
beforeEach(() => h.reset());

const tools: Anthropic.Tool[] = [
  { name: 'run_tests', description: 'Run the test suite', input_schema: { type: 'object', properties: { query: { type: 'string' } } } },
];

describe('Anthropic SDK through the proxy', () => {
  it('non-streaming message: reply, usage and one outcome', async () => {
    const msg = await client.messages.create({
      model: 'claude-sonnet-5-5',
      max_tokens: 256,
      system: [{ type: 'text', text: 'You are terse. '.repeat(200), cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: 'Summarise the build.' }],
    });
    expect(msg.type).toBe('message');
    expect(msg.content[0]?.type).toBe('text');
    const [o] = await h.waitForOutcomes(1);
    expect(o!.provider).toBe('anthropic');
    expect(o!.api).toBe('messages');
    expect(o!.status).toBe(200);
    expect(o!.ok).toBe(true);
    expect(o!.requestedModel).toBe('claude-sonnet-5-5');
    expect(o!.model).toBe('claude-sonnet-5-5');
    // first call writes the cached system prompt, 5m TTL
    expect(o!.usage!.cacheWrite).toBe(msg.usage.cache_creation_input_tokens);
    expect(o!.usage!.cacheWrite).toBeGreaterThan(0);
    expect(o!.usage!.cacheWrite5m).toBe(o!.usage!.cacheWrite);
    expect(o!.usage!.uncached).toBe(msg.usage.input_tokens);
    expect(o!.usage!.output).toBe(msg.usage.output_tokens);
    expect(o!.usage!.input).toBe(msg.usage.input_tokens + (msg.usage.cache_creation_input_tokens ?? 0) + (msg.usage.cache_read_input_tokens ?? 0));
    expect(o!.usage!.source).toBe('json');
    expect(o!.timing.upstreamAttempts).toBe(1);
  });

  it('a second identical call reads the cache (1h TTL bucket honoured)', async () => {
    const params: Anthropic.MessageCreateParamsNonStreaming = {
      model: 'claude-sonnet-5-5',
      max_tokens: 64,
      system: [{ type: 'text', text: 'Long stable instructions. '.repeat(300), cache_control: { type: 'ephemeral', ttl: '1h' } }],
      messages: [{ role: 'user', content: 'hi' }],
    };
    await client.messages.create(params);
    const second = await client.messages.create(params);
    const [o1, o2] = await h.waitForOutcomes(2);
    expect(o1!.usage!.cacheWrite1h).toBeGreaterThan(0);
    expect(o1!.usage!.cacheWrite5m).toBe(0);
    expect(o2!.usage!.cacheRead).toBe(second.usage.cache_read_input_tokens);
    expect(o2!.usage!.cacheRead).toBeGreaterThan(0);
  });

  it('streaming message: events arrive, usage parsed from message_start/message_delta', async () => {
    const stream = client.messages.stream({
      model: 'claude-haiku-5-5',
      max_tokens: 256,
      messages: [{ role: 'user', content: 'Stream please.' }],
    });
    const events: string[] = [];
    for await (const ev of stream) events.push(ev.type);
    const final = await stream.finalMessage();
    expect(events[0]).toBe('message_start');
    expect(events.at(-1)).toBe('message_stop');
    const [o] = await h.waitForOutcomes(1);
    expect(o!.stream).toBe(true);
    expect(o!.ok).toBe(true);
    expect(o!.usage!.source).toBe('sse');
    expect(o!.usage!.output).toBe(final.usage.output_tokens);
    expect(o!.usage!.uncached).toBe(final.usage.input_tokens);
    expect(o!.finishReason).toBe('end_turn');
    expect(o!.timing.ttfbMs).toBeGreaterThan(0);
    expect(h.progress.some((p) => p.requestId === o!.requestId && p.outputTokens > 0)).toBe(true);
  });

  it('tool calls, non-streaming and streaming, and the tool_result turn', async () => {
    const first = await client.messages.create({
      model: 'claude-sonnet-5-5', max_tokens: 256, tools, messages: [{ role: 'user', content: 'Is the build green?' }],
    });
    const call = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
    expect(call?.name).toBe('run_tests');
    const stream = client.messages.stream({
      model: 'claude-sonnet-5-5', max_tokens: 256, tools,
      messages: [
        { role: 'user', content: 'Is the build green?' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: call!.id, content: 'PASS 120 tests' }] },
      ],
    });
    const final = await stream.finalMessage();
    expect(final.stop_reason).toBe('end_turn');
    const streamedCall = client.messages.stream({ model: 'claude-sonnet-5-5', max_tokens: 256, tools, messages: [{ role: 'user', content: 'again' }] });
    const streamedFinal = await streamedCall.finalMessage();
    expect(streamedFinal.content.some((b) => b.type === 'tool_use')).toBe(true);
    const outs = await h.waitForOutcomes(3);
    expect(outs[0]!.tools).toEqual({ definitions: 1, results: 0, calls: 1 });
    expect(outs[1]!.tools).toEqual({ definitions: 1, results: 1, calls: 0 });
    expect(outs[2]!.tools.calls).toBe(1);
    expect(outs[2]!.finishReason).toBe('tool_use');
  });

  it('count_tokens and models pass through', async () => {
    const count = await client.messages.countTokens({ model: 'claude-sonnet-5-5', messages: [{ role: 'user', content: 'count me' }] });
    expect(count.input_tokens).toBeGreaterThan(0);
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toContain('claude-sonnet-5-5');
    const outs = await h.waitForOutcomes(2);
    expect(outs.map((o) => o.api)).toEqual(['count_tokens', 'models']);
    expect(outs[0]!.usage).toBeNull();
  });

  it('upstream errors reach the SDK as its own error classes, verbatim', async () => {
    h.mock.enqueue('status:400', 'status:401', 'status:404');
    await expect(client.messages.create({ model: 'x', max_tokens: 1, messages: [{ role: 'user', content: 'a' }] })).rejects.toBeInstanceOf(Anthropic.BadRequestError);
    await expect(client.messages.create({ model: 'x', max_tokens: 1, messages: [{ role: 'user', content: 'a' }] })).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    await expect(client.messages.create({ model: 'x', max_tokens: 1, messages: [{ role: 'user', content: 'a' }] })).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    const outs = await h.waitForOutcomes(3);
    expect(outs.map((o) => [o.status, o.errorType])).toEqual([
      [400, 'upstream_client_error'], [401, 'upstream_client_error'], [404, 'upstream_client_error'],
    ]);
    expect(outs[0]!.errorMessage).toContain('mock upstream failure');
  });

  it('an upstream error event mid-stream surfaces as an SDK error and an error outcome', async () => {
    h.mock.enqueue('stream-error:3');
    const stream = client.messages.stream({ model: 'claude-haiku-5-5', max_tokens: 64, messages: [{ role: 'user', content: 'x' }] });
    await expect(stream.finalMessage()).rejects.toThrow(/overloaded/);
    const [o] = await h.waitForOutcomes(1);
    expect(o!.status).toBe(200);
    expect(o!.ok).toBe(false);
    expect(o!.errorType).toBe('upstream_stream');
  });
});
