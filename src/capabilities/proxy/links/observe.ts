/**
 * The `observe` link (position 400, nearest the client): reads what the client receives, on
 * the side. An event stream goes through the route's stream observer (usage, model, tool
 * calls, progress events for the live view; a stream that ends before its final event gets
 * the provider's error event); a non-streaming body is kept (up to 16 MiB) and read once the
 * client has it: usage, the error detail of a 4xx/5xx, a 2xx body that ended short, and the
 * route's response stages (the response cache). Bytes pass through untouched.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { Funnel } from '../../../core/funnel.js';
import { decodeResponseBody } from '../../../providers/content-encoding.js';
import { isStreamContentType } from '../../../providers/eventstream.js';
import type { StreamObserver } from '../../../providers/types.js';
import { type CallHandler, LINK_POSITION, type ForwardLink, type LinkContext, NO_FLOW } from '../chain.js';
import type { Exchange } from '../exchange.js';
import { downstreamResponseHeaders } from '../headers.js';

/** Largest non-streaming response body kept in memory to read usage from. */
const MAX_CAPTURE_BYTES = 16 * 1024 * 1024;

export function observeLink(funnel: Funnel): ForwardLink {
  return {
    name: 'observe',
    position: LINK_POSITION.observe,
    wrap: (next, ctx) => (call, handler) => next(call, new Observer(call.ex, handler, funnel, ctx)),
  };
}

class Observer implements CallHandler {
  private observer: StreamObserver | null = null;
  private capture: Buffer[] | null = null;
  private captured = 0;
  private status = 0;
  private headers: IncomingHttpHeaders = {};

  constructor(
    private readonly ex: Exchange,
    private readonly out: CallHandler,
    private readonly funnel: Funnel,
    private readonly ctx: LinkContext,
  ) {}

  onHeaders(status: number, headers: IncomingHttpHeaders, control: Parameters<CallHandler['onHeaders']>[2]): void {
    const t = performance.now();
    const ex = this.ex;
    this.status = status;
    this.headers = headers;
    const ct = headers['content-type'];
    const sse = isStreamContentType(ct);
    const adapter = ex.route.adapter;
    if (sse && adapter && status < 300) {
      const rec = ex.rec;
      this.observer = adapter.streamObserver((facts) => {
        this.funnel.progress({
          requestId: ex.id,
          model: facts.model,
          inputTokens: facts.usage?.input ?? 0,
          outputTokens: facts.usage?.output ?? 0,
          cacheReadTokens: facts.usage?.cacheRead ?? 0,
          cacheWriteTokens: facts.usage?.cacheWrite ?? 0,
          toolCalls: facts.toolCalls,
          bytesOut: rec.bytesOut,
          ttfbMs: rec.ttfbMs,
        });
      });
    } else if (!sse && (adapter || status >= 400)) {
      // Keep a copy of non-streaming bodies: usage, error detail, response stages.
      this.capture = [];
    }
    ex.rec.overheadMs += performance.now() - t;
    this.out.onHeaders(status, headers, control);
  }

  onData(chunk: Buffer, control: Parameters<CallHandler['onData']>[1]): void {
    this.out.onData(chunk, control);
    const t = performance.now();
    if (this.observer) this.observer.push(chunk);
    else if (this.capture) {
      this.captured += chunk.length;
      if (this.captured <= MAX_CAPTURE_BYTES) this.capture.push(chunk);
    }
    this.ex.rec.overheadMs += performance.now() - t;
  }

  onEnd(): void {
    const ex = this.ex;
    const rec = ex.rec;
    if (this.observer) {
      const facts = this.observer.end();
      rec.response = facts;
      if (!rec.errorType) {
        if (facts.streamError) rec.fail('upstream_stream', `upstream stream error: ${facts.streamError}`);
        else if (!facts.complete) {
          const message = 'upstream stream ended before its final event';
          rec.fail('upstream_stream', message);
          this.out.onData(Buffer.from(ex.route.errors.streamErrorFrame('upstream_stream', message)), NO_FLOW);
        }
      }
    }
    this.out.onEnd();
    if (this.capture && this.captured <= MAX_CAPTURE_BYTES) this.afterBody(Buffer.concat(this.capture, this.captured));
    else if (this.capture && this.status < 300) this.checkFraming();
  }

  onError(failure: Parameters<CallHandler['onError']>[0]): void {
    if (this.observer) this.ex.rec.response = this.observer.end();
    this.out.onError(failure);
  }

  /** A body too large to keep: its length is still checked against what the upstream declared. */
  private checkFraming(): void {
    const declared = Number(this.headers['content-length']);
    if (Number.isFinite(declared) && declared !== this.captured) this.incomplete(`${this.captured} of ${declared} declared bytes`);
  }

  /** A 2xx JSON body that ended short: the client has the upstream's bytes, but this was no success. */
  private incomplete(detail: string): void {
    const rec = this.ex.rec;
    if (rec.errorType) return;
    rec.fail('upstream_stream', `upstream returned an incomplete response body (${detail})`);
    rec.status = 502;
  }

  /** Reads usage (or error detail) from a complete non-streaming body, after the client has it. */
  private afterBody(raw: Buffer): void {
    const { ex, status } = this;
    const rec = ex.rec;
    let body: Buffer;
    try {
      body = decodeResponseBody(raw, this.headers['content-encoding']);
    } catch (err) {
      if (status < 300 && ex.route.adapter) this.incomplete(`it could not be decoded: ${(err as Error).message}`);
      return;
    }
    if (status >= 400) {
      rec.errorMessage = `upstream returned HTTP ${status}: ${body.toString('utf8', 0, 300)}`;
      return;
    }
    const adapter = ex.route.adapter;
    if (!adapter) return;
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch (err) {
      // the framing said complete, the JSON says otherwise (a body that ended early)
      if (status < 300) this.incomplete(`${raw.length} bytes that are not valid JSON: ${(err as Error).message}`);
      return;
    }
    rec.response = adapter.factsFromJson(json);
    if (rec.response.streamError && !rec.errorType) rec.fail('upstream_stream', rec.response.streamError);
    if (this.ctx.responseStages === 0) return;
    const headers: OutgoingHttpHeaders = downstreamResponseHeaders(this.headers);
    this.ctx.runResponseStages(ex, { status, headers, body });
  }
}
