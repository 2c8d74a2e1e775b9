/**
 * The start event and the single RequestOutcome of one WebSocket turn (or of a session that
 * produced no turn: a refused upgrade, an upstream that could not be reached, a message that
 * was not JSON). Every fact comes from the `Turn`; this file only lays them out, so it is the
 * one place to change when the way outcomes are recorded changes.
 */
import type { IncomingMessage } from 'node:http';
import { apiKeyHashFrom, clientFrom, projectFrom, stackFrom, tagsFrom } from '../../core/identity.js';
import { emptyTools, type RequestOutcome, type RequestStart } from '../../core/outcome.js';
import type { Turn } from './turn.js';

const round2 = (n: number) => Math.round(n * 100) / 100;
const headerString = (v: string | string[] | undefined): string | null => (typeof v === 'string' ? v : null);

/** Where the session's requests are attributed (headers and path prefix of the upgrade). */
export interface SessionIdentity {
  readonly req: IncomingMessage;
  readonly path: string;
  readonly prefixProject: string | null;
}

export function turnStart(turn: Turn, who: SessionIdentity): RequestStart {
  const h = who.req.headers;
  const f = turn.facts;
  return {
    kind: 'proxy',
    requestId: turn.id,
    startedAt: turn.startedAt,
    method: who.req.method ?? 'GET',
    path: who.path,
    provider: 'openai',
    api: 'responses',
    requestedModel: f?.model ?? null,
    stream: true,
    bytesIn: turn.body.length,
    messageCount: f?.messageCount ?? 0,
    tools: f ? { ...f.tools } : emptyTools(),
    stack: stackFrom(h),
    project: projectFrom(h, who.prefixProject),
    client: clientFrom(h),
    apiKeyHash: apiKeyHashFrom(h),
    tags: tagsFrom(h),
  };
}

export function turnOutcome(turn: Turn, who: SessionIdentity, logMessages: boolean): RequestOutcome {
  const info = turnStart(turn, who);
  const r = turn.response;
  const status = turn.status;
  const outcome: RequestOutcome = {
    ...info,
    tools: { definitions: info.tools.definitions, results: info.tools.results, calls: r.toolCalls },
    endedAt: turn.endedAt || Date.now(),
    model: r.model ?? info.requestedModel,
    status,
    ok: turn.errorType === null && status > 0 && status < 400,
    errorType: turn.errorType,
    errorMessage: turn.errorMessage,
    usage: r.usage,
    compression: turn.compression,
    timing: {
      totalMs: round2(turn.elapsed()),
      overheadMs: round2(turn.overheadMs),
      ttfbMs: turn.ttfbMs === null ? null : round2(turn.ttfbMs),
      upstreamMs: turn.upstreamMs === null ? null : round2(turn.upstreamMs),
      upstreamAttempts: turn.upstreamCalls.length,
      stagesMs: turn.stagesMs,
      upstreamCalls: turn.upstreamCalls,
    },
    bytesOut: turn.bytesOut,
    finishReason: r.finishReason,
    cached: false,
    modified: turn.modified,
    traceparent: headerString(who.req.headers.traceparent),
    tracestate: headerString(who.req.headers.tracestate),
    ext: turn.ext,
  };
  if (logMessages && turn.body.length > 0) outcome.messages = { request: turn.body, forwarded: turn.modified ? turn.forwardBody : null, contentEncoding: null };
  return outcome;
}
