/**
 * The forwarded tools array of a conversation never changes between its turns, and no
 * conversation is changed by another one: `headroom_retrieve` is offered from the first
 * request that brings tools, before any cut, decided from the request alone. Checked at the
 * mock upstream for Anthropic, OpenAI chat and Responses, and for two conversations that
 * share their system prompt and first two messages.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { topLevel } from '../src/providers/body.js';
import { TOOL_BYTES } from '../src/capabilities/ccr/tool.js';
import { findMarkers } from '../src/compress/markers.js';
import { generateOutput } from '../src/mock/agent-outputs.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';

type Json = Record<string, unknown>;

const BIG = generateOutput('service_log', 30_000, 31);
const small = (i: number) => `ok: step ${i} finished, 3 files changed`;

/** The raw bytes of the forwarded `tools` value ('' when absent). */
function toolsBytes(body: Buffer): string {
  const r = topLevel(body)?.keys.get('tools');
  return r ? body.toString('utf8', r.s, r.e) : '';
}

const anthropicHeaders = { 'x-api-key': FAKE_ANTHROPIC_KEY, 'anthropic-version': '2023-06-01' };
const openaiHeaders = { authorization: `Bearer ${FAKE_OPENAI_KEY}` };

async function post(h: Harness, path: string, body: Json, headers: Record<string, string>): Promise<void> {
  const res = await fetch(`${h.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  await res.arrayBuffer();
}

const SYSTEM = 'You are a deploy agent. Follow the runbook exactly. '.repeat(20);
const anthropicTools = [
  { name: 'run', description: 'Run a shell command', input_schema: { type: 'object', properties: { cmd: { type: 'string' } }, required: ['cmd'] } },
  { name: 'read_logs', description: 'Read service logs', input_schema: { type: 'object', properties: { service: { type: 'string' } } } },
];

/** An Anthropic conversation: a fixed brief, then one tool call per turn with the given outputs. */
function anthropicTurns(outputs: string[]): Json[] {
  const bodies: Json[] = [];
  const messages: Json[] = [{ role: 'user', content: 'Run the pre-deploy checks for billing.' }];
  outputs.forEach((out, i) => {
    messages.push({ role: 'assistant', content: [{ type: 'text', text: `Check ${i}.` }, { type: 'tool_use', id: `toolu_${i}`, name: 'run', input: { cmd: `check ${i}` } }] });
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: `toolu_${i}`, content: out }] });
    bodies.push({ model: 'claude-sonnet-4-5', max_tokens: 256, system: SYSTEM, tools: anthropicTools, messages: structuredClone(messages) });
  });
  return bodies;
}

describe('the tools array of a conversation never changes', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());
  beforeEach(() => h.reset());

  it('Anthropic: identical tools bytes on every turn, before and after the first cut', async () => {
    const outputs = [small(0), small(1), BIG.text, small(3), small(4)];
    for (const b of anthropicTurns(outputs)) await post(h, '/v1/messages', b, anthropicHeaders);
    const fwd = h.mock.requests.map((r) => r.body);
    expect(fwd).toHaveLength(5);
    // the cut happened on turn 3 and is replayed after it
    expect(findMarkers(fwd[2]!.toString()).length).toBe(1);
    expect(findMarkers(fwd[4]!.toString()).length).toBe(1);
    const first = toolsBytes(fwd[0]!);
    expect(first).toContain('"headroom_retrieve"');
    for (const [i, b] of fwd.entries()) expect(toolsBytes(b), `turn ${i}`).toBe(first);
    const outcomes = await h.waitForOutcomes(5);
    expect(outcomes.map((o) => o.ext.ccr?.toolInjected)).toEqual(['offered', 'offered', 'marker', 'marker', 'marker']);
  });

  it('OpenAI chat and Responses: identical tools bytes on every turn', async () => {
    const chatTools = [{ type: 'function', function: { name: 'run', parameters: { type: 'object', properties: { cmd: { type: 'string' } } } } }];
    const messages: Json[] = [{ role: 'system', content: SYSTEM }, { role: 'user', content: 'Run the checks.' }];
    const outputs = [small(0), BIG.text, small(2)];
    for (const [i, out] of outputs.entries()) {
      messages.push({ role: 'assistant', content: null, tool_calls: [{ id: `call_${i}`, type: 'function', function: { name: 'run', arguments: '{}' } }] });
      messages.push({ role: 'tool', tool_call_id: `call_${i}`, content: out });
      await post(h, '/v1/chat/completions', { model: 'gpt-4o', tools: chatTools, messages }, openaiHeaders);
    }
    const respTools = [{ type: 'function', name: 'run', parameters: { type: 'object', properties: {} }, strict: false }];
    const input: Json[] = [{ type: 'message', role: 'user', content: 'Run the checks.' }];
    for (const [i, out] of outputs.entries()) {
      input.push({ type: 'function_call', call_id: `call_${i}`, name: 'run', arguments: '{}' });
      input.push({ type: 'function_call_output', call_id: `call_${i}`, output: out });
      await post(h, '/v1/responses', { model: 'gpt-5', instructions: SYSTEM, tools: respTools, input }, openaiHeaders);
    }
    const fwd = h.mock.requests.map((r) => r.body);
    for (const group of [fwd.slice(0, 3), fwd.slice(3, 6)]) {
      expect(findMarkers(group[1]!.toString()).length).toBe(1);
      const first = toolsBytes(group[0]!);
      expect(first).toContain('"headroom_retrieve"');
      for (const b of group) expect(toolsBytes(b)).toBe(first);
    }
  });

  it('two conversations sharing system and first two messages: the one without a big output is forwarded as it would be alone', async () => {
    const withBig = anthropicTurns([BIG.text, small(1), small(2)]);
    const without = anthropicTurns([small(0), small(1), small(2)]);
    // alone, on a fresh proxy
    const alone = await startHarness();
    try {
      for (const b of without) await post(alone, '/v1/messages', b, anthropicHeaders);
      const expected = alone.mock.requests.map((r) => r.body.toString());
      // after (and interleaved with) the conversation that got a cut
      for (let i = 0; i < 3; i++) {
        await post(h, '/v1/messages', withBig[i]!, anthropicHeaders);
        await post(h, '/v1/messages', without[i]!, anthropicHeaders);
      }
      const got = h.mock.requests.filter((_, i) => i % 2 === 1).map((r) => r.body.toString());
      expect(findMarkers(h.mock.requests[0]!.body.toString()).length).toBe(1);
      expect(got).toEqual(expected);
      // and that is the client's bytes with only the tool definition appended to its tools
      got.forEach((g, i) => {
        const sent = JSON.stringify(without[i]);
        const tools = toolsBytes(Buffer.from(sent));
        expect(g).toBe(sent.replace(tools, `${tools.slice(0, -1)},${TOOL_BYTES.anthropic.toString()}]`));
      });
    } finally {
      await alone.close();
    }
  });

  it('a request without tools of its own is forwarded byte for byte until it shows a marker; from then on it keeps the tool', async () => {
    // an OpenAI chat client that sends tool messages without a tools array
    const messages: Json[] = [{ role: 'user', content: 'Summarise the logs.' }];
    const outputs = [small(0), BIG.text, small(2)];
    const sent: string[] = [];
    for (const [i, out] of outputs.entries()) {
      messages.push({ role: 'assistant', content: null, tool_calls: [{ id: `call_${i}`, type: 'function', function: { name: 'logs', arguments: '{}' } }] });
      messages.push({ role: 'tool', tool_call_id: `call_${i}`, content: out });
      const body = { model: 'gpt-4o', messages };
      sent.push(JSON.stringify(body));
      await post(h, '/v1/chat/completions', body, openaiHeaders);
    }
    const fwd = h.mock.requests.map((r) => r.body);
    expect(fwd[0]!.toString()).toBe(sent[0]);
    expect(toolsBytes(fwd[1]!)).toContain('"headroom_retrieve"');
    expect(toolsBytes(fwd[2]!)).toBe(toolsBytes(fwd[1]!));
    const outcomes = await h.waitForOutcomes(3);
    expect(outcomes.map((o) => o.ext.ccr?.toolInjected ?? null)).toEqual([null, 'marker', 'marker']);
  });
});
