/**
 * One proxied request: what the client sent (headers, body read and decoded once, parsed
 * JSON, facts) and how it is answered (the response, aborts, shutdown). What is learned about
 * it goes into its OutcomeRecorder (`rec`), which emits exactly one outcome when the client's
 * response closes, whatever happened (success, upstream error, rejection, client abort).
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Config } from '../../config/index.js';
import { Aborter } from './aborter.js';
import type { ProviderRoute } from '../../providers/routes.js';
import type { RequestFacts } from '../../providers/types.js';
import type { InFlight } from '../../core/app.js';
import type { Funnel } from '../../core/funnel.js';
import type { ErrorType, OutcomeKind, RequestStart } from '../../core/outcome.js';
import { OutcomeRecorder, startFrom } from '../../core/recorder.js';
import { round2 } from '../../util/round.js';

export interface ExchangeHost {
  readonly config: Config;
  readonly funnel: Funnel;
  nextRequestId(): string;
  /** Registers a request in flight (graceful shutdown waits for them); returns its removal. */
  track?(ex: InFlight): () => void;
  /** The host is shutting down: new requests are refused. */
  readonly draining?: boolean;
}

/** What a client is told when a graceful shutdown ends its request. */
export const SHUTDOWN_MESSAGE = 'headroom-ts is shutting down and ended this request; retry it (on another instance if one is available).';


export class Exchange implements InFlight {
  readonly id: string;
  readonly abort = new Aborter();
  /** The request's facts and its one outcome. */
  readonly rec: OutcomeRecorder;

  /** Body as received from the client. */
  body: Buffer = Buffer.alloc(0);
  /**
   * The body decoded from its Content-Encoding, once (`core/body.ts`; null: it had none, or it
   * was not read: passthrough routes forward the encoded bytes without looking at them).
   */
  decoded: Buffer | null = null;
  /** Parsed JSON body (LLM routes). */
  json: Record<string, unknown> | null = null;
  facts: RequestFacts | null = null;
  /** Body to send upstream; differs from `body` only when a stage rewrote it. */
  private forward: Buffer | null = null;
  /** Authorization carried our proxy token rather than a provider key. */
  authorizationIsProxyToken = false;
  /** The response being relayed to the client is an event stream (set when its headers are sent). */
  sse = false;

  private finished = false;
  /**
   * The status to record when the proxy itself cut the response short (an upstream failure
   * mid-body, a shutdown): the client did not go away, so it is not a 499.
   */
  private cutStatus: number | null = null;
  private shutdownEnded = false;
  private readonly untrack: (() => void) | null;

  constructor(
    private readonly host: ExchangeHost,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly route: ProviderRoute,
    readonly path: string,
    readonly search: string,
    prefixProject: string | null,
    kind: OutcomeKind = 'proxy',
  ) {
    this.id = host.nextRequestId();
    const info = startFrom(req.headers, { kind, requestId: this.id, method: req.method ?? 'GET', path, provider: route.provider, api: route.api, prefixProject });
    this.rec = new OutcomeRecorder(host.funnel, info);
    this.untrack = host.track?.(this) ?? null;
    res.once('close', () => this.finish());
  }

  get config(): Config {
    return this.host.config;
  }

  /** The start facts (also the live view's in-flight entry). */
  get info(): RequestStart {
    return this.rec.info;
  }

  /** performance.now() at arrival. */
  get t0(): number {
    return this.rec.t0;
  }

  /** The error recorded so far (read by response stages: a cache keeps only clean answers). */
  get errorType(): ErrorType | null {
    return this.rec.errorType;
  }

  /** True once the client connection is gone or the response has completed (or was ended by a shutdown). */
  get closed(): boolean {
    return this.finished || this.res.destroyed || this.shutdownEnded;
  }

  /** The body as JSON text: decoded when it was sent encoded. */
  get plainBody(): Buffer {
    return this.decoded ?? this.body;
  }

  get forwardBody(): Buffer {
    return this.forward ?? this.body;
  }

  get modified(): boolean {
    return this.forward !== null;
  }

  /** Replaces the body sent upstream (compression, CCR injection). */
  setForwardBody(body: Buffer): void {
    this.forward = body.equals(this.body) ? null : body;
    this.rec.modified = this.forward !== null;
  }

