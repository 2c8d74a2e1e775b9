/**
 * The span tree of one outcome, planned as plain data (built once, emitted to every trace
 * destination). Spans are created after the response was written, with the explicit start
 * and end times the outcome recorded:
 *
 *   chat <model> | <METHOD> <path>        SERVER  startedAt .. endedAt, gen_ai.* attributes
 *   ├─ headroom.stage.<name>             INTERNAL one per proxy stage other than compression
 *   ├─ headroom.compression.pipeline     INTERNAL when a compression run is recorded
 *   │   └─ headroom.compression.transform  INTERNAL one per transform that ran
 *   └─ <METHOD> <path> (upstream)        CLIENT   one per upstream call (retries, follow-up rounds,
 *                                                 routing attempts: each with its provider and model)
 *
 * Stage durations are exact; their start times are derived (stages run back to back right
 * before the first upstream call, or before the response when no call was made).
 */
import { type Attributes, SpanKind } from '@opentelemetry/api';
import type {} from '../ccr/api.js'; // ext.ccr
import type {} from '../routing/api.js'; // ext.routing
import type { Accounting } from '../stats/api.js';
import type { ProviderId, RequestOutcome, UpstreamCall } from '../../core/outcome.js';
import { clip } from './bounded.js';
import { compressionRan, compressionStage, isInternalTiming, pipelineMs } from './compression-facts.js';
import { genaiOperation } from './names.js';
import { round3 } from '../../util/round.js';

export interface PlannedSpan {
  name: string;
  kind: SpanKind;
  /** Epoch milliseconds. */
  start: number;
  end: number;
  attributes: Attributes;
  error: string | null;
  children: PlannedSpan[];
}

export interface UpstreamEndpoint {
  address: string;
  port: number;
}

export type UpstreamLookup = (provider: ProviderId) => UpstreamEndpoint | null;

const MAX_ERROR_MESSAGE = 512;

function spanName(o: RequestOutcome, op: string | null): string {
  if (op !== null) {
    const model = o.requestedModel ?? o.model;
    return model ? `${op} ${clip(model, 128)}` : op;
  }
  if (o.api === 'passthrough') return `${o.method} /v1/*`;
  return `${o.method} ${clip(o.path, 64)}`;
}

function rootAttributes(o: RequestOutcome, a: Accounting, op: string | null): Attributes {
  const t = o.timing;
  const attrs: Attributes = {
    'http.request.method': o.method,
    'url.path': clip(o.path, 256),
    'headroom.request_id': o.requestId,
    'headroom.api': o.api,
    'headroom.stream': o.stream,
    'headroom.cached': a.cached,
    'headroom.tokens.before': a.tokensBefore,
    'headroom.tokens.saved': a.tokensSaved,
    'headroom.overhead_ms': t.overheadMs,
  };
  if (o.kind !== 'proxy') attrs['headroom.kind'] = o.kind;
  if (o.status > 0) attrs['http.response.status_code'] = o.status;
  if (t.ttfbMs !== null) attrs['headroom.ttfb_ms'] = t.ttfbMs;
  if (o.project) attrs['headroom.project'] = clip(o.project, 128);
  if (o.stack) attrs['headroom.stack'] = clip(o.stack, 128);
  if (o.client) attrs['headroom.client'] = clip(o.client, 128);
  const session = o.tags['session-id'];
  if (session) attrs['session.id'] = clip(session, 128);
  if (a.cost) attrs['headroom.cost_usd'] = Math.round(a.cost.totalUsd * 1e8) / 1e8;
  // net (can be negative: retrieval rounds or a cache bust cost more than compression saved)
  if (a.compressionSavingsUsd !== 0) attrs['headroom.savings_usd'] = Math.round(a.compressionSavingsUsd * 1e8) / 1e8;
  if (o.errorType) attrs['error.type'] = o.errorType;
  const ccr = o.ext.ccr;
  if (ccr && (ccr.retrievals > 0 || ccr.toolInjected !== null)) {
    attrs['headroom.ccr.retrievals'] = ccr.retrievals;
    attrs['headroom.ccr.rounds'] = ccr.rounds;
    attrs['headroom.ccr.misses'] = ccr.misses;
    attrs['headroom.ccr.tokens_retrieved'] = ccr.tokensRetrieved;
  }
  const routing = o.ext.routing;
  if (routing) {
    attrs['headroom.routing.provider'] = clip(routing.provider, 128);
    attrs['headroom.routing.model'] = clip(routing.model, 256);
    attrs['headroom.routing.via'] = routing.via;
    attrs['headroom.routing.attempts'] = routing.attempts.length;
  }
  if (op === null) {
    attrs['headroom.provider'] = o.provider;
    attrs['headroom.model'] = clip(a.model, 256);
    return attrs;
  }
  attrs['gen_ai.operation.name'] = op;
  attrs['gen_ai.provider.name'] = o.provider;
  if (o.requestedModel) attrs['gen_ai.request.model'] = clip(o.requestedModel, 256);
  if (o.model && (o.usage || o.ok)) attrs['gen_ai.response.model'] = clip(o.model, 256);
  const u = o.usage;
  if (u) {
    attrs['gen_ai.usage.input_tokens'] = u.input;
    attrs['gen_ai.usage.output_tokens'] = u.output;
    attrs['gen_ai.usage.cache_read.input_tokens'] = u.cacheRead;
    attrs['gen_ai.usage.cache_creation.input_tokens'] = u.cacheWrite;
    if (u.reasoning > 0) attrs['gen_ai.usage.reasoning.output_tokens'] = u.reasoning;
  }
  if (o.finishReason) attrs['gen_ai.response.finish_reasons'] = [clip(o.finishReason, 64)];
  return attrs;
}

