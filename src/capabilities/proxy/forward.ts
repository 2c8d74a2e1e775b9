/**
 * Sends a request upstream and relays the response to the client as it arrives.
 *
 * Implemented as an undici dispatch handler rather than `request()`: the response body is
 * never wrapped in a Readable stream, chunks go straight to the client socket (with
 * backpressure through the dispatch controller), and usage is read on the side. Retries
 * (429/5xx/connection errors, honouring Retry-After) happen only before the first byte of a
 * response reaches the client.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { upstreamBase } from '../../providers/routes.js';
import { decodeResponseBody } from '../../providers/content-encoding.js';
import type { StreamObserver } from '../../providers/types.js';
import { type LogContext, logContext } from '../../core/logger.js';
import { errorTypeForUpstreamStatus, type UpstreamCall } from '../../core/outcome.js';
import type { Exchange } from './exchange.js';
import type { ProxyHost } from './host.js';
import { downstreamResponseHeaders, upstreamRequestHeaders } from './headers.js';
import { backoffMs, delayForStatus, type RetryPolicy, sleep } from './retry.js';
import type { CompletedResponse } from './stage.js';
import { classifyUpstreamError, type UpstreamFailure } from './upstream.js';

/** Largest non-streaming response body kept in memory to read usage from. */
const MAX_CAPTURE_BYTES = 16 * 1024 * 1024;

const originCache = new Map<string, { origin: string; basePath: string }>();
function splitBase(base: string): { origin: string; basePath: string } {
  let v = originCache.get(base);
  if (!v) {
    const u = new URL(base);
    v = { origin: u.origin, basePath: u.pathname === '/' ? '' : u.pathname };
    originCache.set(base, v);
  }
  return v;
}

type Phase = 'waiting' | 'discarding' | 'relaying' | 'tapped' | 'done';

/**
 * Takes over what the client sees of an upstream response (CCR resolution). A tap receives
 * successful responses of the client's own call and every final response of a follow-up
 * call (`round` > 0), and writes to the client itself.
 */
export interface RelayTap {
  /** A final response started; `headers` are the client-facing ones (hop-by-hop removed, ours added). */
  start(status: number, headers: OutgoingHttpHeaders, contentEncoding: unknown): void;
  /** A chunk of its body; returning false pauses the upstream until the client drains. */
  data(chunk: Buffer): boolean;
  end(): void;
  /**
   * The call failed: mid-body (`midBody`), or, for follow-up calls only, before any response
   * (retries exhausted). Not called when the client went away.
   */
  error(failure: { status: number; type: 'upstream_timeout' | 'upstream_connect' | 'upstream_stream'; message: string }, midBody: boolean): void;
}

export interface ForwardOptions {
  /** Body to send instead of `ex.forwardBody` (a follow-up round). */
  body?: Buffer;
  tap?: RelayTap;
  /** 0 for the client's request, 1.. for follow-up calls the proxy makes itself. */
  round?: number;
}

class Forwarder implements Dispatcher.DispatchHandler {
  private phase: Phase = 'waiting';
  private controller: Dispatcher.DispatchController | null = null;
  private readonly policy: RetryPolicy;
  private readonly options: Dispatcher.DispatchOptions;
  private readonly tap: RelayTap | null;
  private readonly round: number;
  /** Attempts of this call (retries); `ex.attempts` counts every upstream attempt of the request. */
  private attempts = 0;
  private retryDelay = 0;
  private call: UpstreamCall | null = null;
  private tSend = 0;
  private observer: StreamObserver | null = null;
  private capture: Buffer[] | null = null;
  private captured = 0;
  private isSse = false;
  private status = 0;
  private headers: OutgoingHttpHeaders = {};
  private contentEncoding: unknown;
  private drainPending = false;
  private resolve!: () => void;
  readonly done: Promise<void>;
  /** undici calls back from its sockets' async context; these callbacks re-enter the request's own. */
  private readonly logCtx: LogContext;

