import { describe, expect, it } from 'vitest';
import { compressRequest, type EngineInput, type ReplayDecision } from '../src/compress/engine.js';
import { contentHash } from '../src/compress/hash.js';
import { findMarkers } from '../src/compress/markers.js';
import { DEFAULT_SETTINGS, resolveSettings } from '../src/compress/options.js';
import { generateOutput } from '../src/mock/agent-outputs.js';
import { anthropicToolTurn, messageSlices } from './helpers/bodies.js';

const LOG = generateOutput('service_log', 30_000, 11);
const JSON_OUT = generateOutput('search_json', 40_000, 12);
const GREP = generateOutput('grep', 30_000, 13);

function run(body: unknown, api: EngineInput['api'], extra: Partial<EngineInput> = {}) {
  const buf = Buffer.from(JSON.stringify(body));
  return { buf, r: compressRequest({ body: buf, api, model: 'claude-sonnet-4-5', settings: { ...DEFAULT_SETTINGS }, scope: 'live', ...extra }) };
}

function mapReplay(writes: { key: string; compressed: string | null }[]) {
  const m = new Map<string, ReplayDecision>(writes.map((w) => [w.key, { compressed: w.compressed }]));
  return { get: (k: string) => m.get(k), map: m };
}

describe('engine: Anthropic Messages live zone', () => {
  const history = [
    { role: 'user', content: 'Check the service logs please.' },
    { role: 'assistant', content: [{ type: 'thinking', thinking: 'I should read logs.', signature: 'sig-abc==' }, { type: 'tool_use', id: 'toolu_1', name: 'bash', input: { cmd: 'cat log' } }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: LOG.text }] },
    { role: 'assistant', content: [{ type: 'text', text: 'Now the search.' }, { type: 'tool_use', id: 'toolu_2', name: 'search', input: { q: 'doc' } }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_2', content: JSON_OUT.text, cache_control: { type: 'ephemeral' } }] },
  ];
  const body = {
    model: 'claude-sonnet-4-5',
    max_tokens: 1024,
    system: [{ type: 'text', text: 'You are an agent. '.repeat(100), cache_control: { type: 'ephemeral' } }],
    tools: [{ name: 'bash', description: 'run', input_schema: { type: 'object' } }],
    messages: history,
  };

  it('compresses only the newest user turn and keeps every other byte', () => {
    const { buf, r } = run(body, 'messages');
    expect(r.body).not.toBeNull();
    const before = messageSlices(buf);
    const after = messageSlices(r.body!);
    expect(after).toHaveLength(5);
    for (let i = 0; i < 4; i++) expect(after[i]!.equals(before[i]!), `message ${i}`).toBe(true);
    const last = JSON.parse(after[4]!.toString());
    expect(last.content[0].cache_control).toEqual({ type: 'ephemeral' });
    expect(last.content[0].tool_use_id).toBe('toolu_2');
    expect(last.content[0].content.length).toBeLessThan(JSON_OUT.text.length / 5);
    // everything before the messages array (model, system, tools) is byte-identical
    const head = buf.indexOf('"messages"');
    expect(r.body!.subarray(0, head).equals(buf.subarray(0, head))).toBe(true);
    expect(r.transforms).toEqual(['json_crusher']);
    // history before the breakpoint the provider may hold: left as it is, and recorded
    expect(r.slots.find((s) => s.messageIndex === 2)!.reason).toBe('cached_history');
    expect(r.replayWrites).toContainEqual({ key: contentHash(LOG.text), compressed: null });
  });

  it('returns the original of the cut under the hash its marker carries', () => {
    const { r } = run(body, 'messages');
    expect(r.ccr).toHaveLength(1);
    const e = r.ccr[0]!;
    expect(e.hash).toBe(contentHash(JSON_OUT.text));
    expect(e.original).toBe(JSON_OUT.text);
    expect(e.toolName).toBe('search');
    const out = JSON.parse(r.body!.toString()).messages[4].content[0].content as string;
    expect(findMarkers(out).map((m) => m.hash)).toEqual([e.hash]);
    expect(e.keptItems).toBeLessThan(e.originalItems);
  });

  it('accounts tokens: saved = before - after, live zone counted as new input', () => {
    const { r } = run(body, 'messages');
    expect(r.tokensSaved).toBeGreaterThan(0);
    expect(r.tokensAfter).toBe(r.tokensBefore - r.tokensSaved);
    expect(r.newInputTokens).toBeGreaterThan(r.tokensSaved);
    expect(r.newInputTokens).toBeLessThan(r.tokensBefore);
  });

  it('replays earlier decisions for history so the forwarded prefix stays identical', () => {
    const turn1 = run(body, 'messages');
    const replay = mapReplay(turn1.r.replayWrites);
    const next = {
      ...body,
      messages: [...history, ...anthropicToolTurn('toolu_3', 'rg', GREP.text)],
    };
    const turn2 = run(next, 'messages', { replay });
    const fwd1 = messageSlices(turn1.r.body!);
    const fwd2 = messageSlices(turn2.r.body!);
    for (let i = 0; i < fwd1.length; i++) expect(fwd2[i]!.equals(fwd1[i]!), `message ${i}`).toBe(true);
    expect(turn2.r.transforms).toEqual(['replay', 'search_compressor']);
    // replayed cuts re-offer their originals to the store
    expect(turn2.r.ccr.map((e) => [e.hash, e.replayed])).toEqual([[contentHash(JSON_OUT.text), true], [contentHash(GREP.text), false]]);
  });

  it('records "left as is" decisions too, so content forwarded uncompressed stays uncompressed', () => {
    const msgs = [{ role: 'user', content: 'go' }, ...anthropicToolTurn('t1', 'Read', JSON_OUT.text)];
    const { r } = run({ model: 'm', messages: msgs }, 'messages');
    expect(r.body).toBeNull();
    expect(r.replayWrites).toEqual([{ key: contentHash(JSON_OUT.text), compressed: null }]);
    expect(r.slots.at(-1)!.reason).toBe('excluded_tool');
    // the same content later appears under a compressible tool: the earlier decision wins
    const replay = mapReplay(r.replayWrites);
    const later = [...msgs, ...anthropicToolTurn('t2', 'search', JSON_OUT.text)];
    const again = run({ model: 'm', messages: later }, 'messages', { replay });
    expect(again.r.body).toBeNull();
  });

  it('the live zone is every message after the last assistant message: tool results, then user text', () => {
    const msgs = [
      { role: 'user', content: 'Check the logs.' },
      ...anthropicToolTurn('t0', 'bash', GREP.text),
      { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'logs', input: { a: 1 } }, { type: 'tool_use', id: 't2', name: 'search', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: LOG.text, is_error: false }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't2', content: JSON_OUT.text }, { type: 'text', text: 'Which request failed first?' }] },
    ];
    const { buf, r } = run({ model: 'm', messages: msgs }, 'messages');
    expect(r.slots.map((s) => [s.messageIndex, s.live, s.outcome, s.reason])).toEqual([
      [0, false, 'unchanged', 'below_floor'],
      // cold history without a breakpoint (no cache can hold it): compressed at first sight
      [2, false, 'compressed', null],
      [4, true, 'compressed', null],
      [5, true, 'compressed', null],
      [5, true, 'unchanged', 'below_floor'],
    ]);
    const a = messageSlices(buf);
    const b = messageSlices(r.body!);
    for (const i of [0, 1, 3]) expect(b[i]!.equals(a[i]!), `message ${i}`).toBe(true);
    const m4 = JSON.parse(b[4]!.toString());
    expect(m4.content[0]).toMatchObject({ type: 'tool_result', tool_use_id: 't1', is_error: false });
    const liveSaved = r.slots.filter((s) => s.live).reduce((a, s) => a + s.tokensBefore - s.tokensAfter, 0);
    expect(r.newInputTokens).toBeGreaterThan(liveSaved);
    // the question (the user's latest text) steers relevance; the live zone is taken first
    expect(r.ccr.map((e) => e.toolName)).toEqual(['logs', 'search', 'bash']);
  });

  it('a trailing assistant message is a prefill: the messages before it stay live', () => {
    const msgs = [...anthropicToolTurn('t1', 'search', JSON_OUT.text), { role: 'assistant', content: 'The first failing row is' }];
    const { r } = run({ model: 'm', messages: msgs }, 'messages');
    expect(r.slots.find((s) => s.messageIndex === 1)).toMatchObject({ live: true, outcome: 'compressed' });
  });

  it('freezes the newest user turn when a later message carries a cache breakpoint', () => {
    const msgs = [
      ...anthropicToolTurn('t1', 'search', JSON_OUT.text),
      { role: 'assistant', content: [{ type: 'text', text: 'Prefill', cache_control: { type: 'ephemeral' } }] },
    ];
    const { r } = run({ model: 'm', messages: msgs }, 'messages');
    expect(r.body).toBeNull();
    expect(r.newInputTokens).toBe(0);
  });

  it('never touches thinking, images, tool_use input or is_error results; pins marked content', () => {
    const marked = `${JSON_OUT.text}\n[headroom: 1 of 2 rows shown (abbreviated); the full original is intact, call headroom_retrieve with hash=${contentHash('x')} to read it]`;
    const errorOut = `Error: build failed\nTraceback: exception in worker\n${Array.from({ length: 80 }, (_, i) => `step ${i} compiled module number ${i}`).join('\n')}`;
    const msgs = [
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: [{ type: 'redacted_thinking', data: 'AAAA' }, { type: 'tool_use', id: 'a', name: 'search', input: { big: JSON_OUT.text } }, { type: 'tool_use', id: 'b', name: 'sh', input: {} }, { type: 'tool_use', id: 'c', name: 'headroom_retrieve', input: { hash: 'x' } }] },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'a', content: marked },
          { type: 'tool_result', tool_use_id: 'b', content: errorOut, is_error: true },
          { type: 'tool_result', tool_use_id: 'c', content: JSON_OUT.text },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBOR'.repeat(500) } },
        ],
      },
    ];
    const { r } = run({ model: 'm', messages: msgs }, 'messages');
    expect(r.body).toBeNull();
    expect(r.slots.map((s) => s.reason)).toEqual(['below_floor', 'pinned', 'error_output', 'retrieve_result']);
  });

  it('compresses tool_result text parts and leaves user text unless asked', () => {
    const msgs = [
      { role: 'user', content: [{ type: 'text', text: JSON_OUT.text }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'a', name: 'sh', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'a', content: [{ type: 'text', text: LOG.text }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'x' } }] }, { type: 'text', text: GREP.text }] },
    ];
    const a = run({ model: 'm', messages: msgs }, 'messages');
    expect(a.r.slots.map((s) => [s.messageIndex, s.outcome, s.reason])).toEqual([[0, 'unchanged', 'user_message'], [2, 'compressed', null], [2, 'unchanged', 'user_message']]);
    const b = run({ model: 'm', messages: msgs }, 'messages', { settings: resolveSettings({ compress_user_messages: true }) });
    // the first message is cold history (no breakpoint): compressed at first sight when user text may be
    expect(b.r.slots.map((s) => s.outcome)).toEqual(['compressed', 'compressed', 'compressed']);
  });
});

