/**
 * CCR edge cases through the proxy: the tool offered without a marker (only its definition
 * appended), tool-less requests untouched, a retrieve
 * call next to the client's own tool calls, the round limit, a miss, the client's own
 * retrieve tool, a follow-up that fails, bypass, count_tokens, and byte-exact passthrough of
 * a response that does not call the tool.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TOOL_BYTES } from '../src/capabilities/ccr/tool.js';
import { generateOutput } from '../src/mock/agent-outputs.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';

type Json = Record<string, unknown>;

const sample = generateOutput('service_log', 12_000, 7);
const tools: Anthropic.Tool[] = [{ name: 'search', description: 'Search the docs', input_schema: { type: 'object', properties: { q: { type: 'string' } } } }];

function conversation(first: string, output = sample.text): Anthropic.MessageParam[] {
  return [
    { role: 'user', content: first },
    { role: 'assistant', content: [{ type: 'text', text: 'Searching.' }, { type: 'tool_use', id: 'toolu_s1', name: 'search', input: { q: 'x' } }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_s1', content: output }] },
  ];
}

const toolNames = (body: Json | null): string[] =>
  ((body?.tools as Json[] | undefined) ?? []).map((t) => String(t.name ?? (t.function as Json | undefined)?.name));

async function post(h: Harness, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${h.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': FAKE_ANTHROPIC_KEY, 'anthropic-version': '2023-06-01', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('CCR behaviour through the proxy', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());
  beforeEach(() => h.reset());

  const anthropic = (scenario: string) => new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0, defaultHeaders: { 'x-mock-scenario': scenario } });

  it('a request with tools but no marker gets only the tool definition appended; without tools it is forwarded byte for byte', async () => {
    const raw = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64, tools, messages: conversation('short one', 'a short output') });
    const res = await post(h, '/v1/messages', raw, { 'x-mock-scenario': 'retrieve' });
    expect(res.status).toBe(200);
    expect(h.mock.requests).toHaveLength(1);
    const toolsJson = JSON.stringify(tools);
    expect(h.mock.requests[0]!.body.toString()).toBe(raw.replace(toolsJson, `${toolsJson.slice(0, -1)},${TOOL_BYTES.anthropic.toString()}]`));
    // the mock model calls headroom_retrieve only for a marker's hash: there is none, so no round
    const noTools = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hello there' }] });
    await post(h, '/v1/messages', noTools, { 'x-mock-scenario': 'retrieve' });
    expect(h.mock.requests[1]!.body.toString()).toBe(noTools);
    const [a, b] = await h.waitForOutcomes(2);
    expect(a!.ext.ccr).toMatchObject({ toolInjected: 'offered', markers: 0, retrievals: 0, rounds: 0 });
    expect(b!.ext.ccr).toBeUndefined();
  });

  it('the tool bytes are the same with and without a marker, so the prefix cache holds across the first cut', async () => {
    const c = anthropic('ok');
    await c.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, tools, messages: conversation('turn one', 'short') });
    await c.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, tools, messages: conversation('turn one') });
    const [first, second] = h.mock.requests as [(typeof h.mock.requests)[number], (typeof h.mock.requests)[number]];
    expect(toolNames(first.json)).toEqual(['search', 'headroom_retrieve']);
    expect(toolNames(second.json)).toEqual(['search', 'headroom_retrieve']);
    const head = (b: Buffer) => b.toString().slice(0, b.toString().indexOf('"messages"'));
    expect(head(second.body)).toBe(head(first.body));
    const outcomes = await h.waitForOutcomes(2);
    expect(outcomes.map((o) => o.ext.ccr?.toolInjected ?? null)).toEqual(['offered', 'marker']);
  });

  for (const stream of [false, true]) {
    it(`a retrieve call next to the client's own tool call is removed, not answered (stream=${stream})`, async () => {
      const c = anthropic('retrieve:mixed');
      const params = { model: 'claude-sonnet-4-5', max_tokens: 64, tools, messages: conversation(`mixed ${stream}`) };
      const msg = stream ? await c.messages.stream(params).finalMessage() : await c.messages.create(params);
      expect(h.mock.requests).toHaveLength(1);
      const uses = msg.content.filter((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
      expect(uses.map((u) => u.name)).toEqual(['search']);
      expect(msg.stop_reason).toBe('tool_use');
      const [o] = await h.waitForOutcomes(1);
      expect(o!.ext.ccr).toMatchObject({ retrievals: 0, rounds: 0, dropped: 1 });
      expect(o!.tools.calls).toBe(1);
    });

    it(`the round limit ends the answer and drops the last retrieve call (stream=${stream})`, async () => {
      const c = anthropic('retrieve:loop');
      const params = { model: 'claude-sonnet-4-5', max_tokens: 64, tools, messages: conversation(`loop ${stream}`) };
      const msg = stream ? await c.messages.stream(params).finalMessage() : await c.messages.create(params);
      expect(h.mock.requests).toHaveLength(4); // the client's call + 3 follow-ups
      expect(msg.content.every((b) => b.type === 'text')).toBe(true);
      expect(msg.content).toHaveLength(4);
      expect(msg.stop_reason).toBe('end_turn');
      const [o] = await h.waitForOutcomes(1);
      expect(o!.ext.ccr).toMatchObject({ retrievals: 3, hits: 3, rounds: 3, dropped: 1 });
    });
  }

  it('a miss answers the model with an actionable error and counts a miss', async () => {
    const msg = await anthropic('retrieve:miss').messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, tools, messages: conversation('miss') });
    expect(h.mock.requests).toHaveLength(2);
    const msgs = h.mock.requests[1]!.json!.messages as Json[];
    const result = ((msgs[msgs.length - 1] as Json).content as Json[])[0] as Json;
    expect(result.is_error).toBe(true);
    expect(String(result.content)).toMatch(/no original is stored for hash=ffffffffffffffffffffffff.*run the tool or command/);
    expect(msg.content.some((b) => b.type === 'tool_use')).toBe(false);
    const [o] = await h.waitForOutcomes(1);
    expect(o!.ext.ccr).toMatchObject({ retrievals: 1, hits: 0, misses: 1, tokensRetrieved: 0 });
  });

  it('a client that defines headroom_retrieve itself gets no injection and sees its calls', async () => {
    const own: Anthropic.Tool[] = [...tools, { name: 'mcp__headroom__headroom_retrieve', description: 'x', input_schema: { type: 'object', properties: { hash: { type: 'string' } } } }];
    await anthropic('retrieve').messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, tools: own, messages: conversation('own tool') });
    expect(h.mock.requests).toHaveLength(1);
    expect(toolNames(h.mock.requests[0]!.json)).toEqual(['search', 'mcp__headroom__headroom_retrieve']);
    const [o] = await h.waitForOutcomes(1);
    expect(o!.ext.ccr).toMatchObject({ clientTool: true, toolInjected: null });
  });

  it('a response that does not call the tool reaches the client byte for byte (stream and not)', async () => {
    for (const stream of [false, true]) {
      const res = await post(h, '/v1/messages', { model: 'claude-sonnet-4-5', max_tokens: 64, stream, tools, messages: conversation(`plain ${stream}`) }, { 'x-mock-scenario': 'ok' });
      const bytes = Buffer.from(await res.arrayBuffer());
      const rec = h.mock.last!;
      expect(toolNames(rec.json)).toContain('headroom_retrieve');
      expect(bytes.equals(Buffer.concat(rec.response))).toBe(true);
    }
  });

  it('a failed follow-up reaches the client as an upstream error (stream: an error event; not: the status)', async () => {
    h.mock.enqueue('retrieve', 'status:400');
    const res = await post(h, '/v1/messages', { model: 'claude-sonnet-4-5', max_tokens: 64, tools, messages: conversation('fail json') });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).type).toBe('error');
    h.mock.enqueue('retrieve', 'status:400');
    const s = await post(h, '/v1/messages', { model: 'claude-sonnet-4-5', max_tokens: 64, stream: true, tools, messages: conversation('fail stream') });
    expect(s.status).toBe(200);
    const text = await s.text();
    expect(text.match(/event: message_start/g)).toHaveLength(1);
    expect(text).toContain('event: error');
    expect(text).not.toContain('"tool_use"');
    const outcomes = await h.waitForOutcomes(2);
    expect(outcomes.map((o) => o.errorType)).toEqual(['upstream_client_error', 'upstream_client_error']);
  });

  it('upstream stream failures with the tool injected still reach the client as errors', async () => {
    const e = await post(h, '/v1/messages', { model: 'claude-sonnet-4-5', max_tokens: 64, stream: true, tools, messages: conversation('stream error') }, { 'x-mock-scenario': 'stream-error:3' });
    const eText = await e.text();
    expect(eText).toContain('event: error');
    expect(eText).not.toContain('message_stop');
    const t = await post(h, '/v1/messages', { model: 'claude-sonnet-4-5', max_tokens: 64, stream: true, tools, messages: conversation('truncated') }, { 'x-mock-scenario': 'truncate:3' });
    const tText = await t.text();
    expect(tText).toContain('event: error');
    expect(tText).toContain('upstream stream ended before its final event');
    const outcomes = await h.waitForOutcomes(2);
    expect(outcomes.map((o) => o.errorType)).toEqual(['upstream_stream', 'upstream_stream']);
    expect(outcomes.every((o) => o.ext.ccr?.toolInjected === 'marker')).toBe(true);
  });

  it('bypass requests are left alone; count_tokens gets the tool (counts match what is sent)', async () => {
    await post(h, '/v1/messages', { model: 'claude-sonnet-4-5', max_tokens: 64, tools, messages: conversation('bypass me') }, { 'x-headroom-bypass': 'true' });
    expect(toolNames(h.mock.last!.json)).toEqual(['search']);
    await post(h, '/v1/messages/count_tokens', { model: 'claude-sonnet-4-5', tools, messages: conversation('count me') });
    expect(toolNames(h.mock.last!.json)).toEqual(['search', 'headroom_retrieve']);
  });

  it('OpenAI chat streaming: a retrieve call next to the client tool call is removed and indexes stay consecutive', async () => {
    const c = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0, defaultHeaders: { 'x-mock-scenario': 'retrieve:mixed' } });
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'user', content: 'mixed chat' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'search', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: sample.text },
    ];
    const ctools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'search', parameters: { type: 'object', properties: {} } } }];
    const final = await c.chat.completions.stream({ model: 'gpt-4o', tools: ctools, messages }).finalChatCompletion();
    const calls = final.choices[0]!.message.tool_calls ?? [];
    expect(calls.map((t) => (t.type === 'function' ? t.function.name : t.type))).toEqual(['search']);
    expect(final.choices[0]!.finish_reason).toBe('tool_calls');
  });
});

describe('CCR resolution and client disconnects', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ mock: { frameIntervalMs: 15 } });
  });
  afterAll(() => h.close());

  it('a client leaving during a follow-up round cancels the upstream call and records client_abort', async () => {
    const res = await post(h, '/v1/messages', { model: 'claude-sonnet-4-5', max_tokens: 64, stream: true, tools, messages: conversation('abort me') }, { 'x-mock-scenario': 'retrieve' });
    const reader = res.body!.getReader();
    void (async () => {
      for (;;) {
        const { done } = await reader.read().catch(() => ({ done: true }));
        if (done) return;
      }
    })();
    await h.mock.waitForRequests(2);
    await reader.cancel();
    await h.mock.waitForPeerAbort();
    const [o] = await h.waitForOutcomes(1);
    expect(o!.errorType).toBe('client_abort');
    expect(o!.ext.ccr).toMatchObject({ retrievals: 1, rounds: 1 });
  });
});
