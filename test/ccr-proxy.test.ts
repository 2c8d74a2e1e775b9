/**
 * CCR through the real proxy with the official SDKs and a mock model that calls
 * `headroom_retrieve` (scenario `retrieve`): the tool is injected when a marker is forwarded
 * and stays for the conversation; the proxy answers the call from the store and continues
 * upstream; the client's response (stream or not) never shows the retrieve call and is valid
 * for the SDKs; usage is summed; the retrieved content is not compressed again.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { findMarkers } from '../src/compress/markers.js';
import { generateOutput } from '../src/mock/agent-outputs.js';
import type { RequestOutcome } from '../src/core/outcome.js';
import { messageSlices } from './helpers/bodies.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';

type Json = Record<string, unknown>;

const RETRIEVE = { 'x-mock-scenario': 'retrieve' };
const sample = generateOutput('search_json', 12_000, 42);

const anthropicTools: Anthropic.Tool[] = [{ name: 'search', description: 'Search the docs', input_schema: { type: 'object', properties: { q: { type: 'string' } } } }];
const openaiTools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'search', description: 'Search the docs', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }];

function anthropicMessages(): Anthropic.MessageParam[] {
  return [
    { role: 'user', content: 'Find the failing items in the search index.' },
    { role: 'assistant', content: [{ type: 'text', text: 'Searching.' }, { type: 'tool_use', id: 'toolu_search_1', name: 'search', input: { q: 'failing' } }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_search_1', content: sample.text }] },
  ];
}

function chatMessages(): OpenAI.ChatCompletionMessageParam[] {
  return [
    { role: 'user', content: 'Find the failing items in the search index.' },
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_search_1', type: 'function', function: { name: 'search', arguments: '{"q":"failing"}' } }] },
    { role: 'tool', tool_call_id: 'call_search_1', content: sample.text },
  ];
}

const toolNames = (body: Json | null): string[] =>
  ((body?.tools as Json[] | undefined) ?? []).map((t) => String(t.name ?? (t.function as Json | undefined)?.name));

function lastItem(body: Json | null, key = 'messages'): Json {
  const items = body?.[key] as Json[];
  return items[items.length - 1] as Json;
}

/** The forwarded marker hash, and checks on the two upstream requests of one resolution. */
function checkRounds(h: Harness, kind: 'anthropic' | 'chat'): string {
  expect(h.mock.requests).toHaveLength(2);
  const [first, second] = h.mock.requests as [(typeof h.mock.requests)[number], (typeof h.mock.requests)[number]];
  expect(toolNames(first.json)).toEqual(['search', 'headroom_retrieve']);
  expect(toolNames(second.json)).toEqual(['search', 'headroom_retrieve']);
  const markers = findMarkers(first.body.toString('utf8'));
  expect(markers.length).toBe(1);
  const hash = markers[0]!.hash;
  // the follow-up extends the first forwarded conversation byte for byte, plus the new turns
  const before = messageSlices(first.body);
  const after = messageSlices(second.body);
  expect(after.length).toBe(before.length + 2);
  before.forEach((m, i) => expect(after[i]!.equals(m)).toBe(true));
  expect(JSON.parse(after[before.length]!.toString()).role).toBe('assistant');
  if (kind === 'anthropic') {
    const result = (lastItem(second.json).content as Json[])[0] as Json;
    expect(result.type).toBe('tool_result');
    expect(result.content).toBe(sample.text); // the original, verbatim: not compressed again
    expect(result.is_error).toBeUndefined();
  } else {
    const tool = lastItem(second.json);
    expect(tool.role).toBe('tool');
    expect(tool.content).toBe(sample.text);
  }
  expect(second.body.toString('utf8')).not.toContain(`hash=${hash} to read it]"}]}]`);
  return hash;
}

function checkOutcome(o: RequestOutcome, hash: string): void {
  expect(o.ok).toBe(true);
  expect(o.ext.ccr).toMatchObject({ toolInjected: 'marker', markers: 1, retrievals: 1, hits: 1, misses: 0, rounds: 1, dropped: 0, hashes: [hash] });
  expect(o.ext.ccr!.tokensRetrieved).toBeGreaterThan(1000);
  expect(o.timing.upstreamCalls.map((c) => c.round ?? 0)).toEqual([0, 1]);
}

