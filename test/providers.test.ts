import { describe, expect, it } from 'vitest';
import { anthropicMessages } from '../src/providers/anthropic.js';
import { openaiChat, openaiResponses } from '../src/providers/openai.js';
import { SseParser } from '../src/providers/sse.js';
import { backoffMs, delayForStatus, retryAfterMs } from '../src/proxy/retry.js';

const frames = (pairs: [string | null, unknown][]) => pairs.map(([e, d]) => `${e ? `event: ${e}\n` : ''}data: ${typeof d === 'string' ? d : JSON.stringify(d)}\n\n`).join('');

/** Feeds text in awkward pieces, including splits inside multi-byte characters. */
function feed(push: (b: Buffer) => void, text: string, size = 7) {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) push(bytes.subarray(i, i + size));
}

describe('SseParser', () => {
  it('handles CRLF, comments, multi-line data and chunk splits inside characters', () => {
    const got: [string, string][] = [];
    const p = new SseParser((e, d) => got.push([e, d]));
    feed((b) => p.push(b), ': keepalive\r\nevent: a\r\ndata: é😀\r\n\r\ndata: line1\ndata: line2\n\nid: 3\nretry: 10\ndata: x\n\n', 3);
    p.end();
    expect(got).toEqual([['a', 'é😀'], ['message', 'line1\nline2'], ['message', 'x']]);
  });

  it('flushes a trailing event without a blank line at end()', () => {
    const got: string[] = [];
    const p = new SseParser((_e, d) => got.push(d));
    p.push(Buffer.from('data: tail'));
    p.end();
    expect(got).toEqual(['tail']);
  });
});

describe('usage extraction', () => {
  it('Anthropic stream: message_start + cumulative message_delta, TTL buckets', () => {
    const o = anthropicMessages.streamObserver();
    feed((b) => o.push(b), frames([
      ['message_start', { type: 'message_start', message: { model: 'claude-opus-5-5', usage: { input_tokens: 12, cache_read_input_tokens: 1000, cache_creation_input_tokens: 300, cache_creation: { ephemeral_5m_input_tokens: 100, ephemeral_1h_input_tokens: 200 }, output_tokens: 1 } } }],
      ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 't', name: 'x', input: {} } }],
      ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{}' } }],
      ['message_delta', { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 57 } }],
      ['message_stop', { type: 'message_stop' }],
    ]));
    const f = o.end();
    expect(f.usage).toEqual({ input: 1312, output: 57, uncached: 12, cacheRead: 1000, cacheWrite: 300, cacheWrite5m: 100, cacheWrite1h: 200, reasoning: 0, source: 'sse' });
    expect(f).toMatchObject({ model: 'claude-opus-5-5', finishReason: 'tool_use', toolCalls: 1, complete: true, streamError: null });
  });

  it('Anthropic JSON without a TTL breakdown counts cache writes as 5m', () => {
    const f = anthropicMessages.factsFromJson({ model: 'm', stop_reason: 'end_turn', content: [], usage: { input_tokens: 5, output_tokens: 2, cache_creation_input_tokens: 40, cache_read_input_tokens: 0 } });
    expect(f.usage).toMatchObject({ input: 45, cacheWrite: 40, cacheWrite5m: 40, cacheWrite1h: 0 });
  });

  it('OpenAI chat stream: usage from the final chunk; cached tokens are part of input', () => {
    const o = openaiChat.streamObserver();
    feed((b) => o.push(b), frames([
      [null, { model: 'gpt-4o-2024', choices: [{ index: 0, delta: { role: 'assistant' }, finish_reason: null }] }],
      [null, { model: 'gpt-4o-2024', choices: [{ index: 0, delta: { content: 'hi' }, finish_reason: null }] }],
      [null, { model: 'gpt-4o-2024', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }],
      [null, { model: 'gpt-4o-2024', choices: [], usage: { prompt_tokens: 2000, completion_tokens: 9, prompt_tokens_details: { cached_tokens: 1536 }, completion_tokens_details: { reasoning_tokens: 4 } } }],
      [null, '[DONE]'],
    ]));
    const f = o.end();
    expect(f.usage).toEqual({ input: 2000, output: 9, uncached: 464, cacheRead: 1536, cacheWrite: 0, cacheWrite5m: 0, cacheWrite1h: 0, reasoning: 4, source: 'sse' });
    expect(f).toMatchObject({ model: 'gpt-4o-2024', finishReason: 'stop', complete: true });
  });

  it('Responses stream: response.completed carries usage; response.failed is an error', () => {
    const ok = openaiResponses.streamObserver();
    ok.push(Buffer.from(frames([
      ['response.created', { type: 'response.created', response: { model: 'gpt-5' } }],
      ['response.output_item.added', { type: 'response.output_item.added', item: { type: 'function_call' } }],
      ['response.completed', { type: 'response.completed', response: { model: 'gpt-5', status: 'completed', usage: { input_tokens: 50, output_tokens: 5, input_tokens_details: { cached_tokens: 10 } } } }],
    ])));
    expect(ok.end()).toMatchObject({ model: 'gpt-5', toolCalls: 1, complete: true, finishReason: 'completed', usage: { input: 50, cacheRead: 10, uncached: 40, output: 5 } });
    const bad = openaiResponses.streamObserver();
    bad.push(Buffer.from(frames([['response.failed', { type: 'response.failed', response: { status: 'failed', error: { message: 'boom' } } }]])));
    expect(bad.end().streamError).toBe('boom');
  });
});

describe('retry policy', () => {
  const policy = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.5 };
  it('backs off exponentially with jitter, capped', () => {
    expect(backoffMs(policy, 1)).toBe(75);
    expect(backoffMs(policy, 2)).toBe(150);
    expect(backoffMs(policy, 10)).toBe(750);
  });
  it('honours Retry-After in seconds, dates and retry-after-ms', () => {
    expect(retryAfterMs({ 'retry-after': '2' })).toBe(2000);
    expect(retryAfterMs({ 'retry-after-ms': '150' })).toBe(150);
    expect(retryAfterMs({ 'retry-after': new Date(10_000).toUTCString() }, 7_000)).toBe(3000);
    expect(retryAfterMs({ 'retry-after': 'soon' })).toBeNull();
  });
  it('retries only retryable statuses, within attempts and the delay cap', () => {
    expect(delayForStatus(policy, 1, 503, {})).toBe(75);
    expect(delayForStatus(policy, 1, 400, {})).toBeNull();
    expect(delayForStatus(policy, 3, 503, {})).toBeNull();
    expect(delayForStatus(policy, 1, 429, { 'retry-after': '5' })).toBeNull();
    expect(delayForStatus(policy, 1, 429, { 'retry-after': '1' })).toBe(1000);
  });
});
