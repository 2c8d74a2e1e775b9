/**
 * The OutcomeRecorder: the facts of one request as they are learned (timings by stage, the
 * error, usage, compression, upstream calls, capability extensions) and the one place that
 * turns them into its single RequestOutcome. Whatever handles a request (the proxy's
 * exchange, `POST /v1/compress`, the hook) owns one recorder, writes facts into it and calls
 * `record(status)` when the client's response is over; the outcome reaches the funnel exactly
 * once (a second `record` is a no-op), and the start event always precedes it.
 *
 * ```ts
 * const rec = new OutcomeRecorder(funnel, startFrom(req, { kind: 'compress', requestId, path, ... }));
 * rec.start();                 // in flight (live view)
 * rec.fail('invalid_request', 'Missing required field: model');
 * rec.stage('read', ms);       // timing.stagesMs
 * rec.record(400);             // the one outcome
 * ```
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ResponseFacts } from '../providers/types.js';
import type { Funnel } from './funnel.js';
import { apiKeyHashFrom, clientFrom, projectFrom, stackFrom, tagsFrom } from './identity.js';
import {
  type ApiKind,
  type CompressionSummary,
  emptyCompression,
  emptyTools,
  type ErrorType,
  type OutcomeExtensions,
  type OutcomeKind,
  type OutcomeMessages,
  type ProviderId,
  type RequestOutcome,
  type RequestStart,
  type UpstreamCall,
} from './outcome.js';
import { round2 } from '../util/round.js';

const headerString = (v: string | string[] | undefined): string | null => (typeof v === 'string' ? v : null);

export interface StartFields {
  kind: OutcomeKind;
  requestId: string;
  method: string;
  path: string;
  provider: ProviderId;
  api: ApiKind;
  /** The `/p/<project>/` prefix the path came with, if any. */
  prefixProject: string | null;
}

/** The start facts of a request from its headers (identity, project, tags), before its body is read. */
export function startFrom(headers: IncomingHttpHeaders, f: StartFields, startedAt = Date.now()): RequestStart {
  return {
    kind: f.kind,
    requestId: f.requestId,
    startedAt,
    method: f.method,
    path: f.path,
    provider: f.provider,
    api: f.api,
    requestedModel: null,
    stream: false,
    bytesIn: 0,
    messageCount: 0,
    tools: emptyTools(),
    stack: stackFrom(headers),
    project: projectFrom(headers, f.prefixProject),
    client: clientFrom(headers),
    apiKeyHash: apiKeyHashFrom(headers),
    tags: tagsFrom(headers),
  };
}

export class OutcomeRecorder {
  /** performance.now() at arrival. */
  readonly t0: number;
  status = 0;
  errorType: ErrorType | null = null;
  errorMessage: string | null = null;
  compression: CompressionSummary = emptyCompression();
  /** What the response said (usage, model, finish reason, tool calls). */
  response: ResponseFacts | null = null;
  cached = false;
  /** The forwarded body differs from what the client sent. */
  modified = false;
  bytesOut = 0;
  /** Milliseconds of our own work on the request path. */
  overheadMs = 0;
  ttfbMs: number | null = null;
  upstreamMs: number | null = null;
  readonly stagesMs: Record<string, number> = {};
  readonly upstreamCalls: UpstreamCall[] = [];
  /** Facts other capabilities add (typed per capability by declaration merging). */
  readonly ext: OutcomeExtensions = {};
  /** Bodies for `--log-messages` (set by the owner when it keeps them). */
  messages: OutcomeMessages | undefined;
  traceparent: string | null = null;
  tracestate: string | null = null;
  private started = false;
  private recordedOutcome: RequestOutcome | null = null;

  constructor(
    private readonly funnel: Funnel,
    readonly info: RequestStart,
    t0 = performance.now(),
  ) {
    this.t0 = t0;
  }

  /** Keeps the client's W3C trace context for trace sinks. */
  traceFrom(headers: IncomingHttpHeaders): void {
    this.traceparent = headerString(headers.traceparent);
    this.tracestate = headerString(headers.tracestate);
  }

  /** Upstream attempts made (one per recorded upstream call). */
  get attempts(): number {
    return this.upstreamCalls.length;
  }

  get recorded(): boolean {
    return this.recordedOutcome !== null;
  }

  elapsed(): number {
    return performance.now() - this.t0;
  }

  /** Emits the start event (once); later calls are no-ops. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.funnel.start(this.info);
  }

  /** The start facts changed (the body was read and parsed): tells the sinks, starting first if needed. */
  update(): void {
    if (!this.started) this.start();
    else this.funnel.update(this.info);
  }

  /** Records the request's error (the last one wins; messages are capped). */
  fail(type: ErrorType, message: string): void {
    this.errorType = type;
    this.errorMessage = message.slice(0, 500);
  }

  /** Records a stage's time (milliseconds, kept to the microsecond). */
  stage(name: string, ms: number): void {
    this.stagesMs[name] = Math.round(ms * 1000) / 1000;
  }

  /** Records an upstream call as it is dispatched; the caller fills in status/duration/error. */
  upstreamCall(round = 0): UpstreamCall {
    const call: UpstreamCall = { attempt: this.upstreamCalls.length + 1, startedAt: Date.now(), durationMs: 0, status: null, error: null };
    if (round > 0) call.round = round;
    this.upstreamCalls.push(call);
    return call;
  }

  /** Builds the outcome with `status` as sent to the client and emits it; only the first call does anything. */
  record(status: number): RequestOutcome | null {
    if (this.recordedOutcome) return null;
    this.start();
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
        upstreamAttempts: this.upstreamCalls.length,
        stagesMs: this.stagesMs,
        upstreamCalls: this.upstreamCalls,
      },
      bytesOut: this.bytesOut,
      finishReason: r?.finishReason ?? null,
      cached: this.cached,
      modified: this.modified,
      traceparent: this.traceparent,
      tracestate: this.tracestate,
      ext: this.ext,
    };
    if (this.messages) outcome.messages = this.messages;
    this.recordedOutcome = outcome;
    this.funnel.emit(outcome);
    return outcome;
  }
}