  constructor(
    private readonly ex: Exchange,
    private readonly host: ProxyHost,
    opts: ForwardOptions = {},
  ) {
    const config = ex.config;
    this.tap = opts.tap ?? null;
    this.round = opts.round ?? 0;
    this.policy = { maxAttempts: config.retryMaxAttempts, baseDelayMs: config.retryBaseDelayMs, maxDelayMs: config.retryMaxDelayMs };
    const { origin, basePath } = splitBase(upstreamBase(config, ex.route.provider));
    const method = ex.info.method;
    this.options = {
      origin,
      path: basePath + ex.path + ex.search,
      method: method as Dispatcher.HttpMethod,
      headers: upstreamRequestHeaders(ex.req.rawHeaders, ex.req.headers, {
        stripInternal: config.stripInternalHeaders === 'enabled',
        dropAuthorization: ex.authorizationIsProxyToken,
        dropContentEncoding: ex.modified || opts.body !== undefined,
      }),
      body: method === 'GET' || method === 'HEAD' ? null : opts.body ?? ex.forwardBody,
    };
    this.logCtx = logContext.getStore() ?? { requestId: ex.id };
    this.done = new Promise((r) => {
      this.resolve = r;
    });
    ex.abort.once('abort', this.onClientGone);
  }

  start(): void {
    this.ex.attempts++;
    this.attempts++;
    this.phase = 'waiting';
    this.tSend = performance.now();
    this.call = { attempt: this.ex.attempts, startedAt: Date.now(), durationMs: 0, status: null, error: null };
    if (this.round > 0) this.call.round = this.round;
    this.ex.upstreamCalls.push(this.call);
    this.host.agent.dispatch(this.options, this);
  }

  private readonly onClientGone = () => {
    this.controller?.abort(new Error('client closed the connection'));
    this.finish();
  };

