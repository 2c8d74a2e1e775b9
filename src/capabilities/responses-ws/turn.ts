/**
 * One turn of a Responses WebSocket session: a `response.create` the client sent and the
 * events that answer it, up to its terminal event (`response.completed`, `.incomplete`,
 * `.failed`, or an `error`). It is what the compression stage works on (a
 * `CompressionTarget`: the message's body, the upgrade's headers) and it owns the turn's
 * `OutcomeRecorder`, into which every fact goes (the one outcome is the recorder's). A session
 * that produced no turn (a refused upgrade, an upstream that could not be reached, a message
 * that was not JSON) records through a turn of number 0 with an empty or rejected body.
 * Usage, model, finish reason and tool calls are read from the events as they go by; deltas
 * are not parsed.
 */
import type { IncomingMessage } from 'node:http';
import { describeResponsesRequest, responsesUsage } from '../../providers/openai.js';
import { emptyFacts, obj, type RequestFacts, type ResponseFacts, str } from '../../providers/types.js';
import type { Funnel } from '../../core/funnel.js';
import { type ErrorType, errorTypeForUpstreamStatus, type UpstreamCall } from '../../core/outcome.js';
import { OutcomeRecorder, startFrom } from '../../core/recorder.js';
import type { CompressionTarget } from '../compression/api.js';
import type {} from './api.js';

const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed', 'response.done']);
const TYPE_RE = /"type"\s*:\s*"([^"]+)"/;

/** Where the session's requests are attributed (headers and path prefix of the upgrade). */
export interface SessionIdentity {
  readonly req: IncomingMessage;
  readonly path: string;
  readonly prefixProject: string | null;
}

export class Turn implements CompressionTarget {
  readonly route = { api: 'responses' as const };
  readonly req: IncomingMessage;
  /** The turn's facts and its one outcome (the compression stage writes to it too). */
  readonly rec: OutcomeRecorder;
  json: Record<string, unknown> | null = null;
  facts: RequestFacts | null = null;
  /** The message sent upstream when compression rewrote it (else the client's bytes go). */
  private forward: Buffer | null = null;
  /** The upstream's id of the response answering this turn (from `response.created`). */
  responseId: string | null = null;
  private sentAt = 0;
  private call: UpstreamCall | null = null;

  constructor(
    funnel: Funnel,
    who: SessionIdentity,
    id: string,
    /** The message as the client sent it (empty for a session-level outcome). */
    readonly body: Buffer,
    session: string,
    turn: number,
    t0 = performance.now(),
  ) {
    const req = who.req;
    this.req = req;
    const info = startFrom(req.headers, { kind: 'proxy', requestId: id, method: req.method ?? 'GET', path: who.path, provider: 'openai', api: 'responses', prefixProject: who.prefixProject });
    // every turn over a WebSocket is streamed back as events
    info.stream = true;
    info.bytesIn = body.length;
    this.rec = new OutcomeRecorder(funnel, info, t0);
    this.rec.response = emptyFacts();
    this.rec.ext.ws = { session, turn };
    this.rec.traceFrom(req.headers);
  }

  get id(): string {
    return this.rec.info.requestId;
  }

  /** What the events said so far (usage, model, finish reason, tool calls). */
  get response(): ResponseFacts {
    return (this.rec.response ??= emptyFacts());
  }

  get plainBody(): Buffer {
    return this.body;
  }

  get forwardBody(): Buffer {
    return this.forward ?? this.body;
  }

  setForwardBody(body: Buffer): void {
    this.forward = body.equals(this.body) ? null : body;
    this.rec.modified = this.forward !== null;
  }

  /** The parsed `response.create` (its Responses fields describe the request, in the start facts). */
  setJson(json: Record<string, unknown>): void {
    this.json = json;
    const facts = describeResponsesRequest(json);
    facts.stream = true;
    this.facts = facts;
    const info = this.rec.info;
    info.requestedModel = facts.model;
    info.messageCount = facts.messageCount;
    info.tools = { ...facts.tools };
  }

