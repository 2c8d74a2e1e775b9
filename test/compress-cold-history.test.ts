/**
 * Cold history through the real proxy: history slots the proxy has no decision for (the
 * conversation started elsewhere, or moved onto the proxy mid-way) are decided at first
 * sight. Anthropic history at or before the request's last `cache_control` breakpoint may be
 * in the provider's cache: it is forwarded as sent. Anthropic history after the last
 * breakpoint (or with none), and OpenAI history, is compressed once. Every decision is
 * recorded, so no conversation's earlier bytes change between its turns, even when another
 * conversation later sends the same big tool output as its newest input.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { prefixReport } from '../src/mock/agent-session.js';
import { generateOutput } from '../src/mock/agent-outputs.js';
import { messageSlices } from './helpers/bodies.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';

type Json = Record<string, unknown>;

const BREAKPOINT = { type: 'ephemeral' } as const;

/** Anthropic turns: (tool_use, tool_result) pairs after the task; the last block of the last message carries a breakpoint when asked. */
function anthropicMessages(task: string, outputs: { id: string; name: string; text: string }[], breakpoint: 'last' | 'none' | number): Anthropic.MessageParam[] {
  const messages: Anthropic.MessageParam[] = [{ role: 'user', content: [{ type: 'text', text: task }] }];
  for (const o of outputs) {
    messages.push({ role: 'assistant', content: [{ type: 'text', text: `Running ${o.name}.` }, { type: 'tool_use', id: o.id, name: o.name, input: { q: task } }] });
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: o.id, content: o.text }] });
  }
  const at = breakpoint === 'last' ? messages.length - 1 : breakpoint === 'none' ? -1 : breakpoint;
  if (at >= 0) {
    const blocks = messages[at]!.content as unknown as Json[];
    blocks[blocks.length - 1]!.cache_control = BREAKPOINT;
  }
  return messages;
}

function chatMessages(system: string, outputs: { id: string; name: string; text: string }[], question?: string): OpenAI.ChatCompletionMessageParam[] {
  const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'system', content: system }, { role: 'user', content: 'Find out why checkout fails.' }];
  for (const o of outputs) {
    messages.push({ role: 'assistant', content: null, tool_calls: [{ id: o.id, type: 'function', function: { name: o.name, arguments: '{}' } }] });
    messages.push({ role: 'tool', tool_call_id: o.id, content: o.text });
  }
  if (question) messages.push({ role: 'user', content: question });
  return messages;
}

/** The forwarded bodies of one conversation (told apart by a marker in its first message or system prompt). */
const bodiesOf = (h: Harness, marker: string) => h.mock.requests.filter((r) => r.body.includes(marker)).map((r) => r.body);