  private finish(): void {
    if (this.phase === 'done') return;
    this.phase = 'done';
    this.ex.abort.off('abort', this.onClientGone);
    this.resolve();
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.ex.abort.aborted) controller.abort(new Error('client closed the connection'));
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    logContext.run(this.logCtx, () => this.responseStart(controller, statusCode, headers));
  }

  private responseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    const ex = this.ex;
    ex.upstreamMs = performance.now() - this.tSend;
    this.call!.status = statusCode;
    this.call!.durationMs = Math.round(ex.upstreamMs * 1000) / 1000;
    if (this.phase === 'done' || ex.closed) {
      controller.abort(new Error('client closed the connection'));
      return;
    }
    const delay = delayForStatus(this.policy, this.attempts, statusCode, headers);
    if (delay !== null) {
      this.phase = 'discarding';
      this.retryDelay = delay;
      this.host.log.warn({ status: statusCode, attempt: ex.attempts, delay_ms: delay }, 'upstream returned a retryable status; retrying');
      return;
    }
    if (this.tap && (statusCode < 300 || this.round > 0)) {
      this.phase = 'tapped';
      const out = downstreamResponseHeaders(headers);
      const ours = ex.ourHeaders();
      out['x-headroom-request-id'] = ours['x-headroom-request-id'];
      out['x-headroom-overhead-ms'] = ours['x-headroom-overhead-ms'];
      this.tap.start(statusCode, out, headers['content-encoding']);
      return;
    }
    this.phase = 'relaying';
    this.startRelay(statusCode, headers);
  }

  private startRelay(status: number, upstreamHeaders: IncomingHttpHeaders): void {
    const t = performance.now();
    const { ex, host } = this;
    this.status = status;
    ex.status = status;
    const upstreamError = errorTypeForUpstreamStatus(status);
    if (upstreamError) ex.fail(upstreamError, `upstream returned HTTP ${status}`);
    const contentType = upstreamHeaders['content-type'];
    this.isSse = typeof contentType === 'string' && contentType.startsWith('text/event-stream');
    ex.sse = this.isSse;
    this.contentEncoding = upstreamHeaders['content-encoding'];
    const adapter = ex.route.adapter;
    if (this.isSse && adapter && status < 300) {
      this.observer = adapter.streamObserver((facts) => {
        host.funnel.progress({
          requestId: ex.id,
          model: facts.model,
          inputTokens: facts.usage?.input ?? 0,
          outputTokens: facts.usage?.output ?? 0,
          cacheReadTokens: facts.usage?.cacheRead ?? 0,
          cacheWriteTokens: facts.usage?.cacheWrite ?? 0,
          toolCalls: facts.toolCalls,
          bytesOut: ex.bytesOut,
          ttfbMs: ex.ttfbMs,
        });
      });
    } else if (!this.isSse && (adapter || status >= 400)) {
      // Keep a copy of non-streaming bodies: usage, error detail, response stages.
      this.capture = [];
    }
    const headers = downstreamResponseHeaders(upstreamHeaders);
    this.headers = headers;
    ex.overheadMs += performance.now() - t;
    const ours = ex.ourHeaders();
    headers['x-headroom-request-id'] = ours['x-headroom-request-id'];
    headers['x-headroom-overhead-ms'] = ours['x-headroom-overhead-ms'];
    ex.res.writeHead(status, headers);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.phase !== 'relaying') {
      if (this.phase === 'tapped') this.tapData(controller, chunk);
      return; // a retried response's body is dropped
    }
    const ex = this.ex;
    const tc = performance.now();
    if (ex.ttfbMs === null) ex.ttfbMs = tc - ex.t0;
    ex.bytesOut += chunk.length;
    if (!ex.res.write(chunk) && !this.drainPending) {
      this.drainPending = true;
      controller.pause();
      ex.res.once('drain', () => {
        this.drainPending = false;
        controller.resume();
      });
    }
    if (this.observer) this.observer.push(chunk);
    else if (this.capture) {
      this.captured += chunk.length;
      if (this.captured <= MAX_CAPTURE_BYTES) this.capture.push(chunk);
    }
    ex.overheadMs += performance.now() - tc;
  }

  private tapData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.tap!.data(chunk) || this.drainPending || this.ex.closed) return;
    this.drainPending = true;
    controller.pause();
    this.ex.res.once('drain', () => {
      this.drainPending = false;
      controller.resume();
    });
  }

  onResponseEnd(): void {
    logContext.run(this.logCtx, () => this.responseEnd());
  }

  private responseEnd(): void {
    if (this.phase === 'tapped') {
      this.tap!.end();
      this.finish();
      return;
    }
    if (this.phase === 'discarding') {
      void sleep(this.retryDelay, this.ex.abort).then((ok) => (ok && !this.ex.closed ? this.start() : this.finish()));
      return;
    }
    if (this.phase !== 'relaying') return;
    const ex = this.ex;
    if (this.observer) {
      ex.response = this.observer.end();
      if (!ex.errorType) {
        if (ex.response.streamError) ex.fail('upstream_stream', `upstream stream error: ${ex.response.streamError}`);
        else if (!ex.response.complete) {
          ex.fail('upstream_stream', 'upstream stream ended before its final event');
          this.writeStreamError('upstream stream ended before its final event');
        }
      }
    }
    ex.res.end();
    this.finish();
    if (this.capture && this.captured <= MAX_CAPTURE_BYTES) this.afterBody(Buffer.concat(this.capture, this.captured));
    else if (this.capture && this.status < 300) this.checkFraming();
  }

  /** A body too large to keep: its length is still checked against what the upstream declared. */
  private checkFraming(): void {
    const declared = Number(this.headers['content-length']);
    if (Number.isFinite(declared) && declared !== this.captured) this.incomplete(`${this.captured} of ${declared} declared bytes`);
  }

  /** A 2xx JSON body that ended short: the client has the upstream's bytes, but this was no success. */
  private incomplete(detail: string): void {
    const ex = this.ex;
    if (ex.errorType) return;
    ex.fail('upstream_stream', `upstream returned an incomplete response body (${detail})`);
    ex.status = 502;
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    logContext.run(this.logCtx, () => this.responseError(err));
  }

  private responseError(err: Error): void {
    const ex = this.ex;
    if (this.phase === 'done' || ex.abort.aborted) {
      this.finish();
      return;
    }
    const kind = classifyUpstreamError(err);
    if (this.call && this.call.status === null) {
      this.call.error = kind;
      this.call.durationMs = Math.round((performance.now() - this.tSend) * 1000) / 1000;
    }
    if (this.phase === 'tapped') {
      const type = kind === 'body_timeout' ? 'upstream_timeout' : 'upstream_stream';
      this.tap!.error({ status: 502, type, message: `upstream connection failed mid-response (${kind}): ${err.message}` }, true);
      this.finish();
      return;
    }
    if (this.phase === 'relaying') {
      this.failMidResponse(kind, err);
      return;
    }
    if (kind === 'aborted' || ex.closed) {
      this.finish();
      return;
    }
    const retryable = kind === 'connect' || kind === 'connect_timeout' || kind === 'reset';
    if (this.phase === 'waiting' && retryable && this.attempts < this.policy.maxAttempts) {
      const delay = backoffMs(this.policy, ex.attempts);
      this.host.log.warn({ failure: kind, attempt: ex.attempts, delay_ms: delay }, 'upstream request failed; retrying');
      void sleep(delay, ex.abort).then((ok) => (ok && !ex.closed ? this.start() : this.finish()));
      return;
    }
    const e = failureToError(kind, err);
    if (this.tap && this.round > 0) this.tap.error(e, false);
    else ex.replyError(e.status, e.type, e.message);
    this.finish();
  }

  private failMidResponse(kind: UpstreamFailure, err: Error): void {
    const ex = this.ex;
    const message = `upstream connection failed mid-response (${kind}): ${err.message}`;
    if (this.observer) ex.response = this.observer.end();
    ex.fail(kind === 'body_timeout' ? 'upstream_timeout' : 'upstream_stream', message);
    if (this.isSse) {
      this.writeStreamError(message);
      ex.res.end();
    } else {
      // A JSON body cut short cannot be repaired: drop the connection so the client sees it,
      // recorded as the upstream's failure (502), not as the client going away.
      ex.cut(502);
    }
    this.finish();
  }

  private writeStreamError(message: string): void {
    const ex = this.ex;
    const frame = ex.route.errors.streamErrorFrame(ex.errorType ?? 'upstream_stream', message);
    ex.bytesOut += Buffer.byteLength(frame);
    ex.res.write(frame);
  }

  /** Reads usage (or error detail) from a complete non-streaming body, after the client has it. */
  private afterBody(raw: Buffer): void {
    const { ex, host, status } = this;
    let body: Buffer;
    try {
      body = decodeResponseBody(raw, this.contentEncoding);
    } catch (err) {
      if (status < 300 && ex.route.adapter) this.incomplete(`it could not be decoded: ${(err as Error).message}`);
      return;
    }
    if (status >= 400) {
      ex.errorMessage = `upstream returned HTTP ${status}: ${body.toString('utf8', 0, 300)}`;
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
    ex.response = adapter.factsFromJson(json);
    if (ex.response.streamError && !ex.errorType) ex.fail('upstream_stream', ex.response.streamError);
    runResponseStages(ex, host, { status, headers: this.headers, body });
  }
}

