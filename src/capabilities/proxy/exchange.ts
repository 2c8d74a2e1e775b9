/**
 * One proxied request from arrival to its single RequestOutcome. The exchange collects facts
 * as the request moves through the proxy and emits exactly one outcome when the client's
 * response closes, whatever happened (success, upstream error, rejection, client abort).
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Config } from '../../config/index.js';
import { Aborter } from './aborter.js';
import type { ProviderRoute } from '../../providers/routes.js';
import type { RequestFacts, ResponseFacts } from '../../providers/types.js';
import { apiKeyHashFrom, clientFrom, projectFrom, stackFrom, tagsFrom } from '../../core/identity.js';
import type { InFlight } from '../../core/app.js';
import type { Funnel } from '../../core/funnel.js';
import {
  type CompressionSummary,
  emptyCompression,
  emptyTools,
  type ErrorType,
  type OutcomeExtensions,
  type OutcomeKind,
  type RequestOutcome,
  type RequestStart,
  type UpstreamCall,
} from '../../core/outcome.js';
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

const headerString = (v: string | string[] | undefined): string | null => (typeof v === 'string' ? v : null);

export class Exchange implements InFlight {
  readonly id: string;
  readonly startedAt = Date.now();
  /** performance.now() at arrival. */
  readonly t0 = performance.now();
  readonly abort = new Aborter();
  readonly info: RequestStart;

  /** Body as received from the client. */
  body: Buffer = Buffer.alloc(0);
  /**
   * The body decoded from its Content-Encoding, once (null: it had none, or it was not read:
   * passthrough routes forward the encoded bytes without looking at them).
   */
  decoded: Buffer | null = null;
  /** Parsed JSON body (LLM routes). */
  json: Record<string, unknown> | null = null;
  facts: RequestFacts | null = null;
  /** Body to send upstream; differs from `body` only when a stage rewrote it. */
  private forward: Buffer | null = null;

  compression: CompressionSummary = emptyCompression();
  response: ResponseFacts | null = null;
  status = 0;
  errorType: ErrorType | null = null;
  errorMessage: string | null = null;
  cached = false;
  bytesOut = 0;
  attempts = 0;
  /** Milliseconds of proxy work on the request path. */
  overheadMs = 0;
  ttfbMs: number | null = null;
  upstreamMs: number | null = null;
  readonly stagesMs: Record<string, number> = {};
  readonly upstreamCalls: UpstreamCall[] = [];
  /** Authorization carried our proxy token rather than a provider key. */
  authorizationIsProxyToken = false;
  /** The response being relayed to the client is an event stream (set when its headers are sent). */
  sse = false;
  /** Facts other capabilities add to the outcome (e.g. `ccr` by the CCR stage, `placement` by compression). */
  readonly ext: OutcomeExtensions = {};
  /**
   * Replaces the plain forward when a stage needs to drive the upstream exchange itself
   * (CCR: answering `headroom_retrieve` calls with follow-up rounds). Null: `forward()`.
   */
  forwardWith: ((ex: Exchange) => Promise<void>) | null = null;

  private started = false;
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
    const h = req.headers;
    this.info = {
      kind,
      requestId: this.id,
      startedAt: this.startedAt,
      method: req.method ?? 'GET',
      path,
      provider: route.provider,
      api: route.api,
      requestedModel: null,
      stream: false,
      bytesIn: 0,
      messageCount: 0,
      tools: emptyTools(),
      stack: stackFrom(h),
      project: projectFrom(h, prefixProject),
      client: clientFrom(h),
      apiKeyHash: apiKeyHashFrom(h),
      tags: tagsFrom(h),
    };
    this.untrack = host.track?.(this) ?? null;
    res.once('close', () => this.finish());
  }

  get config(): Config {
    return this.host.config;
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
  }

  setFacts(facts: RequestFacts): void {
    this.facts = facts;
    this.info.requestedModel = facts.model;
    this.info.stream = facts.stream;
    this.info.messageCount = facts.messageCount;
    this.info.tools = facts.tools;
  }

  elapsed(): number {
    return performance.now() - this.t0;
  }

  /** Emits the start event (once; before the body is read, so a slow body shows as in flight); later calls are no-ops. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.info.bytesIn = this.body.length;
    this.host.funnel.start(this.info);
  }

  /** The body was read (and parsed): updates the figures of the started request. */
  announce(): void {
    this.info.bytesIn = this.body.length;
    if (!this.started) this.start();
    else this.host.funnel.update(this.info);
  }

  fail(type: ErrorType, message: string): void {
    this.errorType = type;
    this.errorMessage = message.slice(0, 500);
  }

  /** Headers every response of ours carries. */
  ourHeaders(): OutgoingHttpHeaders {
    return { 'x-headroom-request-id': this.id, 'x-headroom-overhead-ms': round2(this.overheadMs).toFixed(2) };
  }

  /** Sends a response produced by headroom-ts itself (error, rejection, cache hit). */
  reply(status: number, body: string | Buffer, headers: OutgoingHttpHeaders = {}): void {
    if (this.closed) return;
    if (this.res.headersSent) {
      this.res.end();
      return;
    }
    const buf = typeof body === 'string' ? Buffer.from(body) : body;
    this.status = status;
    this.res.writeHead(status, {
      'content-type': 'application/json',
      ...headers,
      ...this.ourHeaders(),
      'content-length': buf.length,
    });
    this.ttfbMs = this.elapsed();
    this.bytesOut += buf.length;
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
      this.bytesOut += Buffer.byteLength(frame);
      this.res.end(frame);
      return;
    }
    this.cut(503);
  }

  /** Builds and emits the outcome. Runs once, when the client response closes. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.untrack?.();
    this.start();
    this.info.bytesIn = this.body.length;
    const completed = this.res.writableFinished;
    if (!completed) {
      this.abort.abort();
      if (this.cutStatus === null && (!this.errorType || this.errorType === 'upstream_stream')) {
        // The client left first: that is what happened to this request.
        this.fail('client_abort', this.errorMessage ?? 'client closed the connection before the response completed');
      }
    }
    const status = completed ? this.status : (this.cutStatus ?? 499);
    const r = this.response;
    const info = this.info;
    // One literal with every field: spreading `info` and adding fields costs ~15 µs per request in V8.
    const outcome: RequestOutcome = {
      kind: info.kind,
      requestId: info.requestId,
      startedAt: info.startedAt,
      method: info.method,
      path: info.path,
      provider: info.provider,
      api: info.api,
      requestedModel: info.requestedModel,
      stream: info.stream,
      bytesIn: info.bytesIn,
      messageCount: info.messageCount,
      tools: { definitions: info.tools.definitions, results: info.tools.results, calls: r?.toolCalls ?? 0 },
      stack: info.stack,
      project: info.project,
      client: info.client,
      apiKeyHash: info.apiKeyHash,
      tags: info.tags,
      endedAt: Date.now(),
      model: r?.model ?? info.requestedModel,
      status,
      ok: this.errorType === null && status > 0 && status < 400,
      errorType: this.errorType,
      errorMessage: this.errorMessage,
      usage: r?.usage ?? null,
      compression: this.compression,
      timing: {
        totalMs: round2(this.elapsed()),
        overheadMs: round2(this.overheadMs),
        ttfbMs: this.ttfbMs === null ? null : round2(this.ttfbMs),
        upstreamMs: this.upstreamMs === null ? null : round2(this.upstreamMs),
        upstreamAttempts: this.attempts,
        stagesMs: this.stagesMs,
        upstreamCalls: this.upstreamCalls,
      },
      bytesOut: this.bytesOut,
      finishReason: r?.finishReason ?? null,
      cached: this.cached,
      modified: this.modified,
      traceparent: headerString(this.req.headers.traceparent),
      tracestate: headerString(this.req.headers.tracestate),
      ext: this.ext,
    };
    if (this.host.config.logMessages && this.body.length > 0) {
      const enc = this.req.headers['content-encoding'];
      const encoding = this.decoded === null && typeof enc === 'string' ? enc : null;
      outcome.messages = { request: this.plainBody, forwarded: this.forward, contentEncoding: encoding };
    }
    this.host.funnel.emit(outcome);
  }
}