  setFacts(facts: RequestFacts): void {
    this.facts = facts;
    const info = this.rec.info;
    info.requestedModel = facts.model;
    info.stream = facts.stream;
    info.messageCount = facts.messageCount;
    info.tools = facts.tools;
  }

  elapsed(): number {
    return this.rec.elapsed();
  }

  /** Emits the start event (once; before the body is read, so a slow body shows as in flight); later calls are no-ops. */
  start(): void {
    this.rec.info.bytesIn = this.body.length;
    this.rec.start();
  }

  /** The body was read (and parsed): updates the figures of the started request. */
  announce(): void {
    this.rec.info.bytesIn = this.body.length;
    this.rec.update();
  }

  fail(type: ErrorType, message: string): void {
    this.rec.fail(type, message);
  }

  /** Headers every response of ours carries. */
  ourHeaders(): OutgoingHttpHeaders {
    return { 'x-headroom-request-id': this.id, 'x-headroom-overhead-ms': round2(this.rec.overheadMs).toFixed(2) };
  }

  /** Sends a response produced by headroom-ts itself (error, rejection, cache hit). */
  reply(status: number, body: string | Buffer, headers: OutgoingHttpHeaders = {}): void {
    if (this.closed) return;
    if (this.res.headersSent) {
      this.res.end();
      return;
    }
    const buf = typeof body === 'string' ? Buffer.from(body) : body;
    const rec = this.rec;
    rec.status = status;
    const shaped = status >= 400 ? this.route.errors.errorHeaders?.(status, rec.errorType ?? 'internal') : undefined;
    this.res.writeHead(status, {
      'content-type': 'application/json',
      ...shaped,
      ...headers,
      ...this.ourHeaders(),
      'content-length': buf.length,
    });
    rec.ttfbMs = rec.elapsed();
    rec.bytesOut += buf.length;
    this.res.end(buf);
  }

  /** Sends an error in the route's provider shape and records it. */
  replyError(status: number, type: ErrorType, message: string, headers: OutgoingHttpHeaders = {}): void {
    this.fail(type, message);
    this.reply(status, this.route.errors.errorBody(status, type, message), headers);
  }

  /**
   * Drops the client connection because the proxy cannot complete the response (a JSON body
   * cut short upstream cannot be repaired); recorded with `status` and the error already set.
   */
  cut(status: number): void {
    this.cutStatus = status;
    this.res.destroy();
  }

  /**
   * A graceful shutdown ran out of time: cancels the upstream call and ends the response the
   * way the client's SDK expects an error: 503 in the provider's shape when nothing was sent
   * yet, a provider-shaped SSE error event on a stream, or a dropped connection for a JSON
   * body already under way. Recorded as `shutdown`.
   */
  endForShutdown(): void {
    if (this.closed || this.res.writableEnded) return;
    this.fail('shutdown', SHUTDOWN_MESSAGE);
    this.abort.abort();
    if (!this.res.headersSent) {
      this.replyError(503, 'shutdown', SHUTDOWN_MESSAGE, { connection: 'close', 'retry-after': '1' });
      this.shutdownEnded = true;
      return;
    }
    this.shutdownEnded = true;
    if (this.sse) {
      const frame = this.route.errors.streamErrorFrame('shutdown', SHUTDOWN_MESSAGE);
      this.rec.bytesOut += Buffer.byteLength(frame);
      this.res.end(frame);
      return;
    }
    this.cut(503);
  }

  /** Records the outcome. Runs once, when the client response closes. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.untrack?.();
    const rec = this.rec;
    rec.info.bytesIn = this.body.length;
    const completed = this.res.writableFinished;
    if (!completed) {
      this.abort.abort();
      if (this.cutStatus === null && (!rec.errorType || rec.errorType === 'upstream_stream')) {
        // The client left first: that is what happened to this request.
        rec.fail('client_abort', rec.errorMessage ?? 'client closed the connection before the response completed');
      }
    }
    rec.traceFrom(this.req.headers);
    if (this.host.config.logMessages && this.body.length > 0) {
      const enc = this.req.headers['content-encoding'];
      const encoding = this.decoded === null && typeof enc === 'string' ? enc : null;
      rec.messages = { request: this.plainBody, forwarded: this.forward, contentEncoding: encoding };
    }
    rec.record(completed ? rec.status : (this.cutStatus ?? 499));
  }
}