function upstreamSpans(o: RequestOutcome, upstream: UpstreamEndpoint | null): PlannedSpan[] {
  const calls = o.timing.upstreamCalls;
  const out: PlannedSpan[] = [];
  const name = o.api === 'passthrough' ? o.method : `${o.method} ${clip(o.path, 64)}`;
  for (let i = 0; i < calls.length; i++) {
    const call = calls[i] as UpstreamCall;
    const next = calls[i + 1];
    const round = call.round ?? 0;
    // a later call of the same round is a retry of this one; a later round (CCR) continues the answer
    const retried = next !== undefined && (next.round ?? 0) === round;
    const headersAt = call.startedAt + call.durationMs;
    // a call whose response was relayed lasts until the response finished, or until the next round began
    const relayed = !retried && call.status !== null;
    const end = relayed ? Math.max(headersAt, next ? next.startedAt : o.endedAt) : headersAt;
    const attrs: Attributes = {
      'http.request.method': o.method,
      'url.path': clip(o.path, 256),
      'headroom.upstream.attempt': call.attempt,
      'headroom.upstream.time_to_headers_ms': call.durationMs,
    };
    if (round > 0) attrs['headroom.ccr.round'] = round;
    if (call.attempt > 1) attrs['http.request.resend_count'] = call.attempt - 1;
    if (call.provider !== undefined) {
      // a routed call: the provider and model routing chose for this attempt
      attrs['headroom.upstream.provider'] = clip(call.provider, 128);
      if (call.model !== undefined) attrs['headroom.upstream.model'] = clip(call.model, 256);
    } else if (upstream) {
      attrs['server.address'] = upstream.address;
      attrs['server.port'] = upstream.port;
    }
    if (call.status !== null) attrs['http.response.status_code'] = call.status;
    // another provider took over (routing's fallback), or the same one was tried again
    if (retried && next.provider !== call.provider) attrs['headroom.upstream.fell_back'] = true;
    else if (retried) attrs['headroom.upstream.retried'] = true;
    let error: string | null = null;
    if (call.error !== null) {
      attrs['error.type'] = call.error;
      error = `upstream call failed: ${call.error}`;
    } else if (call.status !== null && call.status >= 400) {
      attrs['error.type'] = String(call.status);
      error = `upstream returned HTTP ${call.status}`;
    }
    out.push({ name, kind: SpanKind.CLIENT, start: call.startedAt, end, attributes: attrs, error, children: [] });
  }
  return out;
}

/** Transform names in run order: those with timings, then applied tags without one. */
function transformNames(c: RequestOutcome['compression']): string[] {
  const names: string[] = [];
  for (const key in c.timingsMs) if (!isInternalTiming(key)) names.push(key);
  for (const tag of c.transforms) if (!names.includes(tag)) names.push(tag);
  return names;
}

