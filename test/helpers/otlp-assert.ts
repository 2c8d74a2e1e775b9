/** Lookups over decoded OTLP data: data points by attributes, span trees. */
import type { DecodedMetric, DecodedSpan } from './otlp-receiver.js';
import { attributesOf } from './otlp-receiver.js';

const matches = (attrs: Record<string, unknown>, want: Record<string, unknown>) => Object.entries(want).every(([k, v]) => attrs[k] === v);

/** The counter data point whose attributes include `want`: its attributes and value. */
export function sumPoint(m: DecodedMetric, want: Record<string, unknown>): { attributes: Record<string, unknown>; value: number } | undefined {
  for (const p of m.sum?.dataPoints ?? []) {
    const attributes = attributesOf(p.attributes ?? []);
    if (matches(attributes, want)) return { attributes, value: Number(p.asDouble ?? p.asInt) };
  }
  return undefined;
}

export interface HistogramPoint {
  attributes: Record<string, unknown>;
  count: number;
  sum: number;
  explicitBounds: number[];
  bucketCounts: number[];
}

/** The histogram data point whose attributes include `want`. */
export function histogramPoint(m: DecodedMetric, want: Record<string, unknown>): HistogramPoint | undefined {
  for (const p of m.histogram?.dataPoints ?? []) {
    const attributes = attributesOf(p.attributes ?? []);
    if (matches(attributes, want)) {
      return { attributes, count: Number(p.count), sum: Number(p.sum), explicitBounds: p.explicitBounds as number[], bucketCounts: (p.bucketCounts as number[]).map(Number) };
    }
  }
  return undefined;
}

/** Spans without a parent in the export (the request spans). */
export function rootSpans(spans: DecodedSpan[]): DecodedSpan[] {
  const ids = new Set(spans.map((s) => s.spanId));
  return spans.filter((s) => s.parentSpanId === null || !ids.has(s.parentSpanId));
}

export function childrenOf(spans: DecodedSpan[], parent: DecodedSpan): DecodedSpan[] {
  return spans.filter((s) => s.parentSpanId === parent.spanId).sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs);
}
