/**
 * The live zone through the real proxy: everything the client added since the model last
 * spoke is compressed (tool results followed by more user text included), history a provider
 * cache may hold (Anthropic, before a breakpoint) reaches the upstream byte for byte, history
 * no cache can hold that the proxy never saw is compressed once, and tool pairing, ids,
 * `is_error` and inputs never change. Headroom's needle and SRE requests (shared corpus),
 * sent as one request each, are compressed with every evidence string kept.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { findMarkers } from '../src/compress/markers.js';
import { generateOutput } from '../src/mock/agent-outputs.js';
import { caseBody, corpusDir, loadCase, missingEvidence } from './helpers/corpus.js';
import { messageSlices } from './helpers/bodies.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';

type Json = Record<string, unknown>;

const LOG = generateOutput('logs_json', 30_000, 21);
const SEARCH = generateOutput('search_json', 30_000, 22);
const BUILD = generateOutput('build_log', 20_000, 23);
// decisions are kept per content across conversations: the Anthropic test's frozen build log is its own
const FROZEN_BUILD = generateOutput('build_log', 20_000, 24);

/** Every string in a JSON value, joined: what the model reads. */
function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) strings(x, out);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) strings(x, out);
  return out;
}

describe('live zone through the proxy', () => {
  let h: Harness;
  beforeAll(async () => {
    // what is compressed is under test, not the time budget (a loaded machine can spend 500 ms)
    h = await startHarness({ config: { compressionBudgetMs: 60_000 } });
  });
  afterAll(() => h.close());
  beforeEach(() => h.reset());

  it('Anthropic: tool results followed by user text are compressed; earlier turns, ids, is_error and inputs are untouched', async () => {
    const client = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0 });
    const messages: Anthropic.MessageParam[] = [
      { role: 'user', content: 'Why is checkout failing?' },
      { role: 'assistant', content: [{ type: 'text', text: 'Reading the build.' }, { type: 'tool_use', id: 'toolu_old', name: 'sh', input: { cmd: 'make', n: 1.0 } }] },
      // history the proxy never saw, before the breakpoint (the provider may hold it): stays as sent
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_old', content: FROZEN_BUILD.text }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_logs', name: 'logs', input: { since: '1h' } }, { type: 'tool_use', id: 'toolu_search', name: 'search', input: { q: 'checkout' } }] },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_logs', content: LOG.text },
          { type: 'tool_result', tool_use_id: 'toolu_search', content: [{ type: 'text', text: SEARCH.text }], is_error: false },
        ],
      },
      { role: 'user', content: [{ type: 'text', text: 'Focus on the payment errors, please.', cache_control: { type: 'ephemeral' } }] },
    ];
    await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 256, tools: [{ name: 'logs', input_schema: { type: 'object' } }], messages });
    const [o] = await h.waitForOutcomes(1);
    const sent = Buffer.from(JSON.stringify(messages));
    const fwd = h.mock.last!;
    expect(o!.modified).toBe(true);
    const before = messageSlices(Buffer.from(`{"messages":${sent.toString()}}`));
    const after = messageSlices(fwd.body);
    expect(after).toHaveLength(6);
    for (const i of [0, 1, 2, 3, 5]) expect(after[i]!.equals(before[i]!), `message ${i}`).toBe(true);
    const live = (fwd.json!.messages as Json[])[4]!.content as Json[];
    expect(live.map((b) => [b.type, b.tool_use_id, b.is_error])).toEqual([['tool_result', 'toolu_logs', undefined], ['tool_result', 'toolu_search', false]]);
    const logText = live[0]!.content as string;
    const searchText = ((live[1]!.content as Json[])[0] as Json).text as string;
    expect(logText.length).toBeLessThan(LOG.text.length / 3);
    expect(searchText.length).toBeLessThan(SEARCH.text.length / 3);
    for (const n of [...LOG.needles, ...SEARCH.needles]) expect(`${logText}\n${searchText}`).toContain(n);
    expect(findMarkers(logText)).toHaveLength(1);
    expect(o!.tools.results).toBe(2);
    // new input this turn: the two tool results and the user text
    expect(o!.compression.newInputTokens).toBeGreaterThan(o!.compression.tokensSaved);
  });

  it('OpenAI chat: tool messages followed by a user message are compressed; an earlier tool turn never seen is compressed once', async () => {
    const client = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'system', content: 'You are an SRE agent.' },
      { role: 'user', content: 'Investigate the 500s.' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_old', type: 'function', function: { name: 'build', arguments: '{"target":"all"}' } }] },
      { role: 'tool', tool_call_id: 'call_old', content: BUILD.text },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_logs', type: 'function', function: { name: 'logs', arguments: '{"since": "1h"}' } }] },
      { role: 'tool', tool_call_id: 'call_logs', content: LOG.text },
      { role: 'user', content: 'What is the root cause?' },
    ];
    await client.chat.completions.create({ model: 'gpt-4o', messages, tools: [{ type: 'function', function: { name: 'logs', parameters: { type: 'object' } } }] });
    const [o] = await h.waitForOutcomes(1);
    const before = messageSlices(Buffer.from(JSON.stringify({ messages })));
    const after = messageSlices(h.mock.last!.body);
    for (const i of [0, 1, 2, 4, 6]) expect(after[i]!.equals(before[i]!), `message ${i}`).toBe(true);
    expect(after[3]!.length).toBeLessThan(before[3]!.length / 2);
    const tool = (h.mock.last!.json!.messages as Json[])[5]!;
    expect(tool.tool_call_id).toBe('call_logs');
    expect((tool.content as string).length).toBeLessThan(LOG.text.length / 3);
    for (const n of LOG.needles) expect(tool.content).toContain(n);
    expect(o!.tools.results).toBe(1);
  });

  it('OpenAI Responses: function_call_output items followed by a user message are compressed', async () => {
    const client = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const input: OpenAI.Responses.ResponseInputItem[] = [
      { type: 'message', role: 'user', content: 'Investigate the 500s.' },
      { type: 'function_call', call_id: 'call_old', name: 'build', arguments: '{}' },
      { type: 'function_call_output', call_id: 'call_old', output: BUILD.text },
      { type: 'function_call', call_id: 'call_logs', name: 'logs', arguments: '{}' },
      { type: 'function_call_output', call_id: 'call_logs', output: LOG.text },
      { type: 'message', role: 'user', content: 'What is the root cause?' },
    ];
    await client.responses.create({ model: 'gpt-5', input, tools: [{ type: 'function', name: 'logs', parameters: { type: 'object' }, strict: false }] });
    const [o] = await h.waitForOutcomes(1);
    const before = messageSlices(Buffer.from(JSON.stringify({ input })), 'input');
    const after = messageSlices(h.mock.last!.body, 'input');
    for (const i of [0, 1, 3, 5]) expect(after[i]!.equals(before[i]!), `item ${i}`).toBe(true);
    // the earlier output, never seen: compressed once (no breakpoints: nothing says it is cached)
    expect(after[2]!.length).toBeLessThan(before[2]!.length / 2);
    const out = (h.mock.last!.json!.input as Json[])[4]!;
    expect(out.call_id).toBe('call_logs');
    expect((out.output as string).length).toBeLessThan(LOG.text.length / 3);
    expect(o!.tools.results).toBe(1);
  });

  const dir = corpusDir();
  describe.skipIf(!dir)("Headroom's benchmark requests (shared corpus)", () => {
    const send = async (id: string) => {
      const c = loadCase(dir!, id);
      const body = Buffer.from(JSON.stringify(caseBody(c)));
      const path = c.format === 'anthropic' ? '/v1/messages' : '/v1/chat/completions';
      const headers: Record<string, string> = c.format === 'anthropic'
        ? { 'x-api-key': FAKE_ANTHROPIC_KEY, 'anthropic-version': '2023-06-01' }
        : { authorization: `Bearer ${FAKE_OPENAI_KEY}` };
      const res = await fetch(`${h.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      expect(res.status).toBe(200);
      const [o] = await h.waitForOutcomes(1);
      const fwd = h.mock.last!;
      const sentMessages = Buffer.byteLength(JSON.stringify(c.messages));
      const fwdMessages = Buffer.byteLength(JSON.stringify(fwd.json!.messages));
      console.log(`${id}: body ${body.length} -> ${fwd.body.length} bytes; messages ${sentMessages} -> ${fwdMessages} bytes; tokens ${o!.compression.tokensBefore} -> ${o!.compression.tokensAfter}`);
      return { c, o: o!, fwd, sentMessages, fwdMessages, missing: missingEvidence(c, strings(fwd.json!.messages).join('\n')) };
    };
    // tool pairing: every message keeps its role, ids and calls, in order
    const pairing = (m: Json[]) => m.map((x) => [x.role, x.tool_call_id ?? null, JSON.stringify(x.tool_calls ?? null), Array.isArray(x.content) ? (x.content as Json[]).map((b) => [b.type, b.id ?? b.tool_use_id ?? null, JSON.stringify(b.input ?? null), b.is_error ?? null]) : null]);

    it('hr_needle_67_of_100 (tool result, then the question): compressed, every evidence string kept', async () => {
      const { c, o, fwd, sentMessages, fwdMessages, missing } = await send('hr_needle_67_of_100');
      expect(missing).toEqual([]);
      expect(fwdMessages).toBeLessThan(sentMessages * 0.3);
      expect(o.compression.tokensSaved).toBeGreaterThan(o.compression.tokensBefore * 0.7);
      expect(pairing(fwd.json!.messages as Json[])).toEqual(pairing(c.messages));
    });

    it('hr_sre_seed1 (three tool turns, then the question): every tool turn is compressed, every evidence string kept', async () => {
      const { c, o, fwd, sentMessages, fwdMessages, missing } = await send('hr_sre_seed1');
      // messages after the last assistant message are new (the code search, the question); the
      // two earlier tool turns are history the proxy never saw that no cache can hold (OpenAI,
      // and no decision recorded): compressed at first sight
      const before = messageSlices(Buffer.from(JSON.stringify({ messages: c.messages })));
      const after = messageSlices(fwd.body);
      for (const i of [0, 1, 2, 4, 6, 8]) expect(after[i]!.equals(before[i]!), `message ${i}`).toBe(true);
      for (const i of [3, 5, 7]) expect(after[i]!.length, `message ${i}`).toBeLessThan(before[i]!.length / 4);
      expect(fwdMessages).toBeLessThan(sentMessages * 0.15);
      expect(o.compression.tokensSaved).toBeGreaterThan(o.compression.tokensBefore * 0.85);
      expect(pairing(fwd.json!.messages as Json[])).toEqual(pairing(c.messages));
      expect(missing).toEqual([]);
    });
  });
});
