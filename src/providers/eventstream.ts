/**
 * The AWS event stream (`application/vnd.amazon.eventstream`) that Bedrock's streaming APIs
 * answer with: binary frames, each a 4-byte total length, headers (`:message-type`,
 * `:event-type`, `:exception-type`, `:content-type`) and a payload, checked by CRC32. Frames are
 * decoded and encoded with `@smithy/eventstream-codec`; this file splits a byte stream into
 * frames as chunks arrive (a frame may span chunks, a chunk may hold several frames).
 */
import { EventStreamCodec } from '@smithy/eventstream-codec';

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();
const toUtf8 = (b: Uint8Array): string => utf8Decoder.decode(b);
const fromUtf8 = (s: string): Uint8Array => utf8Encoder.encode(s);

const codec = new EventStreamCodec(toUtf8, fromUtf8);

export const EVENT_STREAM_CONTENT_TYPE = 'application/vnd.amazon.eventstream';

/** One decoded frame: its string headers and its payload as text. */
export interface EventFrame {
  messageType: string;
  /** `:event-type` of an event, `:exception-type` of an exception. */
  eventType: string;
  payload: string;
}

/** A streaming response's content type: SSE or an AWS event stream. */
export function isStreamContentType(ct: unknown): boolean {
  return typeof ct === 'string' && (ct.startsWith('text/event-stream') || ct.startsWith(EVENT_STREAM_CONTENT_TYPE));
}

function headerString(headers: Record<string, { type: string; value: unknown }>, name: string): string {
  const h = headers[name];
  return h && h.type === 'string' ? String(h.value) : '';
}

/** Splits bytes into event stream frames and decodes each (CRC checked). */
export class EventStreamSplitter {
  private pending: Buffer = Buffer.alloc(0);
  /** A frame failed its CRC or length checks: the stream is not readable past it. */
  broken: string | null = null;

  constructor(private readonly onFrame: (frame: EventFrame) => void) {}

  push(chunk: Buffer): void {
    if (this.broken) return;
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.pending.length >= 4) {
      const total = this.pending.readUInt32BE(0);
      if (total < 16) {
        this.broken = `event stream frame of ${total} bytes`;
        return;
      }
      if (this.pending.length < total) return;
      const frame = this.pending.subarray(0, total);
      this.pending = this.pending.subarray(total);
      let decoded;
      try {
        decoded = codec.decode(frame);
      } catch (err) {
        this.broken = (err as Error).message;
        return;
      }
      const headers = decoded.headers as Record<string, { type: string; value: unknown }>;
      const messageType = headerString(headers, ':message-type') || 'event';
      const eventType = messageType === 'event' ? headerString(headers, ':event-type') : headerString(headers, ':exception-type') || headerString(headers, ':error-code');
      this.onFrame({ messageType, eventType, payload: toUtf8(decoded.body) });
    }
  }

  /** Bytes left over that form no complete frame. */
  get leftover(): number {
    return this.pending.length;
  }
}

const str = (value: string) => ({ type: 'string' as const, value });

/** Encodes an event frame with a JSON payload (the mock upstream; tests). */
export function encodeEvent(eventType: string, payload: string): Buffer {
  return Buffer.from(
    codec.encode({
      headers: { ':event-type': str(eventType), ':content-type': str('application/json'), ':message-type': str('event') },
      body: fromUtf8(payload),
    }),
  );
}

/** Encodes an exception frame (`throttlingException`, `internalServerException`, ...) with `{"message": ...}`. */
export function encodeException(exceptionType: string, message: string): Buffer {
  return Buffer.from(
    codec.encode({
      headers: { ':exception-type': str(exceptionType), ':content-type': str('application/json'), ':message-type': str('exception') },
      body: fromUtf8(JSON.stringify({ message })),
    }),
  );
}
