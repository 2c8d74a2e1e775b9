/**
 * The resolution codecs on synthetic streams: what the client sees (renumbered, retrieve
 * calls held back) and the follow-up body (the model's turn rebuilt from the stream, thinking
 * signatures included, then the answers), without a network.
 */
import { describe, expect, it } from 'vitest';
import { AnthropicCodec } from '../src/capabilities/ccr/resolve/anthropic.js';
import { ChatCodec } from '../src/capabilities/ccr/resolve/chat.js';
import { SseFrames as FrameSplitter } from '../src/providers/sse.js';
import type { Codec } from '../src/capabilities/ccr/resolve/types.js';

type Json = Record<string, unknown>;
const ev = (event: string | null, data: unknown) => `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;

function feed(codec: Codec, text: string, chunkSize = 7): string {
  const out: string[] = [];
  const split = new FrameSplitter();
  const buf = Buffer.from(text);
  for (let i = 0; i < buf.length; i += chunkSize) split.push(buf.subarray(i, i + chunkSize), (f) => codec.frame(f, { push: (b) => void out.push(b.toString()) }));
  split.end((f) => codec.frame(f, { push: (b) => void out.push(b.toString()) }));
  return out.join('');
}

const dataOf = (sse: string): Json[] => sse.split('\n').filter((l) => l.startsWith('data: ') && l !== 'data: [DONE]').map((l) => JSON.parse(l.slice(6)) as Json);

describe('Anthropic codec', () => {
  const round0 = [
    ev('message_start', { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', content: [], usage: { input_tokens: 100, output_tokens: 1 } } }),
    ev('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } }),
    ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'I need the ' } }),
    ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'full rows.' } }),
    ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig==' } }),
    ev('content_block_stop', { type: 'content_block_stop', index: 0 }),
    ev('content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_r', name: 'headroom_retrieve', input: {} } }),
    ev('content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"hash":"0123' } }),
    ev('content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '456789ab0123456789ab"}' } }),
    ev('content_block_stop', { type: 'content_block_stop', index: 1 }),
    ev('message_delta', { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 40 } }),
    ev('message_stop', { type: 'message_stop' }),
  ].join('');
  const round1 = [
    ev('message_start', { type: 'message_start', message: { id: 'msg_2', usage: { input_tokens: 900, cache_read_input_tokens: 100, output_tokens: 1 } } }),
    ev('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
    ev('ping', { type: 'ping' }),
    ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Row 7 failed.' } }),
    ev('content_block_stop', { type: 'content_block_stop', index: 0 }),
    ev('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 12 } }),
    ev('message_stop', { type: 'message_stop' }),
  ].join('');

  it('holds the retrieve call, rebuilds the model turn for the follow-up, continues with consecutive indexes and summed usage', () => {
    const c = new AnthropicCodec();
    c.startRound(0);
    const out0 = feed(c, round0);
    const s0 = c.endStreamRound();
    expect(s0).toMatchObject({ complete: true, errored: false, otherCalls: 0 });
    expect(s0.retrieveCalls).toEqual([{ id: 'toolu_r', args: { hash: '0123456789ab0123456789ab' } }]);
    expect(out0).not.toContain('headroom_retrieve');
    expect(out0).not.toContain('message_stop');
    const body = Buffer.from('{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true}');
    const next = JSON.parse(c.followUp(body, [{ id: 'toolu_r', text: 'ORIGINAL', isError: false }]).toString()) as Json;
    const msgs = next.messages as Json[];
    expect(msgs[1]).toEqual({
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'I need the full rows.', signature: 'sig==' },
        { type: 'tool_use', id: 'toolu_r', name: 'headroom_retrieve', input: { hash: '0123456789ab0123456789ab' } },
      ],
    });
    expect(msgs[2]).toEqual({ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_r', content: 'ORIGINAL' }] });
    expect(next.stream).toBe(true);

    c.startRound(1);
    const out1 = feed(c, round1, 11);
    expect(c.endStreamRound().retrieveCalls).toEqual([]);
    const tail: string[] = [];
    c.finishStream({ push: (b) => void tail.push(b.toString()) }, { rounds: 1, dropLast: false });
    const all = dataOf(out0 + out1 + tail.join(''));
    expect(all.filter((d) => d.type === 'message_start')).toHaveLength(1);
    expect(all.filter((d) => d.type === 'content_block_start').map((d) => d.index)).toEqual([0, 1]);
    const last = all.filter((d) => d.type === 'message_delta');
    expect(last).toHaveLength(1);
    expect(last[0]).toMatchObject({ delta: { stop_reason: 'end_turn' }, usage: { input_tokens: 1000, cache_read_input_tokens: 100, output_tokens: 52 } });
    expect(all[all.length - 1]!.type).toBe('message_stop');
  });

  it('round 0 without a retrieve call passes through byte for byte', () => {
    const c = new AnthropicCodec();
    c.startRound(0);
    const out = feed(c, round1, 5);
    c.endStreamRound();
    const tail: string[] = [];
    c.finishStream({ push: (b) => void tail.push(b.toString()) }, { rounds: 0, dropLast: false });
    expect(out + tail.join('')).toBe(round1);
  });
});

describe('Chat codec', () => {
  const chunk = (choices: unknown[], extra: Json = {}) => ev(null, { id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'gpt', choices, ...extra });
  it('removes the retrieve call and renumbers the client call in a mixed turn', () => {
    const c = new ChatCodec();
    c.startRound(0);
    const text = [
      chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]),
      chunk([{ index: 0, delta: { tool_calls: [{ index: 0, id: 'r1', type: 'function', function: { name: 'headroom_retrieve', arguments: '' } }] }, finish_reason: null }]),
      chunk([{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"hash":"x"}' } }] }, finish_reason: null }]),
      chunk([{ index: 0, delta: { tool_calls: [{ index: 1, id: 'c2', type: 'function', function: { name: 'search', arguments: '{}' } }] }, finish_reason: null }]),
      chunk([{ index: 0, delta: {}, finish_reason: 'tool_calls' }]),
      ev(null, '[DONE]'),
    ].join('');
    const out = feed(c, text, 13);
    const s = c.endStreamRound();
    expect(s).toMatchObject({ complete: true, otherCalls: 1 });
    expect(s.retrieveCalls).toEqual([{ id: 'r1', args: '{"hash":"x"}' }]);
    const tail: string[] = [];
    c.finishStream({ push: (b) => void tail.push(b.toString()) }, { rounds: 0, dropLast: true });
    const all = dataOf(out + tail.join(''));
    const calls = all.flatMap((d) => ((d.choices as Json[])[0]?.delta as Json | undefined)?.tool_calls as Json[] ?? []);
    expect(calls).toEqual([{ index: 0, id: 'c2', type: 'function', function: { name: 'search', arguments: '{}' } }]);
    expect((all[all.length - 1]!.choices as Json[])[0]).toMatchObject({ finish_reason: 'tool_calls' });
    expect(tail.join('')).toContain('data: [DONE]');
  });
});