describe('engine: OpenAI Chat and Responses live zones', () => {
  it('chat: the trailing tool messages are live; earlier ones never seen are compressed once (cold history)', () => {
    const messages = [
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'look' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'logs', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: LOG.text },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c2', type: 'function', function: { name: 'search', arguments: '{"q":1}' } }, { id: 'c3', type: 'function', function: { name: 'Grep', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c2', content: JSON_OUT.text },
      { role: 'tool', tool_call_id: 'c3', content: GREP.text },
    ];
    const { buf, r } = run({ model: 'gpt-4o', messages }, 'chat', { model: 'gpt-4o' });
    expect(r.tokenizer).toBe('o200k_base');
    expect(r.slots.map((s) => [s.messageIndex, s.live, s.outcome, s.reason])).toEqual([
      [1, false, 'unchanged', 'below_floor'],
      [3, false, 'compressed', null],
      [5, true, 'compressed', null],
      [6, true, 'unchanged', 'excluded_tool'],
    ]);
    const a = messageSlices(buf);
    const b = messageSlices(r.body!);
    for (const i of [0, 1, 2, 4, 6]) expect(b[i]!.equals(a[i]!)).toBe(true);
    // every decision is recorded: the next turn replays the same bytes for message 3 too
    const next = [...messages, { role: 'assistant', content: 'Done.' }, { role: 'user', content: 'thanks' }];
    const again = run({ model: 'gpt-4o', messages: next }, 'chat', { model: 'gpt-4o', replay: mapReplay(r.replayWrites) });
    const c = messageSlices(again.r.body!);
    for (let i = 0; i < b.length; i++) expect(c[i]!.equals(b[i]!), `message ${i}`).toBe(true);
    expect(again.r.slots.filter((s) => s.outcome === 'compressed')).toEqual([]);
  });

  it("responses: outputs after the model's last item are live; retrieve outputs and reasoning are untouched", () => {
    const input = [
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'find the doc' }] },
      { type: 'reasoning', id: 'rs_1', encrypted_content: 'gAAAA'.repeat(300), summary: [] },
      { type: 'function_call', call_id: 'c1', name: 'search', arguments: '{}' },
      { type: 'function_call_output', call_id: 'c1', output: JSON_OUT.text },
      { type: 'function_call', call_id: 'c2', name: 'headroom_retrieve', arguments: '{"hash":"x"}' },
      { type: 'function_call', call_id: 'c3', name: 'shell', arguments: '{}' },
      { type: 'function_call_output', call_id: 'c2', output: LOG.text },
      { type: 'function_call_output', call_id: 'c3', output: LOG.text },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'and now?' }] },
    ];
    const { buf, r } = run({ model: 'gpt-5', input }, 'responses', { model: 'gpt-5' });
    // item 3 answers a call before the model's last turn: history the proxy never saw, compressed once
    expect(r.slots.map((s) => [s.messageIndex, s.outcome, s.reason])).toEqual([[0, 'unchanged', 'below_floor'], [3, 'compressed', null], [7, 'compressed', null], [8, 'unchanged', 'below_floor']]);
    const a = messageSlices(buf, 'input');
    const b = messageSlices(r.body!, 'input');
    for (const i of [0, 1, 2, 4, 5, 6, 8]) expect(b[i]!.equals(a[i]!)).toBe(true);
  });

  it('chat: tool messages followed by user messages are live, up to the last assistant message', () => {
    const messages = [
      { role: 'user', content: 'look' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'logs', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: LOG.text },
      { role: 'user', content: 'Focus on the errors.' },
      { role: 'user', content: [{ type: 'text', text: 'And the timeouts.' }] },
    ];
    const { r } = run({ model: 'gpt-4o', messages }, 'chat', { model: 'gpt-4o' });
    expect(r.slots.map((s) => [s.messageIndex, s.live, s.outcome])).toEqual([[0, false, 'unchanged'], [2, true, 'compressed'], [3, true, 'unchanged'], [4, true, 'unchanged']]);
  });
});