describe('CCR resolution through the official SDKs', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());
  beforeEach(() => h.reset());

  it('Anthropic, non-streaming: the retrieve call is answered by the proxy and hidden from the client', async () => {
    const client = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0, defaultHeaders: RETRIEVE });
    const msg = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 512, tools: anthropicTools, messages: anthropicMessages() });
    const hash = checkRounds(h, 'anthropic');
    expect(msg.content.some((b) => b.type === 'tool_use')).toBe(false);
    expect(msg.stop_reason).toBe('end_turn');
    const text = msg.content.filter((b): b is Anthropic.TextBlock => b.type === 'text').map((b) => b.text).join('|');
    expect(text).toContain('Let me read the full output.');
    expect(text).toContain(`Retrieved the original (${sample.text.length} chars)`);
    const [o] = await h.waitForOutcomes(1);
    checkOutcome(o!, hash);
    // usage summed over both upstream calls
    const u1 = (h.mock.requests[0]!.response.join('') && JSON.parse(Buffer.concat(h.mock.requests[0]!.response).toString()).usage) as Json;
    const u2 = JSON.parse(Buffer.concat(h.mock.requests[1]!.response).toString()).usage as Json;
    expect(msg.usage.input_tokens).toBe((u1.input_tokens as number) + (u2.input_tokens as number));
    expect(msg.usage.output_tokens).toBe((u1.output_tokens as number) + (u2.output_tokens as number));
    expect(o!.usage!.output).toBe(msg.usage.output_tokens);
  });

  it('Anthropic, streaming: one message_start, consecutive block indexes, no retrieve call, summed usage', async () => {
    const client = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0, defaultHeaders: RETRIEVE });
    const stream = client.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 512, tools: anthropicTools, messages: anthropicMessages() });
    const events: Anthropic.MessageStreamEvent[] = [];
    stream.on('streamEvent', (e) => void events.push(e));
    const msg = await stream.finalMessage();
    const hash = checkRounds(h, 'anthropic');
    expect(events.filter((e) => e.type === 'message_start')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'message_stop')).toHaveLength(1);
    const starts = events.filter((e): e is Anthropic.RawContentBlockStartEvent => e.type === 'content_block_start');
    expect(starts.map((e) => e.index)).toEqual([0, 1]);
    expect(starts.every((e) => e.content_block.type === 'text')).toBe(true);
    expect(msg.content.map((b) => b.type)).toEqual(['text', 'text']);
    expect((msg.content[1] as Anthropic.TextBlock).text).toContain(`Retrieved the original (${sample.text.length} chars)`);
    expect(msg.stop_reason).toBe('end_turn');
    const [o] = await h.waitForOutcomes(1);
    checkOutcome(o!, hash);
    expect(o!.stream).toBe(true);
    expect(o!.usage!.output).toBe(msg.usage.output_tokens);
    expect(o!.usage!.output).toBeGreaterThan(0);
    // the client's request stayed a streaming request, both rounds
    expect(h.mock.requests.every((r) => r.json?.stream === true)).toBe(true);
  });

  it('OpenAI chat, non-streaming', async () => {
    const client = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0, defaultHeaders: RETRIEVE });
    const r = await client.chat.completions.create({ model: 'gpt-4o', tools: openaiTools, messages: chatMessages() });
    const hash = checkRounds(h, 'chat');
    const choice = r.choices[0]!;
    expect(choice.message.tool_calls).toBeUndefined();
    expect(choice.finish_reason).toBe('stop');
    expect(choice.message.content).toContain(`Retrieved the original (${sample.text.length} chars)`);
    const [o] = await h.waitForOutcomes(1);
    checkOutcome(o!, hash);
    const u = h.mock.requests.map((q) => JSON.parse(Buffer.concat(q.response).toString()).usage as Json);
    expect(r.usage!.prompt_tokens).toBe((u[0]!.prompt_tokens as number) + (u[1]!.prompt_tokens as number));
  });

  it('OpenAI chat, streaming (with usage): content flows, no tool call reaches the client, one [DONE]', async () => {
    const client = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0, defaultHeaders: RETRIEVE });
    const stream = client.chat.completions.stream({ model: 'gpt-4o', tools: openaiTools, messages: chatMessages(), stream_options: { include_usage: true } });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    stream.on('chunk', (c) => void chunks.push(c));
    const final = await stream.finalChatCompletion();
    const hash = checkRounds(h, 'chat');
    expect(chunks.some((c) => c.choices.some((ch) => ch.delta.tool_calls))).toBe(false);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(final.choices[0]!.message.tool_calls ?? []).toEqual([]);
    expect(final.choices[0]!.finish_reason).toBe('stop');
    expect(final.choices[0]!.message.content).toContain(`Retrieved the original (${sample.text.length} chars)`);
    const usageChunks = chunks.filter((c) => c.usage);
    expect(usageChunks).toHaveLength(1);
    const [o] = await h.waitForOutcomes(1);
    checkOutcome(o!, hash);
    expect(o!.usage!.input).toBe(usageChunks[0]!.usage!.prompt_tokens);
    expect(h.mock.requests.every((r) => r.json?.stream === true)).toBe(true);
  });

  it('OpenAI Responses, non-streaming', async () => {
    const client = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0, defaultHeaders: RETRIEVE });
    const input: OpenAI.Responses.ResponseInput = [
      { role: 'user', content: 'Find the failing items.' },
      { type: 'function_call', call_id: 'call_s1', name: 'search', arguments: '{"q":"failing"}' },
      { type: 'function_call_output', call_id: 'call_s1', output: sample.text },
    ];
    const tools: OpenAI.Responses.Tool[] = [{ type: 'function', name: 'search', description: 'Search', parameters: { type: 'object', properties: { q: { type: 'string' } } }, strict: false }];
    const r = await client.responses.create({ model: 'gpt-4o', input, tools });
    expect(h.mock.requests).toHaveLength(2);
    expect(toolNames(h.mock.requests[0]!.json)).toEqual(['search', 'headroom_retrieve']);
    const out = lastItem(h.mock.requests[1]!.json, 'input');
    expect(out.type).toBe('function_call_output');
    expect(out.output).toBe(sample.text);
    expect(r.output.some((i) => i.type === 'function_call')).toBe(false);
    expect(r.output_text).toContain(`Retrieved the original (${sample.text.length} chars)`);
    const [o] = await h.waitForOutcomes(1);
    expect(o!.ext.ccr).toMatchObject({ retrievals: 1, hits: 1, rounds: 1 });
  });

  it('OpenAI Responses, streaming: one created event, consecutive sequence numbers and output indexes, no retrieve call', async () => {
    const client = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0, defaultHeaders: RETRIEVE });
    const input: OpenAI.Responses.ResponseInput = [
      { role: 'user', content: 'Find the failing items.' },
      { type: 'function_call', call_id: 'call_s1', name: 'search', arguments: '{"q":"failing"}' },
      { type: 'function_call_output', call_id: 'call_s1', output: sample.text },
    ];
    const tools: OpenAI.Responses.Tool[] = [{ type: 'function', name: 'search', description: 'Search', parameters: { type: 'object', properties: { q: { type: 'string' } } }, strict: false }];
    const stream = client.responses.stream({ model: 'gpt-4o', input, tools });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    stream.on('event', (e) => void events.push(e));
    const final = await stream.finalResponse();
    expect(h.mock.requests).toHaveLength(2);
    expect(h.mock.requests.every((r) => r.json?.stream === true)).toBe(true);
    expect(lastItem(h.mock.requests[1]!.json, 'input')).toMatchObject({ type: 'function_call_output', output: sample.text });
    expect(events.filter((e) => e.type === 'response.created')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'response.completed')).toHaveLength(1);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events.some((e) => e.type === 'response.function_call_arguments.delta')).toBe(false);
    const added = events.filter((e): e is OpenAI.Responses.ResponseOutputItemAddedEvent => e.type === 'response.output_item.added');
    expect(added.map((e) => e.output_index)).toEqual([0]);
    expect(final.output.some((i) => i.type === 'function_call')).toBe(false);
    expect(final.output_text).toContain(`Retrieved the original (${sample.text.length} chars)`);
    const [o] = await h.waitForOutcomes(1);
    expect(o!.ext.ccr).toMatchObject({ retrievals: 1, hits: 1, rounds: 1 });
    const u = h.mock.requests.map((q) => {
      const text = Buffer.concat(q.response).toString();
      const done = text.split('\n').filter((l) => l.startsWith('data: ') && l.includes('"response.completed"'))[0]!;
      return (JSON.parse(done.slice(6)) as { response: { usage: Json } }).response.usage;
    });
    expect(final.usage!.input_tokens).toBe((u[0]!.input_tokens as number) + (u[1]!.input_tokens as number));
    expect(o!.usage!.output).toBe(final.usage!.output_tokens);
  });
});
