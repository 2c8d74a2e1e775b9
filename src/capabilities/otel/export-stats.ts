/**
 * Export bookkeeping: every exporter headroom-ts manages is wrapped so that each export's
 * result is counted (and a failure is never thrown into the proxy). The figures appear in
 * `/stats.otel`, `/stats.langfuse` and the `otel` health check.
 */
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { InstrumentType, PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';

export type ExportListener = (event: 'failed' | 'recovered', stats: ExportStats) => void;

export class ExportStats {
  attempts = 0;
  succeeded = 0;
  failed = 0;
  /** Spans or metric data points in successful exports. */
  itemsExported = 0;
  /** Spans or metric data points in failed exports (lost). */
  itemsFailed = 0;
  lastError: string | null = null;
  lastSuccessAt: number | null = null;
  lastFailureAt: number | null = null;
  /** The most recent export failed. */
  failing = false;

  constructor(private readonly listener: ExportListener = () => {}) {}

  record(result: ExportResult, items: number): void {
    if (result.code === ExportResultCode.SUCCESS) {
      this.succeeded++;
      this.itemsExported += items;
      this.lastSuccessAt = Date.now();
      if (this.failing) {
        this.failing = false;
        this.listener('recovered', this);
      }
    } else {
      this.failed++;
      this.itemsFailed += items;
      this.lastFailureAt = Date.now();
      this.lastError = describe(result.error);
      const wasFailing = this.failing;
      this.failing = true;
      if (!wasFailing) this.listener('failed', this);
    }
  }

  json(): Record<string, unknown> {
    const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
    return {
      attempts: this.attempts,
      succeeded: this.succeeded,
      failed: this.failed,
      items_exported: this.itemsExported,
      items_failed: this.itemsFailed,
      failing: this.failing,
      last_error: this.lastError,
      last_success_at: iso(this.lastSuccessAt),
      last_failure_at: iso(this.lastFailureAt),
    };
  }
}

function describe(err: unknown): string {
  if (err === undefined || err === null) return 'export failed';
  const msg = err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);
  return msg.slice(0, 300);
}

function dataPoints(metrics: ResourceMetrics): number {
  let n = 0;
  for (const sm of metrics.scopeMetrics) for (const m of sm.metrics) n += m.dataPoints.length;
  return n;
}

/** Calls `inner.export` and counts the result; a synchronous throw becomes a failed result. */
function countedExport(stats: ExportStats, items: number, run: (cb: (r: ExportResult) => void) => void, done: (r: ExportResult) => void): void {
  stats.attempts++;
  let settled = false;
  const cb = (r: ExportResult) => {
    if (settled) return;
    settled = true;
    stats.record(r, items);
    done(r);
  };
  try {
    run(cb);
  } catch (err) {
    cb({ code: ExportResultCode.FAILED, error: err instanceof Error ? err : new Error(String(err)) });
  }
}

export class CountingMetricExporter implements PushMetricExporter {
  readonly selectAggregationTemporality?: (t: InstrumentType) => ReturnType<NonNullable<PushMetricExporter['selectAggregationTemporality']>>;
  readonly selectAggregation?: (t: InstrumentType) => ReturnType<NonNullable<PushMetricExporter['selectAggregation']>>;

  constructor(
    private readonly inner: PushMetricExporter,
    readonly stats: ExportStats,
  ) {
    if (inner.selectAggregationTemporality) this.selectAggregationTemporality = inner.selectAggregationTemporality.bind(inner);
    if (inner.selectAggregation) this.selectAggregation = inner.selectAggregation.bind(inner);
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    countedExport(this.stats, dataPoints(metrics), (cb) => this.inner.export(metrics, cb), resultCallback);
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

export class CountingSpanExporter implements SpanExporter {
  constructor(
    private readonly inner: SpanExporter,
    readonly stats: ExportStats,
  ) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    countedExport(this.stats, spans.length, (cb) => this.inner.export(spans, cb), resultCallback);
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}