/** Hands a complete non-streaming response, as the client received it, to the response stages. */
export function runResponseStages(ex: Exchange, host: ProxyHost, completed: CompletedResponse): void {
  for (const stage of host.stages) {
    if (!stage.afterResponse) continue;
    try {
      stage.afterResponse(ex, completed);
    } catch (err) {
      host.log.error({ err: err instanceof Error ? err.message : String(err), stage: stage.name }, 'response stage failed');
    }
  }
}

export function failureToError(kind: UpstreamFailure, err: unknown): { status: number; type: 'upstream_timeout' | 'upstream_connect'; message: string } {
  const detail = (err as Error)?.message ?? String(err);
  if (kind === 'timeout' || kind === 'connect_timeout' || kind === 'body_timeout') {
    return { status: 504, type: 'upstream_timeout', message: `Upstream timed out (${kind.replace('_', ' ')}): ${detail}` };
  }
  return { status: 502, type: 'upstream_connect', message: `Upstream unavailable (${kind}): ${detail}` };
}

/** Forwards the exchange upstream; resolves when the response is complete or abandoned. */
export function forward(ex: Exchange, host: ProxyHost, opts?: ForwardOptions): Promise<void> {
  const f = new Forwarder(ex, host, opts);
  f.start();
  return f.done;
}
