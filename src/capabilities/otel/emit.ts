/** Turns a planned span tree into real spans on a tracer, under the client's trace context. */
import { type Context, ROOT_CONTEXT, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import { parseTraceParent, TraceState } from '@opentelemetry/core';
import type { PlannedSpan } from './span-plan.js';

/**
 * The parent context of a request's trace: the client's W3C `traceparent` (and `tracestate`)
 * when valid, else a new root. An invalid header is ignored, as the W3C spec asks.
 */
export function parentContext(traceparent: string | null | undefined, tracestate: string | null | undefined): Context {
  if (!traceparent) return ROOT_CONTEXT;
  const sc = parseTraceParent(traceparent);
  if (!sc) return ROOT_CONTEXT;
  sc.isRemote = true;
  if (tracestate) sc.traceState = new TraceState(tracestate);
  return trace.setSpanContext(ROOT_CONTEXT, sc);
}

/** Emits the tree; returns the number of spans that were recorded (0 when sampled out). */
export function emitSpans(tracer: Tracer, plan: PlannedSpan, parent: Context): number {
  // attributes are set after the sampling decision: not-sampled spans skip them, and the SDK
  // validates each one in setAttributes anyway (passing them to startSpan validates them twice)
  const span = tracer.startSpan(plan.name, { kind: plan.kind, startTime: plan.start }, parent);
  if (!span.isRecording()) {
    span.end(plan.end);
    return 0;
  }
  span.setAttributes(plan.attributes);
  let n = 1;
  if (plan.children.length > 0) {
    const ctx = trace.setSpan(parent, span);
    for (const child of plan.children) n += emitSpans(tracer, child, ctx);
  }
  if (plan.error !== null) span.setStatus({ code: SpanStatusCode.ERROR, message: plan.error });
  span.end(plan.end);
  return n;
}
