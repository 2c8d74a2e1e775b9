/**
 * Incremental Server-Sent Events parser. Fed raw byte chunks as they stream through the
 * proxy; calls `onEvent(event, data)` for each complete event. It only observes: the bytes
 * forwarded to the client are never touched by it.
 */
import { StringDecoder } from 'node:string_decoder';

export type SseHandler = (event: string, data: string) => void;

export class SseParser {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  private event = '';
  private data: string[] = [];
  /** The previous chunk ended with `\r`: a `\n` starting the next one completes that line break. */
  private afterCR = false;
  /** Set when a line could not belong to a well-formed SSE stream (diagnostics only). */
  malformedLines = 0;
  events = 0;

  constructor(private readonly onEvent: SseHandler) {}

  push(chunk: Buffer): void {
    const text = this.partial + this.decoder.write(chunk);
    const len = text.length;
    if (len === 0) return;
    // a \r\n split across chunks is one line break, not two
    let start = this.afterCR && text.charCodeAt(0) === 10 ? 1 : 0;
    this.afterCR = false;
    for (let i = start; i < len; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.line(text.slice(start, i));
      // treat \r\n as one line break
      if (c === 13) {
        if (i + 1 === len) this.afterCR = true;
        else if (text.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    this.partial = start < len ? text.slice(start) : '';
  }

  /** Flushes a trailing event that was not terminated by a blank line. */
  end(): void {
    const rest = this.partial + this.decoder.end();
    this.partial = '';
    if (rest) this.line(rest);
    this.dispatch();
  }

  private line(line: string): void {
    if (line.length === 0) {
      this.dispatch();
      return;
    }
    const first = line.charCodeAt(0);
    if (first === 58 /* ':' comment */) return;
    const colon = line.indexOf(':');
    const name = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    switch (name) {
      case 'data':
        this.data.push(value);
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

  private dispatch(): void {
    if (this.data.length === 0 && this.event === '') return;
    const data = this.data.length === 1 ? (this.data[0] as string) : this.data.join('\n');
    const event = this.event || 'message';
    this.data = [];
    this.event = '';
    this.events++;
    this.onEvent(event, data);
  }
}

/** Formats one SSE frame. */
export function sseFrame(event: string | null, data: string): string {
  return `${event ? `event: ${event}\n` : ''}data: ${data}\n\n`;
}
