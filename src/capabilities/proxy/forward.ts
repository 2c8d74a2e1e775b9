/**
 * Forwards an exchange through its route's chain (`chain.ts`) and writes what comes back to
 * the client: the outermost handler of the chain. Headers are copied minus hop-by-hop ones
 * (ours added), body chunks go straight to the client socket with backpressure (a full socket
 * pauses the upstream call that produced the bytes), and a failure becomes what the client's
 * SDK expects: an error in the provider's shape before any byte, the provider's SSE error
 * event inside a stream, or a dropped connection for a JSON body cut short (which cannot be
 * repaired; recorded as the upstream's 502, not as the client going away).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { errorTypeForUpstreamStatus } from '../../core/outcome.js';
import { isStreamContentType } from '../../providers/eventstream.js';
import type { CallFailure, CallHandler, Dispatch, FlowControl } from './chain.js';
import type { Exchange } from './exchange.js';
import { downstreamResponseHeaders } from './headers.js';

class ClientWriter implements CallHandler {
  private drainPending = false;
  private resolve!: () => void;
  readonly done: Promise<void>;

  constructor(private readonly ex: Exchange) {
    this.done = new Promise((r) => {
      this.resolve = r;
    });
    if (ex.abort.aborted) this.resolve();
    else ex.abort.once('abort', this.resolve);
  }

  private finish(): void {
    this.ex.abort.off('abort', this.resolve);
    this.resolve();
  }

  onHeaders(status: number, upstreamHeaders: IncomingHttpHeaders): void {
    const t = performance.now();
    const ex = this.ex;
    const rec = ex.rec;
    if (ex.closed) return;
    rec.status = status;
    const upstreamError = errorTypeForUpstreamStatus(status);
    if (upstreamError) rec.fail(upstreamError, `upstream returned HTTP ${status}`);
    const contentType = upstreamHeaders['content-type'];
    ex.sse = isStreamContentType(contentType);
    const headers = downstreamResponseHeaders(upstreamHeaders);
    rec.overheadMs += performance.now() - t;
    const ours = ex.ourHeaders();
    headers['x-headroom-request-id'] = ours['x-headroom-request-id'];
    headers['x-headroom-overhead-ms'] = ours['x-headroom-overhead-ms'];
    ex.res.writeHead(status, headers);
  }

  onData(chunk: Buffer, control: FlowControl): void {
    const ex = this.ex;
    if (ex.closed || chunk.length === 0) return;
    const rec = ex.rec;
    const tc = performance.now();
    if (rec.ttfbMs === null) rec.ttfbMs = tc - rec.t0;
    rec.bytesOut += chunk.length;
    if (!ex.res.write(chunk) && !this.drainPending) {
      this.drainPending = true;
      control.pause();
      ex.res.once('drain', () => {
        this.drainPending = false;
        control.resume();
      });
    }
    rec.overheadMs += performance.now() - tc;
  }

  onEnd(): void {
    if (!this.ex.closed) this.ex.res.end();
    this.finish();
  }

  onError(f: CallFailure): void {
    const ex = this.ex;
    if (f.kind === 'aborted' || ex.abort.aborted || ex.closed) {
      this.finish();
      return;
    }
    if (!ex.res.headersSent) {
      ex.replyError(f.status, f.type, f.message);
      this.finish();
      return;
    }
    ex.fail(f.type, f.message);
    if (ex.sse) {
      const frame = ex.route.errors.streamErrorFrame(ex.rec.errorType ?? 'upstream_stream', f.message);
      ex.rec.bytesOut += Buffer.byteLength(frame);
      ex.res.write(frame);
      ex.res.end();
    } else {
      ex.cut(502);
    }
    this.finish();
  }
}

/** Forwards the exchange through `dispatch`; resolves when the client's response is complete or abandoned. */
export function forward(ex: Exchange, dispatch: Dispatch): Promise<void> {
  const writer = new ClientWriter(ex);
  dispatch({ ex, round: 0 }, writer);
  return writer.done;
}