describe('cold history through the proxy', () => {
  let h: Harness;
  beforeAll(async () => {
    // what is compressed is under test, not the time budget (a loaded machine can spend 500 ms)
    h = await startHarness({ config: { compressionBudgetMs: 60_000 } });
  });
  afterAll(() => h.close());
  beforeEach(() => h.reset());

  it('Anthropic without breakpoints: every tool turn is compressed at first sight, and the next turn replays the same bytes', async () => {
    const client = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0 });
    const outs = [
      { id: 'toolu_n1', name: 'search', text: generateOutput('search_json', 30_000, 51).text },
      { id: 'toolu_n2', name: 'logs', text: generateOutput('logs_json', 30_000, 52).text },
    ];
    const turn1 = anthropicMessages('Task N: why is checkout slow?', outs, 'none');
    await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: turn1 });
    const [o] = await h.waitForOutcomes(1);
    const sent = messageSlices(Buffer.from(JSON.stringify({ messages: turn1 })));
    const fwd = messageSlices(h.mock.last!.body);
    for (const i of [0, 1, 3]) expect(fwd[i]!.equals(sent[i]!), `message ${i}`).toBe(true);
    // message 2 is history the proxy never saw; no breakpoint, so no cache holds it
    for (const i of [2, 4]) expect(fwd[i]!.length, `message ${i}`).toBeLessThan(sent[i]!.length / 3);
    expect(o!.compression.tokensSaved).toBeGreaterThan(o!.compression.tokensBefore * 0.7);
    // priced as never cached (there is no breakpoint)
    expect(o!.ext.placement!.fresh.none).toBeGreaterThan(0);

    const turn2 = anthropicMessages('Task N: why is checkout slow?', [...outs, { id: 'toolu_n3', name: 'grep', text: generateOutput('grep', 20_000, 53).text }], 'none');
    await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: turn2 });
    const [, o2] = await h.waitForOutcomes(2);
    expect(prefixReport(bodiesOf(h, 'Task N:'))).toMatchObject({ requests: 2, historyChanges: 0, shrunk: 0 });
    expect(o2!.compression.transforms).toContain('replay');
  });

  it('Anthropic: history before the last breakpoint is forwarded as sent, history after it is compressed', async () => {
    const client = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0 });
    const outs = [
      { id: 'toolu_m1', name: 'search', text: generateOutput('search_json', 30_000, 61).text },
      { id: 'toolu_m2', name: 'logs', text: generateOutput('logs_json', 30_000, 62).text },
      { id: 'toolu_m3', name: 'build', text: generateOutput('build_log', 20_000, 63).text },
    ];
    // the breakpoint sits on the first tool result (message 2): the provider may hold messages 0-2
    const messages = anthropicMessages('Task M: what broke the build?', outs, 2);
    await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages });
    await h.waitForOutcomes(1);
    const sent = messageSlices(Buffer.from(JSON.stringify({ messages })));
    const fwd = messageSlices(h.mock.last!.body);
    for (const i of [0, 1, 2, 3, 5]) expect(fwd[i]!.equals(sent[i]!), `message ${i}`).toBe(true);
    // after the last breakpoint: the earlier turn (never seen) and the newest one
    for (const i of [4, 6]) expect(fwd[i]!.length, `message ${i}`).toBeLessThan(sent[i]!.length / 2);
  });

  it('Anthropic, two conversations sharing a big tool output: neither one\'s earlier bytes change between its turns', async () => {
    const client = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0 });
    const shared = { name: 'search', text: generateOutput('search_json', 40_000, 71).text };
    const logA = generateOutput('logs_json', 30_000, 72).text;
    const grepA = generateOutput('grep', 20_000, 73).text;
    const logB = generateOutput('service_log', 20_000, 74).text;
    const send = (messages: Anthropic.MessageParam[]) => client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages });

    // A moved onto the proxy mid-way: the shared output is history under its breakpoint
    const a1 = [{ ...shared, id: 'toolu_a1' }, { id: 'toolu_a2', name: 'logs', text: logA }];
    await send(anthropicMessages('Task A: payment errors', a1, 'last'));
    // B gets the same output as its newest input
    const b1 = [{ ...shared, id: 'toolu_b1' }];
    await send(anthropicMessages('Task B: refund errors', b1, 'last'));
    const a2 = [...a1, { id: 'toolu_a3', name: 'grep', text: grepA }];
    await send(anthropicMessages('Task A: payment errors', a2, 'last'));
    const b2 = [...b1, { id: 'toolu_b2', name: 'logs', text: logB }];
    await send(anthropicMessages('Task B: refund errors', b2, 'last'));
    await h.waitForOutcomes(4);

    const a = bodiesOf(h, 'Task A:');
    const b = bodiesOf(h, 'Task B:');
    expect(a).toHaveLength(2);
    expect(b).toHaveLength(2);
    expect(prefixReport(a)).toMatchObject({ historyChanges: 0, shrunk: 0 });
    expect(prefixReport(b)).toMatchObject({ historyChanges: 0, shrunk: 0 });
    // A's first request forwarded its cached history as sent; the same content is forwarded as
    // the same bytes everywhere, so B's copy was left as it is too (decisions are per content)
    const sentA = messageSlices(Buffer.from(JSON.stringify({ messages: anthropicMessages('Task A: payment errors', a1, 'last') })));
    expect(messageSlices(a[0]!)[2]!.equals(sentA[2]!)).toBe(true);
    const sharedIn = (body: Buffer, i: number) => ((JSON.parse(messageSlices(body)[i]!.toString()) as Json).content as Json[])[0]!.content;
    expect(sharedIn(b[0]!, 2)).toBe(shared.text);
    // A's newest output was compressed, as ever
    expect(messageSlices(a[0]!)[4]!.length).toBeLessThan(sentA[4]!.length / 3);
  });

  it('OpenAI chat, two conversations sharing a big tool output: compressed once, the same bytes in both, no earlier bytes change', async () => {
    const client = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const shared = { name: 'search', text: generateOutput('search_json', 40_000, 81).text };
    const logA = generateOutput('logs_json', 30_000, 82).text;
    const grepA = generateOutput('grep', 20_000, 83).text;
    const logB = generateOutput('service_log', 20_000, 84).text;
    const send = (messages: OpenAI.ChatCompletionMessageParam[]) => client.chat.completions.create({ model: 'gpt-4o', messages });

    // A moved onto the proxy mid-way with the shared output in its history, then asks a question
    const a1 = [{ ...shared, id: 'call_a1' }, { id: 'call_a2', name: 'logs', text: logA }];
    await send(chatMessages('Agent A.', a1, 'What is the root cause?'));
    const [oA] = await h.waitForOutcomes(1);
    // cold history under automatic caching is priced like replayed history (the provider may have held it)
    expect(oA!.ext.placement!.replayed.auto).toBeGreaterThan(0);
    const b1 = [{ ...shared, id: 'call_b1' }];
    await send(chatMessages('Agent B.', b1));
    // A's next turn: the model answered the question with another call
    const a2 = [...chatMessages('Agent A.', a1, 'What is the root cause?'), ...chatMessages('Agent A.', [{ id: 'call_a3', name: 'grep', text: grepA }]).slice(2)];
    await send(a2);
    const b2 = [...b1, { id: 'call_b2', name: 'logs', text: logB }];
    await send(chatMessages('Agent B.', b2));
    await h.waitForOutcomes(4);

    const a = bodiesOf(h, 'Agent A.');
    const b = bodiesOf(h, 'Agent B.');
    expect(prefixReport(a)).toMatchObject({ requests: 2, historyChanges: 0, shrunk: 0 });
    expect(prefixReport(b)).toMatchObject({ requests: 2, historyChanges: 0, shrunk: 0 });
    const toolText = (body: Buffer, i: number) => (JSON.parse(messageSlices(body)[i]!.toString()) as Json).content as string;
    // compressed at first sight in A's history, and the same bytes as B's newest input
    expect(toolText(a[0]!, 3).length).toBeLessThan(shared.text.length / 3);
    expect(toolText(b[0]!, 3)).toBe(toolText(a[0]!, 3));
  });
});
