/**
 * One turn of a Responses WebSocket session: a `response.create` the client sent and the
 * events that answer it, up to its terminal event (`response.completed`, `.incomplete`,
 * `.failed`, or an `error`). It is what the compression stage works on (a
 * `CompressionTarget`: the message's body, the upgrade's headers) and what the turn's single
 * outcome is built from (`outcome.ts`). Usage, model, finish reason and tool calls are read
 * from the events as they go by; deltas are not parsed.
 */
import type { IncomingMessage } from 'node:http';
import { describeResponsesRequest, responsesUsage } from '../../providers/openai.js';
import { emptyFacts, obj, type RequestFacts, type ResponseFacts, str } from '../../providers/types.js';
import { type CompressionSummary, emptyCompression, type ErrorType, errorTypeForUpstreamStatus, type OutcomeExtensions, type UpstreamCall } from '../../core/outcome.js';
import type { CompressionTarget } from '../compression/api.js';
import type {} from './api.js';

const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed', 'response.done']);
const TYPE_RE = /"type"\s*:\s*"([^"]+)"/;

export class Turn implements CompressionTarget {
  readonly route = { api: 'responses' as const };
  readonly startedAt = Date.now();
  readonly t0 = performance.now();
  json: Record<string, unknown> | null = null;
  facts: RequestFacts | null = null;
  compression: CompressionSummary = emptyCompression();
  readonly ext: OutcomeExtensions;
  /** What the compression stage writes to: the turn itself (it builds its own outcome). */
  readonly rec: { compression: CompressionSummary; readonly ext: OutcomeExtensions } = this;
  /** The message sent upstream when compression rewrote it (else the client's bytes go). */
  private forward: Buffer | null = null;

  response: ResponseFacts = emptyFacts();
  /** The status recorded: 200 for an answered turn, else the error's. */
  status = 0;
  errorType: ErrorType | null = null;
  errorMessage: string | null = null;
  bytesOut = 0;
  overheadMs = 0;
  ttfbMs: number | null = null;
  upstreamMs: number | null = null;
  readonly stagesMs: Record<string, number> = {};
  readonly upstreamCalls: UpstreamCall[] = [];
  /** The upstream's id of the response answering this turn (from `response.created`). */
  responseId: string | null = null;
  private sentAt = 0;
  endedAt = 0;
  done = false;

  constructor(
    readonly id: string,
    readonly req: IncomingMessage,
    /** The message as the client sent it (empty for a session-level outcome). */
    readonly body: Buffer,
    session: string,
    turn: number,
  ) {
    this.ext = { ws: { session, turn } };
  }

  get plainBody(): Buffer {
    return this.body;
  }

  get forwardBody(): Buffer {
    return this.forward ?? this.body;
  }

  get modified(): boolean {
    return this.forward !== null;
  }

  setForwardBody(body: Buffer): void {
    this.forward = body.equals(this.body) ? null : body;
  }

  /** The parsed `response.create` (its Responses fields describe the request). */
  setJson(json: Record<string, unknown>): void {
    this.json = json;
    this.facts = describeResponsesRequest(json);
    // every turn over a WebSocket is streamed back as events
    this.facts.stream = true;
  }

  elapsed(): number {
    return performance.now() - this.t0;
  }

  fail(type: ErrorType, message: string, status: number): void {
    this.errorType = type;
    this.errorMessage = message.slice(0, 500);
    this.status = status;
  }

  /** The message went upstream. */
  sent(): void {
    this.sentAt = performance.now();
    this.upstreamCalls.push({ attempt: 1, startedAt: Date.now(), durationMs: 0, status: null, error: null });
  }

  /**
   * An event from the upstream for this turn (as received). Says whether it ended the turn
   * (`end`), brought figures the live view shows (`progress`), or neither. Only events that
   * carry facts are parsed; deltas are not. A terminal event of a response that already ended
   * (`finished`: a `response.done` after its `response.completed`) is not this turn's.
   */
  observe(data: Buffer, finished: ReadonlySet<string>): 'end' | 'progress' | null {
    this.bytesOut += data.length;
    let progress = false;
    if (this.ttfbMs === null) {
      progress = true;
      this.ttfbMs = this.elapsed();
      this.upstreamMs = this.sentAt ? performance.now() - this.sentAt : null;
      const call = this.upstreamCalls[0];
      if (call && this.upstreamMs !== null) {
        call.durationMs = Math.round(this.upstreamMs * 1000) / 1000;
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
      } else this.status = 200;
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
