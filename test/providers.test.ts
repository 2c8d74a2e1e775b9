import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SseFrames as FrameSplitter } from '../src/providers/sse.js';
import { anthropicMessages } from '../src/providers/anthropic.js';
import { openaiChat, openaiResponses } from '../src/providers/openai.js';
import { SseParser } from '../src/providers/sse.js';
import type { ApiAdapter, ResponseFacts } from '../src/providers/types.js';
import { backoffMs, delayForStatus, retryAfterMs } from '../src/capabilities/proxy/retry.js';

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

/*
 * Every SSE parser on the request path, fed a provider stream cut at every byte position and
 * at random sets of positions, with LF and CRLF line endings, must see exactly the events of
 * the stream: the usage observers (SseParser) and the CCR resolver's FrameSplitter. The
 * streams are shaped like real Anthropic Messages, OpenAI Chat Completions and OpenAI
 * Responses streams (tool calls, multi-byte text, a ping).
 */
const STREAMS: { name: string; api: ApiAdapter; facts: Partial<ResponseFacts> }[] = [
  {
    name: 'anthropic-messages',
    api: anthropicMessages,
    facts: {
      model: 'claude-sonnet-4-5-20250929', finishReason: 'tool_use', toolCalls: 1, complete: true, streamError: null,
      usage: { input: 22_488, output: 61, uncached: 472, cacheRead: 20_480, cacheWrite: 1536, cacheWrite5m: 1024, cacheWrite1h: 512, reasoning: 0, source: 'sse' },
    },
  },
  {
    name: 'openai-chat',
    api: openaiChat,
    facts: {
      model: 'gpt-4o-2024-08-06', finishReason: 'tool_calls', toolCalls: 1, complete: true, streamError: null,
      usage: { input: 2230, output: 27, uncached: 310, cacheRead: 1920, cacheWrite: 0, cacheWrite5m: 0, cacheWrite1h: 0, reasoning: 0, source: 'sse' },
    },
  },
  {
    name: 'openai-responses',
    api: openaiResponses,
    facts: {
      model: 'gpt-5-2025-08-07', finishReason: 'completed', toolCalls: 0, complete: true, streamError: null,
      usage: { input: 3150, output: 212, uncached: 1102, cacheRead: 2048, cacheWrite: 0, cacheWrite5m: 0, cacheWrite1h: 0, reasoning: 192, source: 'sse' },
    },
  },
];
const EOLS = [['LF', '\n'], ['CRLF', '\r\n'], ['CR', '\r']] as const;

interface Expected {
  /** SSE events as `SseParser` reports them. */
  events: [string, string][];
  /** Whole frames with their raw bytes, as `FrameSplitter` reports them. */
  frames: { raw: string; event: string; data: string }[];
  /** The same, as JSON (compared many thousands of times). */
  eventsJson: string;
  framesJson: string;
}

/** The reference reading of a fixture (written with LF, one field per line, frames ending in a blank line). */
function expectedOf(lf: string, eol: string): Expected {
  const blocks = lf.split('\n\n').filter((b) => b.length > 0);
  const frames = blocks.map((block) => {
    const lines = block.split('\n');
    const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? '';
    const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
    return { raw: lines.join(eol) + eol + eol, event, data };
  });
  const events = frames.map((f): [string, string] => [f.event || 'message', f.data]);
  return { events, frames, eventsJson: JSON.stringify(events), framesJson: JSON.stringify(frames) };
}

/** Cuts `buf` at `cuts` (sorted, inside the buffer). */
const pieces = (buf: Buffer, cuts: readonly number[]): Buffer[] => [0, ...cuts].map((at, i) => buf.subarray(at, cuts[i] ?? buf.length));

/** Feeds the chunks to every parser; returns what differs from `want` (empty when all agree). */
function mismatches(chunks: Buffer[], want: Expected, facts: string, api: ApiAdapter): string[] {
  const out: string[] = [];
  const events: [string, string][] = [];
  const parser = new SseParser((e, d) => events.push([e, d]));
  for (const c of chunks) parser.push(c);
  parser.end();
  if (JSON.stringify(events) !== want.eventsJson) out.push(`SseParser: ${JSON.stringify(events.map(([e]) => e))}`);
  if (parser.malformedLines !== 0) out.push(`SseParser: ${parser.malformedLines} malformed lines`);

  const frames: { raw: string; event: string; data: string }[] = [];
  const splitter = new FrameSplitter();
  const onFrame = (f: { raw: Buffer; event: string; data: string }) => frames.push({ raw: f.raw.toString('utf8'), event: f.event, data: f.data });
  for (const c of chunks) splitter.push(c, onFrame);
  splitter.end(onFrame);
  if (JSON.stringify(frames) !== want.framesJson) out.push(`FrameSplitter: ${JSON.stringify(frames.map((f) => f.event))}`);

  const observer = api.streamObserver();
  for (const c of chunks) observer.push(c);
  const got = observer.end();
  if (JSON.stringify(got) !== facts) out.push(`observer: ${JSON.stringify(got)}`);
  return out;
}

describe('SSE parsers on the request path, at every chunk boundary', () => {
  for (const stream of STREAMS) {
    const lf = readFileSync(join(import.meta.dirname, 'fixtures', 'sse', `${stream.name}.sse`), 'utf8');
    for (const [eolName, eol] of EOLS) {
      const wire = Buffer.from(lf.replaceAll('\n', eol));
      const want = expectedOf(lf, eol);
      // what the observer learns from the whole stream in one chunk, checked against the fixture's figures
      const facts = (() => {
        const o = stream.api.streamObserver();
        o.push(wire);
        return o.end();
      })();
      const factsJson = JSON.stringify(facts);

      it(`${stream.name}, ${eolName}: one chunk gives the stream's events and usage`, () => {
        expect(want.frames.length).toBeGreaterThan(7);
        expect(facts).toMatchObject(stream.facts);
        expect(mismatches([wire], want, factsJson, stream.api)).toEqual([]);
      });

      it(`${stream.name}, ${eolName}: split in two at every byte`, () => {
        const failures: string[] = [];
        for (let at = 1; at < wire.length && failures.length < 5; at++) {
          const bad = mismatches(pieces(wire, [at]), want, factsJson, stream.api);
          if (bad.length) failures.push(`cut at byte ${at} (${JSON.stringify(wire.subarray(Math.max(0, at - 12), at).toString('latin1'))} | ${JSON.stringify(wire.subarray(at, at + 4).toString('latin1'))}): ${bad.join('; ')}`);
        }
        expect(failures).toEqual([]);
      });

      it(`${stream.name}, ${eolName}: any set of cuts (property)`, () => {
        const cuts = fc.uniqueArray(fc.integer({ min: 1, max: wire.length - 1 }), { minLength: 1, maxLength: 60 }).map((a) => a.sort((x, y) => x - y));
        fc.assert(fc.property(cuts, (c) => mismatches(pieces(wire, c), want, factsJson, stream.api).length === 0), { numRuns: 300 });
      });
    }
  }
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
