/**
 * The incremental stream translators, both ways, on fixtures of real wire shapes: event order
 * and numeric indexes, tool arguments streamed as they arrive (D13), usage read after the
 * finish chunk (D4) incl. cache fields, every chunk boundary (byte by byte, inside UTF-8), upstream
 * errors and truncated streams in the client's own error shape; and the official SDKs' stream
 * helpers accumulate the translated streams into the same answer as the non-stream translation.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AnthropicToOpenAIStream, OpenAIToAnthropicStream, anthropicToOpenAIResponse, openAIToAnthropicResponse } from '../src/translate/index.js';
import { anthropicMessage, anthropicSse } from './fixtures/translate/anthropic.js';
import { openaiChunks, openaiCompletion, openaiSse } from './fixtures/translate/openai.js';
import { parseSse, runSplit, serveFixed } from './helpers/translate.js';

const toAnth = () => new OpenAIToAnthropicStream({ model: 'claude-sonnet-4-5' });
const toOai = (includeUsage = true) => new AnthropicToOpenAIStream({ model: 'gpt-4.1', includeUsage, created: 1765000000 });

const FAKE_ANTH_KEY = 'sk-ant-test-fake-stream';
const FAKE_OAI_KEY = 'sk-test-fake-stream';

describe('OpenAI chunks -> Anthropic events', () => {
  const input = Buffer.from(openaiSse());
  const whole = runSplit(toAnth, input, []);
  const frames = parseSse(whole);

  it('emits the Anthropic event sequence with numeric indexes, arguments as they arrive, usage at the end', () => {
    expect(frames.map((f) => f.event)).toEqual([
      'message_start',
      'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop',
      'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop',
      'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop',
      'message_delta', 'message_stop',
    ]);
    const data = frames.map((f) => f.data as Record<string, unknown>);
    expect(data[0]).toMatchObject({ type: 'message_start', message: { id: 'chatcmpl-abc123', model: 'claude-sonnet-4-5', role: 'assistant', content: [] } });
    expect(data[5]).toEqual({ type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'call_X', name: 'read_file', input: {} } });
    expect(data.slice(6, 8)).toEqual([
      { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"path"' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: ':"a.ts"}' } },
    ]);
    expect(data[10]).toEqual({ type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{"pa' } });
    expect(data[13]).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      // the usage chunk came after finish_reason; prompt 3120 incl. 3000 cached
      usage: { input_tokens: 120, output_tokens: 45, cache_read_input_tokens: 3000, cache_creation_input_tokens: 0 },
    });
    for (const d of data) if ('index' in d) expect(typeof d.index).toBe('number');
  });

  it('gives the same output for a cut at every byte position, and byte by byte', () => {
    for (let i = 0; i <= input.length; i++) expect(runSplit(toAnth, input, [i])).toBe(whole);
    expect(runSplit(toAnth, input, Array.from({ length: input.length }, (_, i) => i))).toBe(whole);
  });

  it('cuts inside multi-byte characters and CRLF line ends change nothing', () => {
    const chunks = [openaiChunks[0], { ...openaiChunks[1], choices: [{ index: 0, delta: { content: 'héllo 🌍 ✓' }, finish_reason: 'stop', logprobs: null }] }];
    const crlf = Buffer.from(openaiSse(chunks).replace(/\n/g, '\r\n'));
    const ref = runSplit(toAnth, crlf, []);
    expect(ref).toContain('héllo 🌍 ✓');
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: crlf.length }), { maxLength: 6 }), (cuts) => runSplit(toAnth, crlf, cuts) === ref),
      { seed: 18, numRuns: 300 },
    );
  });

  it('the official SDK accumulates it into the non-stream translation of the same answer', async () => {
    const server = await serveFixed(200, 'text/event-stream', whole);
    try {
      const client = new Anthropic({ apiKey: FAKE_ANTH_KEY, baseURL: server.url, maxRetries: 0 });
      const msg = await client.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'go' }] }).finalMessage();
      // the SDK adds its own parsed_output (structured outputs); everything else is the message
      const { parsed_output: _parsed, ...rest } = msg as typeof msg & { parsed_output?: unknown };
      expect(rest).toEqual(openAIToAnthropicResponse(openaiCompletion, { model: 'claude-sonnet-4-5' }));
    } finally {
      await server.close();
    }
  });

  it('starts a tool call without an id, holding arguments that came before its name', () => {
    const base = { id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm' };
    const chunks = [
      { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"q":' } }] }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { name: 'search', arguments: '"x"' } }] }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '}' } }] }, finish_reason: 'tool_calls' }] },
    ];
    const t = toAnth();
    const data = parseSse(t.push(openaiSse(chunks)) + t.end()).map((f) => f.data as Record<string, any>);
    const start = data.find((d) => d.type === 'content_block_start');
    expect(start?.content_block).toMatchObject({ type: 'tool_use', name: 'search' });
    expect(start?.content_block.id).toMatch(/^toolu_/);
    const args = data.filter((d) => d.delta?.type === 'input_json_delta').map((d) => d.delta.partial_json as string);
    expect(args).toEqual(['{"q":"x"', '}']);
    expect(t.facts()).toMatchObject({ toolCalls: 1, stopReason: 'tool_use', complete: true, lateFragments: 0 });
  });

  it('a whole tool call in one chunk (no fragments) and text after a tool are separate blocks', () => {
    const base = { id: 'c2', object: 'chat.completion.chunk', created: 1, model: 'm' };
    const chunks = [
      { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: { content: 'done' }, finish_reason: 'stop' }] },
    ];
    const events = parseSse(runSplit(toAnth, Buffer.from(openaiSse(chunks)), [])).map((f) => f.data as Record<string, any>);
    expect(events.filter((e) => e.type === 'content_block_start').map((e) => [e.index, e.content_block.type])).toEqual([[0, 'tool_use'], [1, 'text']]);
    expect(events.find((e) => e.type === 'message_delta')?.delta.stop_reason).toBe('end_turn');
  });

  it('finish_reason length -> max_tokens; a stream ending after finish without [DONE] still closes', () => {
    const base = { id: 'c3', object: 'chat.completion.chunk', created: 1, model: 'm' };
    const out = parseSse(runSplit(toAnth, Buffer.from(openaiSse([{ ...base, choices: [{ index: 0, delta: { content: 'abc' }, finish_reason: 'length' }] }], false)), []));
    expect(out.at(-2)?.data).toMatchObject({ type: 'message_delta', delta: { stop_reason: 'max_tokens' } });
    expect(out.at(-1)?.event).toBe('message_stop');
  });

  it('an upstream error payload or a truncated stream ends with an Anthropic error event the SDK raises', async () => {
    const errorBody = openaiSse([openaiChunks[0], openaiChunks[1], { error: { message: 'upstream exploded', type: 'server_error', code: null } }], false);
    const truncated = openaiSse(openaiChunks.slice(0, 5), false);
    for (const [upstream, message] of [[errorBody, 'upstream exploded'], [truncated, 'ended before the response was complete']] as const) {
      const t = toAnth();
      const out = t.push(upstream) + t.end();
      const last = parseSse(out).at(-1)!;
      expect(last.event).toBe('error');
      expect(last.data).toMatchObject({ type: 'error', error: { type: expect.stringMatching(/api_error/), message: expect.stringContaining(message) } });
      expect(out).not.toContain('message_stop');
      expect(t.facts().complete).toBe(false);
      const server = await serveFixed(200, 'text/event-stream', out);
      try {
        const client = new Anthropic({ apiKey: FAKE_ANTH_KEY, baseURL: server.url, maxRetries: 0 });
        await expect(client.messages.stream({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }).finalMessage()).rejects.toThrow(message);
      } finally {
        await server.close();
      }
    }
  });
});

describe('Anthropic events -> OpenAI chunks', () => {
  const input = Buffer.from(anthropicSse());
  const whole = runSplit(() => toOai(), input, []);
  const frames = parseSse(whole);

  it('emits role, content, tool calls with numeric indexes and arguments as they arrive, finish, usage, [DONE]', () => {
    const data = frames.map((f) => f.data);
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1) as Record<string, any>[];
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === 'msg_01XYZ' && c.model === 'gpt-4.1')).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta ?? null)).toEqual([
      { role: 'assistant', content: '' },
      { content: 'Reading ' },
      { content: 'both. ✓' },
      { tool_calls: [{ index: 0, id: 'toolu_02A', type: 'function', function: { name: 'read_file', arguments: '' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '{"path": "a' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '.ts"}' } }] },
      { tool_calls: [{ index: 1, id: 'toolu_02B', type: 'function', function: { name: 'read_file', arguments: '' } }] },
      { tool_calls: [{ index: 1, function: { arguments: '{"path": "b.ts"}' } }] },
      {},
      null,
    ]);
    expect(chunks.at(-2)?.choices[0].finish_reason).toBe('tool_calls');
    // include_usage: usage null on each chunk, then the totals (prompt = 120 + 3000 read + 500 written)
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 3620, completion_tokens: 45, total_tokens: 3665, prompt_tokens_details: { cached_tokens: 3000 } } });
  });

  it('gives the same output for a cut at every byte position (inside UTF-8 too)', () => {
    for (let i = 0; i <= input.length; i++) expect(runSplit(() => toOai(), input, [i])).toBe(whole);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: input.length }), { maxLength: 8 }), (cuts) => runSplit(() => toOai(), input, cuts) === whole),
      { seed: 18, numRuns: 200 },
    );
  });

  it('without include_usage: no usage fields at all', () => {
    const out = runSplit(() => toOai(false), input, []);
    expect(out).not.toContain('"usage"');
    expect(out.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('the official SDK accumulates it into the non-stream translation of the same answer', async () => {
    const server = await serveFixed(200, 'text/event-stream', whole);
    try {
      const client = new OpenAI({ apiKey: FAKE_OAI_KEY, baseURL: server.url, maxRetries: 0 });
      const stream = client.chat.completions.stream({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'go' }], stream_options: { include_usage: true } });
      const final = await stream.finalChatCompletion();
      const expected = anthropicToOpenAIResponse(anthropicMessage, { model: 'gpt-4.1', created: 1765000000 });
      expect(final.choices[0]?.message.content).toBe(expected.choices[0]?.message.content);
      expect(final.choices[0]?.message.tool_calls?.map((c) => c.type === 'function' && [c.id, c.function.name, JSON.parse(c.function.arguments)])).toEqual(
        expected.choices[0]?.message.tool_calls?.map((c) => [c.id, c.function.name, JSON.parse(c.function.arguments)]),
      );
      expect(final.choices[0]?.finish_reason).toBe('tool_calls');
      expect(final.usage).toEqual(expected.usage);
    } finally {
      await server.close();
    }
  });

  it('an upstream error event or a truncated stream ends with an OpenAI error payload the SDK raises', async () => {
    const overloaded = anthropicSse().split('event: content_block_start')[0] + 'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n';
    const truncated = anthropicSse().slice(0, anthropicSse().indexOf('event: message_delta'));
    for (const [upstream, message, code] of [[overloaded, 'Overloaded', 'overloaded_error'], [truncated, 'ended before the response was complete', null]] as const) {
      const t = toOai();
      const out = t.push(upstream) + t.end();
      expect(parseSse(out).at(-1)?.data).toMatchObject({ error: { message: expect.stringContaining(message), code } });
      expect(out).not.toContain('[DONE]');
      const server = await serveFixed(200, 'text/event-stream', out);
      try {
        const client = new OpenAI({ apiKey: FAKE_OAI_KEY, baseURL: server.url, maxRetries: 0 });
        const run = async () => {
          const s = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true });
          for await (const _ of s) void _;
        };
        await expect(run()).rejects.toThrow(message);
      } finally {
        await server.close();
      }
    }
  });
});