  /** Records the turn's error and the status its outcome gets (an answered turn is 200). */
  fail(type: ErrorType, message: string, status: number): void {
    this.rec.fail(type, message);
    this.rec.status = status;
  }

  /** The message went upstream. */
  sent(): void {
    this.sentAt = performance.now();
    this.call = this.rec.upstreamCall();
  }

  /** Records the outcome (once; later calls do nothing), with the bodies when `--log-messages` keeps them. */
  record(logMessages: boolean): void {
    const rec = this.rec;
    if (rec.recorded) return;
    if (logMessages && this.body.length > 0) rec.messages = { request: this.body, forwarded: this.forward, contentEncoding: null };
    rec.record(rec.status);
  }

  /**
   * An event from the upstream for this turn (as received). Says whether it ended the turn
   * (`end`), brought figures the live view shows (`progress`), or neither. Only events that
   * carry facts are parsed; deltas are not. A terminal event of a response that already ended
   * (`finished`: a `response.done` after its `response.completed`) is not this turn's.
   */
  observe(data: Buffer, finished: ReadonlySet<string>): 'end' | 'progress' | null {
    const rec = this.rec;
    rec.bytesOut += data.length;
    let progress = false;
    if (rec.ttfbMs === null) {
      progress = true;
      rec.ttfbMs = rec.elapsed();
      rec.upstreamMs = this.sentAt ? performance.now() - this.sentAt : null;
      const call = this.call;
      if (call && rec.upstreamMs !== null) {
        call.durationMs = Math.round(rec.upstreamMs * 1000) / 1000;
        call.status = 200;
      }
    }
    const type = TYPE_RE.exec(data.toString('utf8', 0, Math.min(data.length, 200)))?.[1] ?? '';
    if (type.endsWith('.delta') || (type.endsWith('.done') && type !== 'response.done')) return progress ? 'progress' : null;
    if (type === 'response.created' || type === 'response.in_progress') {
      const r = obj(obj(parse(data))?.response);
      this.response.model = this.response.model ?? str(r?.model);
      this.responseId = this.responseId ?? str(r?.id);
      return 'progress';
    }
    if (type === 'response.output_item.added') {
      const t = obj(obj(parse(data))?.item)?.type;
      if (t === 'function_call' || t === 'custom_tool_call' || t === 'local_shell_call' || t === 'apply_patch_call') {
        this.response.toolCalls++;
        return 'progress';
      }
      return progress ? 'progress' : null;
    }
    if (TERMINAL.has(type)) {
      const r = obj(obj(parse(data))?.response);
      const id = str(r?.id);
      if (id !== null && (this.responseId !== null ? id !== this.responseId : finished.has(id))) return null;
      const f = this.response;
      if (r) {
        f.model = str(r.model) ?? f.model;
        f.usage = responsesUsage(r.usage, 'sse') ?? f.usage;
        f.finishReason = str(obj(r.incomplete_details)?.reason) ?? str(r.status) ?? f.finishReason;
      }
      f.complete = true;
      if (type === 'response.failed') {
        const message = str(obj(r?.error)?.message) ?? 'response failed';
        f.streamError = message;
        this.fail('upstream_stream', message, 200);
      } else rec.status = 200;
      return 'end';
    }
    if (type === 'error') {
      const e = obj(parse(data));
      const status = typeof e?.status === 'number' ? e.status : 0;
      const message = str(obj(e?.error)?.message) ?? str(e?.message) ?? 'upstream error event';
      this.response.streamError = message;
      this.fail(errorTypeForUpstreamStatus(status) ?? 'upstream_stream', message, status >= 400 ? status : 502);
      return 'end';
    }
    return progress ? 'progress' : null;
  }
}

function parse(data: Buffer): unknown {
  try {
    return JSON.parse(data.toString('utf8'));
  } catch {
    return null;
  }
}
