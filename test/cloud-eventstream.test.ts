/**
 * The AWS event stream reader on its own: frames split across chunks at every byte, several
 * frames in one chunk, a corrupted frame, and the Bedrock stream observers' usage.
 */
import { describe, expect, it } from 'vitest';
import { bedrockAdapter, bedrockErrors, parseBedrockPath } from '../src/providers/bedrock.js';
import { encodeEvent, encodeException, EventStreamSplitter, type EventFrame } from '../src/providers/eventstream.js';

const chunk = (event: Record<string, unknown>) => encodeEvent('chunk', JSON.stringify({ bytes: Buffer.from(JSON.stringify(event)).toString('base64') }));

const invokeStream = Buffer.concat([
  chunk({ type: 'message_start', message: { model: 'claude-x', usage: { input_tokens: 11, cache_read_input_tokens: 100, cache_creation_input_tokens: 7, output_tokens: 1 } } }),
  chunk({ type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 't', name: 'Bash', input: {} } }),
  chunk({ type: 'content_block_stop', index: 0 }),
  chunk({ type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 42 } }),
  chunk({ type: 'message_stop' }),
]);

describe('event stream frames', () => {
  it('are split correctly whatever the chunking', () => {
    for (const size of [1, 3, 7, 64, invokeStream.length]) {
      const got: EventFrame[] = [];
      const s = new EventStreamSplitter((f) => got.push(f));
      for (let i = 0; i < invokeStream.length; i += size) s.push(invokeStream.subarray(i, i + size));
      expect(got.map((f) => f.eventType), `chunks of ${size}`).toEqual(['chunk', 'chunk', 'chunk', 'chunk', 'chunk']);
      expect(s.broken).toBeNull();
      expect(s.leftover).toBe(0);
    }
  });

  it('a corrupted frame stops the reader and is reported', () => {
    const bad = Buffer.from(invokeStream);
    bad[20] = bad[20]! ^ 0xff;
    const s = new EventStreamSplitter(() => undefined);
    s.push(bad);
    expect(s.broken).toMatch(/checksum|crc/i);
  });
});

describe('Bedrock stream observers', () => {
  it('invoke-with-response-stream: Anthropic usage, cache tokens and tool calls from the chunks', () => {
    const adapter = bedrockAdapter(parseBedrockPath('/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream')!);
    const progress: number[] = [];
    const obs = adapter.streamObserver((f) => progress.push(f.usage?.output ?? 0));
    for (let i = 0; i < invokeStream.length; i += 5) obs.push(invokeStream.subarray(i, i + 5));
    const facts = obs.end();
    expect(facts.usage).toMatchObject({ uncached: 11, cacheRead: 100, cacheWrite: 7, input: 118, output: 42, source: 'sse' });
    expect(facts.toolCalls).toBe(1);
    expect(facts.finishReason).toBe('tool_use');
    expect(facts.complete).toBe(true);
    expect(facts.model).toBe('claude-x');
    expect(progress).toEqual([1, 42]);
  });

  it('an exception frame is the stream error', () => {
    const adapter = bedrockAdapter(parseBedrockPath('/model/m/invoke-with-response-stream')!);
    const obs = adapter.streamObserver();
    obs.push(Buffer.concat([invokeStream.subarray(0, invokeStream.readUInt32BE(0)), encodeException('throttlingException', 'slow down')]));
    const facts = obs.end();
    expect(facts.streamError).toBe('throttlingException: slow down');
    expect(facts.complete).toBe(false);
    expect(facts.model).toBe('claude-x');
  });

  it('converse-stream: usage and stop reason from its own events', () => {
    const adapter = bedrockAdapter(parseBedrockPath('/model/m/converse-stream')!);
    const obs = adapter.streamObserver();
    obs.push(Buffer.concat([
      encodeEvent('messageStart', '{"role":"assistant"}'),
      encodeEvent('contentBlockStart', '{"contentBlockIndex":0,"start":{"toolUse":{"toolUseId":"t","name":"Bash"}}}'),
      encodeEvent('messageStop', '{"stopReason":"tool_use"}'),
      encodeEvent('metadata', '{"usage":{"inputTokens":5,"outputTokens":6,"cacheReadInputTokens":30,"cacheWriteInputTokens":2}}'),
    ]));
    const f = obs.end();
    expect(f.usage).toMatchObject({ uncached: 5, cacheRead: 30, cacheWrite: 2, input: 37, output: 6 });
    expect(f.toolCalls).toBe(1);
    expect(f.finishReason).toBe('tool_use');
    expect(f.complete).toBe(true);
  });

  it("the proxy's own stream error is an exception frame a Bedrock client decodes", () => {
    const frame = bedrockErrors.streamErrorFrame('upstream_stream', 'upstream stream ended before its final event');
    const got: EventFrame[] = [];
    new EventStreamSplitter((f) => got.push(f)).push(Buffer.from(frame));
    expect(got).toEqual([{ messageType: 'exception', eventType: 'modelStreamErrorException', payload: '{"message":"upstream stream ended before its final event"}' }]);
    expect(bedrockErrors.errorHeaders!(429, 'rate_limited')).toEqual({ 'x-amzn-errortype': 'ThrottlingException' });
    expect(bedrockErrors.errorHeaders!(429, 'budget_exceeded')).toEqual({ 'x-amzn-errortype': 'ServiceQuotaExceededException' });
  });
});
