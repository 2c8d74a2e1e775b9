/**
 * The one SSE parser (`providers/sse.ts`): CR, LF and CRLF line ends, a line break split
 * across chunks, and raw frames that add up to the stream byte for byte (what CCR forwards).
 */
import { describe, expect, it } from 'vitest';
import { type SseFrame, SseFrames, SseParser } from '../src/providers/sse.js';

function framesOf(chunks: string[]): SseFrame[] {
  const out: SseFrame[] = [];
  const p = new SseFrames();
  for (const c of chunks) p.push(Buffer.from(c), (f) => out.push(f));
  p.end((f) => out.push(f));
  return out;
}

function eventsOf(chunks: string[]): [string, string][] {
  const out: [string, string][] = [];
  const p = new SseParser((e, d) => out.push([e, d]));
  for (const c of chunks) p.push(Buffer.from(c));
  p.end();
  return out;
}

describe('one SSE parser', () => {
  it('a \\r\\n split across two chunks is one line break: the event is not split', () => {
    const chunks = ['event: a\r', '\ndata: one\r', '\ndata: two\r\n\r', '\nevent: b\r\ndata: three\r\n\r\n'];
    expect(eventsOf(chunks)).toEqual([['a', 'one\ntwo'], ['b', 'three']]);
    const frames = framesOf(chunks);
    expect(frames.map((f) => [f.event, f.data])).toEqual([['a', 'one\ntwo'], ['b', 'three']]);
    // the first frame keeps its whole terminator (the LF that arrived in the next chunk)
    expect(frames[0]!.raw.toString()).toBe('event: a\r\ndata: one\r\ndata: two\r\n\r\n');
  });

  it('a blank line whose CR ends a chunk waits for the next byte (CR-only streams too)', () => {
    const chunks = ['data: x\r\r', 'data: y\r\r'];
    const frames = framesOf(chunks);
    expect(frames.map((f) => f.raw.toString())).toEqual(['data: x\r\r', 'data: y\r\r']);
    expect(eventsOf(chunks)).toEqual([['message', 'x'], ['message', 'y']]);
  });

  it('mixed line ends, comments and multi-byte text cut at every byte: same events, raw frames add up to the stream', () => {
    const stream = ': ping\r\n\r\nevent: a\rdata: é😀\r\rdata: l1\ndata: l2\n\nevent: b\r\ndata: {"x":1}\r\n\r\n';
    const bytes = Buffer.from(stream);
    const want = [['a', 'é😀'], ['message', 'l1\nl2'], ['b', '{"x":1}']];
    for (let cut = 1; cut < bytes.length; cut++) {
      const chunks = [bytes.subarray(0, cut), bytes.subarray(cut)];
      const events: [string, string][] = [];
      const parser = new SseParser((e, d) => events.push([e, d]));
      const frames: SseFrame[] = [];
      const splitter = new SseFrames();
      for (const c of chunks) {
        parser.push(c);
        splitter.push(c, (f) => frames.push(f));
      }
      parser.end();
      splitter.end((f) => frames.push(f));
      expect(events, `cut at ${cut}`).toEqual(want);
      expect(parser.malformedLines).toBe(0);
      expect(Buffer.concat(frames.map((f) => f.raw)).equals(bytes), `cut at ${cut}`).toBe(true);
      expect(frames.filter((f) => f.hasData).map((f) => f.data)).toEqual(want.map(([, d]) => d));
    }
  });

  it('a trailing event without its blank line is flushed at the end', () => {
    expect(eventsOf(['data: tail'])).toEqual([['message', 'tail']]);
    expect(framesOf(['data: a\n\n', 'data: tail\r']).map((f) => f.raw.toString())).toEqual(['data: a\n\n', 'data: tail\r']);
  });
});
