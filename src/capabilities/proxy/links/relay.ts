/**
 * The terminal of the forwarding chain: one upstream HTTP call over the shared undici agent,
 * as a dispatch handler (no Readable wrapping: chunks go to the chain as they arrive, with
 * backpressure through undici's dispatch controller). It records the call (attempt, start,
 * duration to the response headers, status or failure), cancels the call when the client goes
 * away, and classifies transport failures into what the client is told.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Agent, Dispatcher } from 'undici';
import { upstreamBase } from '../../../providers/routes.js';
import type { Config } from '../../../config/index.js';
import { type LogContext, logContext } from '../../../core/logger.js';
import type { UpstreamCall } from '../../../core/outcome.js';
import type { CallFailure, CallHandler, Dispatch, FlowControl, ForwardCall } from '../chain.js';
import { upstreamRequestHeaders } from '../headers.js';
import { applyTargetHeaders } from '../target.js';
import { classifyUpstreamError, type UpstreamFailure } from '../upstream.js';

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

/** What the client is told when a call fails before any response. */
export function failureBeforeResponse(kind: UpstreamFailure, err: unknown): CallFailure {
  const detail = (err as Error)?.message ?? String(err);
  if (kind === 'timeout' || kind === 'connect_timeout' || kind === 'body_timeout') {
    return { kind, midBody: false, status: 504, type: 'upstream_timeout', message: `Upstream timed out (${kind.replace('_', ' ')}): ${detail}`, detail };
  }
  return { kind, midBody: false, status: 502, type: 'upstream_connect', message: `Upstream unavailable (${kind}): ${detail}`, detail };
}

/** What is recorded when a call fails after its response started. */
export function failureMidBody(kind: UpstreamFailure, err: unknown): CallFailure {
  const detail = (err as Error)?.message ?? String(err);
  return { kind, midBody: true, status: 502, type: kind === 'body_timeout' ? 'upstream_timeout' : 'upstream_stream', message: `upstream connection failed mid-response (${kind}): ${detail}`, detail };
}

export const clientGone = (midBody: boolean): CallFailure => ({ kind: 'aborted', midBody, status: 499, type: 'client_abort', message: 'client closed the connection' });

class UpstreamAttempt implements Dispatcher.DispatchHandler, FlowControl {
  private controller: Dispatcher.DispatchController | null = null;
  private readonly record: UpstreamCall;
  private readonly tSend = performance.now();
  private headersSeen = false;
  private settled = false;
  /** undici calls back from its sockets' async context; these callbacks re-enter the request's own. */
  private readonly logCtx: LogContext;

  constructor(
    private readonly call: ForwardCall,
    private readonly handler: CallHandler,
  ) {
    const ex = call.ex;
    this.record = ex.rec.upstreamCall(call.round);
    if (call.target) {
      this.record.provider = call.target.provider;
      this.record.model = call.target.model;
    }
    this.logCtx = logContext.getStore() ?? { requestId: ex.id };
    ex.abort.once('abort', this.onClientGone);
  }

  pause(): void {
    this.controller?.pause();
  }

  resume(): void {
    this.controller?.resume();
  }

  private readonly onClientGone = () => {
    this.controller?.abort(new Error('client closed the connection'));
    if (this.settle()) this.handler.onError(clientGone(this.headersSeen));
  };

  /** Marks the call over (one terminal callback); false when it already was. */
  private settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.call.ex.abort.off('abort', this.onClientGone);
    return true;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.call.ex.abort.aborted) controller.abort(new Error('client closed the connection'));
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (this.settled) {
      controller.abort(new Error('client closed the connection'));
      return;
    }
    const rec = this.call.ex.rec;
    rec.upstreamMs = performance.now() - this.tSend;
    this.record.status = statusCode;
    this.record.durationMs = Math.round(rec.upstreamMs * 1000) / 1000;
    this.headersSeen = true;
    logContext.run(this.logCtx, () => this.handler.onHeaders(statusCode, headers, this));
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    this.handler.onData(chunk, this);
  }

  onResponseEnd(): void {
    if (!this.settle()) return;
    logContext.run(this.logCtx, () => this.handler.onEnd());
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (!this.settle()) return;
    const kind = this.call.ex.abort.aborted ? 'aborted' : classifyUpstreamError(err);
    if (!this.headersSeen) {
      this.record.error = kind;
      this.record.durationMs = Math.round((performance.now() - this.tSend) * 1000) / 1000;
    }
    const failure = kind === 'aborted' ? clientGone(this.headersSeen) : this.headersSeen ? failureMidBody(kind, err) : failureBeforeResponse(kind, err);
    logContext.run(this.logCtx, () => this.handler.onError(failure));
  }
}

/** The terminal dispatch: each call is one upstream attempt. */
export function relay(agent: Agent, config: Config): Dispatch {
  const stripInternal = config.stripInternalHeaders === 'enabled';
  return (call, handler) => {
    const ex = call.ex;
    const target = call.target;
    const { origin, basePath } = splitBase(target ? target.baseUrl : upstreamBase(config, ex.route.provider));
    const method = ex.info.method;
    const headers = upstreamRequestHeaders(ex.req.rawHeaders, ex.req.headers, {
      stripInternal,
      dropAuthorization: ex.authorizationIsProxyToken,
      dropContentEncoding: ex.modified || call.body !== undefined,
    });
    const options: Dispatcher.DispatchOptions = {
      origin,
      path: basePath + (target?.path ?? ex.path + ex.search),
      method: method as Dispatcher.HttpMethod,
      headers: applyTargetHeaders(headers, target),
      body: method === 'GET' || method === 'HEAD' ? null : (call.body ?? ex.forwardBody),
    };
    agent.dispatch(options, new UpstreamAttempt(call, handler));
  };
}
