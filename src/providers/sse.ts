/**
 * The one Server-Sent Events parser of headroom-ts. Fed raw byte chunks as they stream through
 * the proxy, it finds lines ended by CR, LF or CRLF (a CRLF split across two chunks is one line
 * break, and a blank line whose CR ends a chunk waits for the next byte, so an event is never
 * split) and yields each event as a frame with its raw bytes (terminator included), its `event`
 * and its `data` lines joined by `\n`. It only reads: the bytes forwarded to the client are the
 * chunks themselves, or, for a consumer that rewrites the stream (CCR resolution), the frames'
 * raw bytes, so frames passed on unchanged stay byte-exact.
 *
 * `SseFrames` yields every frame (comment-only ones too); `SseParser` is the event view the
 * usage observers use (`onEvent(event, data)`, `message` when the frame names no event).
 * Lines are cut on bytes: CR and LF never occur inside a multi-byte UTF-8 character.
 */

export interface SseFrame {
  /** The frame's bytes including its terminating blank line. */
  raw: Buffer;
  /** `event:` field ('' when absent). */
  event: string;
  /** `data:` lines joined by `\n`. */
  data: string;
  /** The frame has a `data:` line (possibly empty). */
  hasData: boolean;
}

export type SseHandler = (event: string, data: string) => void;

const LF = 10;
const CR = 13;

export class SseFrames {
  /** Bytes not yet emitted: the start of the current frame up to the end of the last chunk. */
  private buf: Buffer | null = null;
  /** Offsets into `buf`: how far it was scanned, and where the current line starts. */
  private scanned = 0;
  private lineStart = 0;
  /** The last byte scanned was a CR ending a line: an LF next belongs to that line break. */
  private afterCR = false;
  /** That CR ended the frame's blank line: the frame is emitted once the next byte is known. */
  private endPending = false;
  private event = '';
  private data: string[] = [];
  private hasData = false;
  /** Set when a line could not belong to a well-formed SSE stream (diagnostics only). */
  malformedLines = 0;

  /** Calls `onFrame` for every frame completed by `chunk`. */
  push(chunk: Buffer, onFrame: (f: SseFrame) => void): void {
    if (chunk.length === 0) return;
    const buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    const len = buf.length;
    let frameStart = 0;
    let lineStart = this.lineStart;
    let i = this.scanned;
    if (this.afterCR) {
      this.afterCR = false;
      if (buf[i] === LF) lineStart = ++i;
      if (this.endPending) {
        this.endPending = false;
        onFrame(this.take(buf, frameStart, i));
        frameStart = i;
      }
    }
    while (i < len) {
      const c = buf[i]!;
      if (c !== LF && c !== CR) {
        i++;
        continue;
      }
      const lineEnd = i++;
      if (c === CR) {
        if (i === len) this.afterCR = true;
        else if (buf[i] === LF) i++;
      }
      if (lineEnd > lineStart) this.line(buf, lineStart, lineEnd);
      else if (lineStart > frameStart) {
        // a blank line ends the frame (one that opens a frame separates nothing: kept with the next)
        if (this.afterCR) this.endPending = true;
        else {
          onFrame(this.take(buf, frameStart, i));
          frameStart = i;
        }
      }
      lineStart = i;
    }
    this.buf = frameStart < len ? buf.subarray(frameStart) : null;
    this.scanned = i - frameStart;
    this.lineStart = lineStart - frameStart;
  }

  /** A trailing frame without its blank line (a stream cut short), if it is not only whitespace. */
  end(onFrame: (f: SseFrame) => void): void {
    const buf = this.buf;
    if (buf && this.lineStart < buf.length) this.line(buf, this.lineStart, buf.length);
    if (buf && (this.endPending || buf.toString('latin1').trim() !== '')) onFrame(this.take(buf, 0, buf.length));
    this.buf = null;
    this.scanned = this.lineStart = 0;
    this.afterCR = this.endPending = false;
    this.reset();
  }

  private take(buf: Buffer, from: number, to: number): SseFrame {
    const data = this.data;
    const frame: SseFrame = { raw: buf.subarray(from, to), event: this.event, data: data.length === 1 ? data[0]! : data.join('\n'), hasData: this.hasData };
    this.reset();
    return frame;
  }

  private reset(): void {
    this.event = '';
    this.data = [];
    this.hasData = false;
  }

  private line(buf: Buffer, from: number, to: number): void {
    if (buf[from] === 58 /* ':' comment */) return;
    const line = buf.toString('utf8', from, to);
    const colon = line.indexOf(':');
    const name = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    switch (name) {
      case 'data':
        this.data.push(value);
        this.hasData = true;
        break;
      case 'event':
        this.event = value;
        break;
      case 'id':
      case 'retry':
        break;
      default:
        this.malformedLines++;
    }
  }
}

/** The event view of the stream: `onEvent(event, data)` for each frame that has data or an event name. */
export class SseParser {
  private readonly frames = new SseFrames();
  private readonly onFrame: (f: SseFrame) => void;
  events = 0;

  constructor(onEvent: SseHandler) {
    this.onFrame = (f) => {
      if (!f.hasData && f.event === '') return;
      this.events++;
      onEvent(f.event || 'message', f.data);
    };
  }

  get malformedLines(): number {
    return this.frames.malformedLines;
  }

  push(chunk: Buffer): void {
    this.frames.push(chunk, this.onFrame);
  }

  /** Flushes a trailing event that was not terminated by a blank line. */
  end(): void {
    this.frames.end(this.onFrame);
  }
}

/** Formats one SSE frame. */
export function sseFrame(event: string | null, data: string): string {
  return `${event ? `event: ${event}\n` : ''}data: ${data}\n\n`;
}
