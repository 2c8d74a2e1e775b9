/**
 * Providers headroom-ts manages itself (never registered globally: they carry only
 * headroom-ts's own instrumentation): a meter provider with a periodic OTLP/HTTP or console
 * exporter, and tracer providers (OTEL collector, Langfuse) with a batch span processor.
 * Every exporter is wrapped to count its results; nothing here runs on a request's path.
 */
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, type Resource, resourceFromAttributes } from '@opentelemetry/resources';
import { ConsoleMetricExporter, MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  type SpanExporter,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import type { KeyValues } from '../../config/fields/otel.js';
import { VERSION } from '../../version.js';
import { CountingMetricExporter, CountingSpanExporter, type ExportListener, ExportStats } from './export-stats.js';

export type ExporterKind = 'otlp_http' | 'console';

export function buildResource(serviceName: string, extra: KeyValues): Resource {
  return defaultResource().merge(resourceFromAttributes({ 'service.name': serviceName, 'service.version': VERSION, ...extra }));
}

export interface MetricsSettings {
  exporter: ExporterKind;
  endpoint: string | null;
  headers: KeyValues;
  intervalMs: number;
  timeoutMs: number;
  resource: Resource;
}

export interface ManagedMetrics {
  provider: MeterProvider;
  reader: PeriodicExportingMetricReader;
  stats: ExportStats;
}

export function createManagedMetrics(s: MetricsSettings, onExport: ExportListener): ManagedMetrics {
  const inner: PushMetricExporter =
    s.exporter === 'console'
      ? new ConsoleMetricExporter()
      : new OTLPMetricExporter({
          ...(s.endpoint ? { url: s.endpoint } : {}),
          headers: { ...s.headers },
          timeoutMillis: s.timeoutMs,
        });
  const stats = new ExportStats(onExport);
  const reader = new PeriodicExportingMetricReader({
    exporter: new CountingMetricExporter(inner, stats),
    exportIntervalMillis: s.intervalMs,
    // the reader requires timeout <= interval
    exportTimeoutMillis: Math.min(s.timeoutMs, s.intervalMs),
  });
  const provider = new MeterProvider({ resource: s.resource, readers: [reader] });
  return { provider, reader, stats };
}

export interface TracesSettings {
  exporter: ExporterKind;
  /** Full URL; null = the exporter's defaults (OTEL_EXPORTER_OTLP_* env, else localhost:4318). */
  endpoint: string | null;
  headers: KeyValues;
  scheduledDelayMs: number;
  timeoutMs: number;
  sampleRatio: number;
  resource: Resource;
}

export interface ManagedTraces {
  provider: TracerProvider;
  stats: ExportStats;
}

/** Longest span attribute value a managed provider keeps (longer strings are truncated). */
const ATTRIBUTE_VALUE_LIMIT = 1024;

export function createManagedTraces(s: TracesSettings, onExport: ExportListener): ManagedTraces {
  const inner: SpanExporter =
    s.exporter === 'console'
      ? new ConsoleSpanExporter()
      : new OTLPTraceExporter({
          ...(s.endpoint ? { url: s.endpoint } : {}),
          headers: { ...s.headers },
          timeoutMillis: s.timeoutMs,
        });
  const stats = new ExportStats(onExport);
  const processor = new BatchSpanProcessor({
    exporter: new CountingSpanExporter(inner, stats),
    maxQueueSize: 2048,
    maxExportBatchSize: 512,
    scheduledDelayMillis: s.scheduledDelayMs,
    exportTimeoutMillis: s.timeoutMs,
  });
  const provider = new TracerProvider({
    resource: s.resource,
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(s.sampleRatio) }),
    spanLimits: { attributeValueLengthLimit: ATTRIBUTE_VALUE_LIMIT },
    spanProcessors: [processor],
  });
  return { provider, stats };
}

/** Waits for `p` at most `ms`; never rejects (shutdown must not hang on a stuck collector). */
export function settleWithin(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref?.();
    p.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      () => {
        clearTimeout(timer);
        resolve();
      },
    );
  });
}