function compressionSpan(o: RequestOutcome, a: Accounting, start: number, end: number): PlannedSpan {
  const c = o.compression;
  const model = clip(a.model, 256);
  const provider = o.provider;
  const attributed = c.savedByTransform;
  const children: PlannedSpan[] = [];
  let cursor = start;
  let before = c.tokensBefore;
  for (const name of transformNames(c)) {
    const ms = c.timingsMs[name] ?? 0;
    const s = Math.min(cursor, end);
    const e = Math.min(s + ms, end);
    cursor = e;
    const attrs: Attributes = {
      'headroom.model': model,
      'headroom.provider': provider,
      'headroom.transform': clip(name, 128),
      'headroom.duration_ms': round3(ms),
      'headroom.applied': c.transforms.includes(name),
    };
    const saved = attributed?.[name];
    if (saved !== undefined) {
      attrs['headroom.tokens.saved'] = saved;
      if (before > 0) {
        const after = Math.max(0, before - saved);
        attrs['headroom.tokens.before'] = before;
        attrs['headroom.tokens.after'] = after;
        before = after;
      }
    }
    children.push({ name: 'headroom.compression.transform', kind: SpanKind.INTERNAL, start: s, end: e, attributes: attrs, error: null, children: [] });
  }
  const attrs: Attributes = {
    'headroom.model': model,
    'headroom.provider': provider,
    'headroom.message_count': o.messageCount,
    'headroom.tokens.before': c.tokensBefore,
    'headroom.tokens.after': c.tokensAfter,
    'headroom.tokens.saved': c.tokensSaved,
    'headroom.duration_ms': round3(end - start),
    'headroom.transforms_applied': c.transforms.length,
  };
  if (c.transforms.length > 0) attrs['headroom.transforms'] = c.transforms.length <= 64 ? c.transforms : c.transforms.slice(0, 64);
  if (c.newInputTokens > 0) attrs['headroom.tokens.new_input'] = c.newInputTokens;
  let error: string | null = null;
  if (c.error !== null) {
    error = clip(c.error, MAX_ERROR_MESSAGE);
    attrs['headroom.compression.error'] = error;
  }
  return { name: 'headroom.compression.pipeline', kind: SpanKind.INTERNAL, start, end, attributes: attrs, error, children };
}

/** Plans the span tree of an outcome. */
export function planSpans(o: RequestOutcome, a: Accounting, upstream: UpstreamLookup): PlannedSpan {
  const op = genaiOperation(o.api);
  const root: PlannedSpan = {
    name: spanName(o, op),
    kind: SpanKind.SERVER,
    start: o.startedAt,
    end: Math.max(o.endedAt, o.startedAt),
    attributes: rootAttributes(o, a, op),
    error: o.ok ? null : clip(o.errorMessage ?? o.errorType ?? `HTTP ${o.status}`, MAX_ERROR_MESSAGE),
    children: [],
  };
  const calls = o.timing.upstreamCalls;
  const anchor = Math.min(calls[0]?.startedAt ?? root.end, root.end);
  // proxy stages ran back to back, ending right before the first upstream call
  const stages = Object.entries(o.timing.stagesMs);
  const compStage = compressionStage(o.timing.stagesMs);
  const ran = compressionRan(o.compression);
  const planned: PlannedSpan[] = [];
  let cursor = anchor;
  for (let i = stages.length - 1; i >= 0; i--) {
    const [name, ms] = stages[i] as [string, number];
    const start = Math.max(root.start, cursor - ms);
    if (name === compStage && ran) planned.unshift(compressionSpan(o, a, start, Math.max(start, cursor)));
    else {
      planned.unshift({
        name: `headroom.stage.${clip(name, 64)}`, kind: SpanKind.INTERNAL, start, end: Math.max(start, cursor),
        attributes: { 'headroom.stage': clip(name, 64), 'headroom.duration_ms': round3(ms) }, error: null, children: [],
      });
    }
    cursor = start;
  }
  if (ran && compStage === null) {
    // a run outside the proxy stages (/v1/compress, hooks): it ends where the response begins
    const ms = pipelineMs(o);
    const start = Math.max(root.start, cursor - ms);
    planned.unshift(compressionSpan(o, a, start, Math.max(start, cursor)));
  }
  root.children.push(...planned, ...upstreamSpans(o, upstream(o.provider)));
  // times mix Date.now() and performance.now() sources: keep every child inside its parent
  for (const child of root.children) clampInto(child, root.start, root.end);
  return root;
}

function clampInto(span: PlannedSpan, start: number, end: number): void {
  span.start = Math.min(Math.max(span.start, start), end);
  span.end = Math.min(Math.max(span.end, span.start), end);
  for (const child of span.children) clampInto(child, span.start, span.end);
}
