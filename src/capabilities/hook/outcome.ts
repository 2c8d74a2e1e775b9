/** Builds the one RequestOutcome of a hook call (kind and api `hook`). */
import type { IncomingMessage } from 'node:http';
import { apiKeyHashFrom, clientFrom, projectFrom, stackFrom, tagsFrom } from '../../core/identity.js';
import {
  type CompressionSummary,
  emptyCompression,
  emptyTools,
  type ErrorType,
  type ProviderId,
  type RequestOutcome,
  type RequestStart,
} from '../../core/outcome.js';
import type { HookFacts } from './facts.js';
import { round2 } from '../../util/round.js';


export function providerIdOf(p: string | null): ProviderId {
  const s = (p ?? '').toLowerCase();
  return s === 'anthropic' || s === 'openai' ? s : 'unknown';
}

export function hookStart(req: IncomingMessage, requestId: string, path: string, prefixProject: string | null): RequestStart {
  const h = req.headers;
  return {
    kind: 'hook',
    requestId,
    startedAt: Date.now(),
    method: req.method ?? 'POST',
    path,
    provider: 'unknown',
    api: 'hook',
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
}

export interface HookEnd {
  status: number;
  errorType: ErrorType | null;
  errorMessage: string | null;
  compression: CompressionSummary | null;
  totalMs: number;
  ttfbMs: number | null;
  bytesOut: number;
  modified: boolean;
  facts: HookFacts;
}

export function hookOutcome(start: RequestStart, end: HookEnd): RequestOutcome {
  const f = end.facts;
  return {
    ...start,
    provider: providerIdOf(f.metadataProvider),
    endedAt: Date.now(),
    model: start.requestedModel,
    status: end.status,
    ok: end.errorType === null && end.status > 0 && end.status < 400,
    errorType: end.errorType,
    errorMessage: end.errorMessage,
    usage: null,
    compression: end.compression ?? emptyCompression(),
    timing: {
      totalMs: round2(end.totalMs),
      overheadMs: round2(end.totalMs),
      ttfbMs: end.ttfbMs === null ? null : round2(end.ttfbMs),
      upstreamMs: null,
      upstreamAttempts: 0,
      stagesMs: { read: round2(f.readMs), queue: round2(f.queueMs), worker: round2(f.workerMs), write: round2(f.writeMs) },
      upstreamCalls: [],
    },
    bytesOut: end.bytesOut,
    finishReason: null,
    cached: false,
    modified: end.modified,
    ext: { hook: f },
  };
}