describe('engine: safety', () => {
  it('an exhausted time budget forwards live content unchanged and records it', () => {
    let t = 0;
    const { r } = run({ model: 'm', messages: anthropicToolTurn('a', 'search', JSON_OUT.text) }, 'messages', { clock: () => (t += 10), deadline: 5 });
    expect(r.body).toBeNull();
    expect(r.budgetExceeded).toBe(true);
    expect(r.replayWrites).toEqual([{ key: contentHash(JSON_OUT.text), compressed: null }]);
  });

  it('still replays history when the budget is exhausted', () => {
    const first = run({ model: 'm', messages: anthropicToolTurn('a', 'search', JSON_OUT.text) }, 'messages');
    let t = 0;
    const msgs = [...anthropicToolTurn('a', 'search', JSON_OUT.text), ...anthropicToolTurn('b', 'sh', LOG.text)];
    const { r } = run({ model: 'm', messages: msgs }, 'messages', { replay: mapReplay(first.r.replayWrites), clock: () => (t += 10), deadline: 5 });
    expect(r.slots.map((s) => s.outcome)).toEqual(['replayed', 'unchanged']);
  });

  it('forwards texts beyond every context window (over 4 MiB) as they are', () => {
    const huge = 'line of log output\n'.repeat(230_000);
    const { r } = run({ model: 'gpt-4o', messages: [{ role: 'tool', tool_call_id: 'c', content: huge }] }, 'chat');
    expect(r.body).toBeNull();
    expect(r.slots[0]!.reason).toBe('too_large');
  });

  it('leaves a request with nothing to compress as it is', () => {
    const { r } = run({ model: 'm', messages: [{ role: 'user', content: 'hello' }] }, 'messages');
    expect(r.body).toBeNull();
    expect(r.tokensSaved).toBe(0);
    expect(r.tokensAfter).toBe(r.tokensBefore);
  });

  it('accepts smaller lossy gains when the request fills most of the context window', () => {
    const prose = generateOutput('prose', 30_000, 14);
    const msgs = [{ role: 'user', content: prose.query }, ...anthropicToolTurn('a', 'fetch', prose.text)];
    const settings = resolveSettings({ target_ratio: 0.74 });
    const roomy = run({ model: 'm', messages: msgs }, 'messages', { settings, contextWindow: 10_000_000 });
    expect(roomy.r.slots.at(-1)!.reason).toBe('not_smaller');
    const full = run({ model: 'm', messages: msgs }, 'messages', { settings, contextWindow: 5_000 });
    expect(full.r.slots.at(-1), JSON.stringify(full.r.slots.at(-1))).toMatchObject({ outcome: 'compressed' });
  });

  it('is deterministic for the same body and settings', () => {
    const msgs = [{ role: 'user', content: 'find REQ-1 in logs' }, ...anthropicToolTurn('a', 'sh', LOG.text)];
    const a = run({ model: 'm', messages: msgs }, 'messages').r.body!;
    const b = run({ model: 'm', messages: msgs }, 'messages').r.body!;
    expect(a.equals(b)).toBe(true);
  });
});
