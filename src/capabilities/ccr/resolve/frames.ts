/**
 * Splits an SSE byte stream into whole frames, keeping each frame's raw bytes so frames that
 * pass through unchanged are forwarded byte for byte. Boundaries are found in bytes (a blank
 * line: `\n\n` or `\r\n\r\n`) before any UTF-8 decoding.
 */

export interface SseFrame {
  /** The frame's bytes including its terminating blank line. */
  raw: Buffer;
  /** `event:` field ('' when absent). */
  event: string;
  /** `data:` lines joined by `\n`. */
  data: string;
}

const LF = 0x0a;

export function parseFrame(raw: Buffer): SseFrame {
  const text = raw.toString('utf8');
  let event = '';
  const data: string[] = [];
  for (const line of text.split(/\r?\n|\r/)) {
    if (!line || line.charCodeAt(0) === 58) continue;
    const colon = line.indexOf(':');
    const name = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (name === 'data') data.push(value);
    else if (name === 'event') event = value;
  }
  return { raw, event, data: data.join('\n') };
}

/** Offset just past the first blank line at or after `from`, or -1. */
function frameEnd(buf: Buffer, from: number): number {
  let i = buf.indexOf(LF, from);
  while (i !== -1) {
    const next = buf[i + 1];
    if (next === LF) return i + 2;
    if (next === 0x0d && buf[i + 2] === LF) return i + 3;
    if (next === undefined) return -1;
    i = buf.indexOf(LF, i + 1);
  }
  return -1;
}

export class FrameSplitter {
  private pending: Buffer | null = null;

  /** Calls `onFrame` for every frame completed by `chunk`. */
  push(chunk: Buffer, onFrame: (f: SseFrame) => void): void {
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    let at = 0;
    for (;;) {
      const end = frameEnd(buf, at);
      if (end === -1) break;
      onFrame(parseFrame(buf.subarray(at, end)));
      at = end;
    }
    this.pending = at < buf.length ? Buffer.from(buf.subarray(at)) : null;
  }

  /** A trailing frame without its blank line (a stream cut short), if any. */
  end(onFrame: (f: SseFrame) => void): void {
    const rest = this.pending;
    this.pending = null;
    if (rest && rest.toString('utf8').trim()) onFrame(parseFrame(rest));
  }
}
