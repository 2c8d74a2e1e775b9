/**
 * The OTEL capability's state: which providers are in use (managed or ambient), the metric
 * instruments, the trace destinations (OTEL collector or the application's tracer, and
 * Langfuse), and their export figures. `record(outcome, figures)` is the whole per-request work; it
 * runs in the funnel's outcome delivery, after the response was written.
 */
import type { Meter, Tracer } from '@opentelemetry/api';
import type { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { TracerProvider } from '@opentelemetry/sdk-trace';
import type { Config } from '../../config/index.js';
import { upstreamBase } from '../../providers/routes.js';
import type { Accounting } from '../stats/api.js';
import { VERSION } from '../../version.js';
import type { Logger } from '../../core/logger.js';
import type { ProviderId, RequestOutcome } from '../../core/outcome.js';
import { AmbientProviders } from './ambient.js';
import { otelValueSets } from './bounded.js';
import { emitSpans, parentContext } from './emit.js';
import type { ExportListener, ExportStats } from './export-stats.js';
import { OtelInstruments } from './instruments.js';
import { langfuseHeaders, type LangfuseSettings, langfuseSettings } from './langfuse.js';
import { buildResource, createManagedMetrics, createManagedTraces, type ManagedMetrics, type ManagedTraces, settleWithin } from './managed.js';
import { SCOPE } from './names.js';
import { planSpans, type UpstreamEndpoint } from './span-plan.js';

export type SignalMode = 'managed' | 'ambient' | 'off';

interface TraceDestination {
  name: 'otel' | 'langfuse';
  tracer: Tracer;
  managed: ManagedTraces;
  spans: number;
}

export class OtelRuntime {
  readonly values = otelValueSets();
  readonly managedMetrics: ManagedMetrics | null;
  readonly managedTraces: ManagedTraces | null;
  readonly langfuse: LangfuseSettings;
  private readonly langfuseTraces: ManagedTraces | null;
  private readonly destinations: TraceDestination[] = [];
  private readonly ambient = new AmbientProviders();
  private managedInstruments: OtelInstruments | null = null;
  private ambientInstruments: OtelInstruments | null = null;
  /** Spans recorded into the application's tracer (ambient mode). */
  ambientSpans = 0;
  /** Outcomes handled, and failures of the recording itself (never of a request). */
  recorded = 0;
  recordErrors = 0;
  lastRecordError: string | null = null;
  private readonly upstreams = new Map<ProviderId, UpstreamEndpoint | null>();

  constructor(
    readonly config: Config,
    private readonly log: Logger,
  ) {
    const listener = (signal: string, endpoint: () => string): ExportListener => (event, s) => {
      if (event === 'failed') {
        this.log.warn({ signal, endpoint: endpoint(), error: s.lastError }, 'OTEL export failed; data is dropped until the collector is reachable again (requests are not affected)');
      } else {
        this.log.info({ signal, endpoint: endpoint(), failed_exports: s.failed }, 'OTEL export recovered');
      }
    };
    const resource = buildResource(config.otelServiceName, config.otelResourceAttributes);
    this.managedMetrics = config.otelMetricsEnabled
      ? createManagedMetrics({
          exporter: config.otelMetricsExporter,
          endpoint: config.otelMetricsEndpoint,
          headers: config.otelMetricsHeaders,
          intervalMs: config.otelMetricsExportIntervalMs,
          timeoutMs: config.otelExportTimeoutMs,
          resource,
        }, listener('metrics', () => config.otelMetricsEndpoint ?? 'exporter default'))
      : null;
    if (this.managedMetrics) this.managedInstruments = new OtelInstruments(this.meterOf(this.managedMetrics.provider), this.values);

    const traceCommon = {
      scheduledDelayMs: config.otelTracesExportIntervalMs,
      timeoutMs: config.otelExportTimeoutMs,
      sampleRatio: config.otelTracesSampleRatio,
    };
    this.managedTraces = config.otelTracesEnabled
      ? createManagedTraces({ ...traceCommon, exporter: config.otelTracesExporter, endpoint: config.otelTracesEndpoint, headers: config.otelTracesHeaders, resource },
          listener('traces', () => config.otelTracesEndpoint ?? 'exporter default'))
      : null;
    if (this.managedTraces) this.destinations.push(this.destination('otel', this.managedTraces));

    this.langfuse = langfuseSettings(config);
    if (this.langfuse.problem) this.log.warn({ langfuse: this.langfuse.problem }, 'Langfuse is enabled but not configured');
    this.langfuseTraces = this.langfuse.active
      ? createManagedTraces({
          ...traceCommon,
          exporter: 'otlp_http',
          endpoint: this.langfuse.endpoint,
          headers: langfuseHeaders(config),
          resource: buildResource(config.langfuseServiceName, config.langfuseResourceAttributes),
        }, listener('langfuse', () => this.langfuse.endpoint))
      : null;
    if (this.langfuseTraces) this.destinations.push(this.destination('langfuse', this.langfuseTraces));
  }

  private meterOf(provider: MeterProvider): Meter {
    return provider.getMeter(SCOPE, VERSION);
  }

  private destination(name: 'otel' | 'langfuse', managed: ManagedTraces): TraceDestination {
    return { name, tracer: (managed.provider as TracerProvider).getTracer(SCOPE, VERSION), managed, spans: 0 };
  }

  get metricsMode(): SignalMode {
    if (this.managedMetrics) return 'managed';
    return this.config.otelAmbient && this.ambient.currentMeter().meter ? 'ambient' : 'off';
  }

  get tracesMode(): SignalMode {
    if (this.managedTraces) return 'managed';
    return this.config.otelAmbient && this.ambient.currentTracer() ? 'ambient' : 'off';
  }

  get langfuseStats(): ExportStats | null {
    return this.langfuseTraces?.stats ?? null;
  }

  spansOf(name: 'otel' | 'langfuse'): number {
    return this.destinations.find((d) => d.name === name)?.spans ?? 0;
  }

  private instruments(): OtelInstruments | null {
    if (this.managedInstruments) return this.managedInstruments;
    if (!this.config.otelAmbient) return null;
    const { meter, changed } = this.ambient.currentMeter();
    if (changed) this.ambientInstruments = meter ? new OtelInstruments(meter, this.values) : null;
    return this.ambientInstruments;
  }

  private upstreamOf = (provider: ProviderId): UpstreamEndpoint | null => {
    let e = this.upstreams.get(provider);
    if (e === undefined) {
      try {
        const u = new URL(upstreamBase(this.config, provider));
        e = { address: u.hostname, port: u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80 };
      } catch {
        e = null;
      }
      this.upstreams.set(provider, e);
    }
    return e;
  };

  /** Records one outcome, with its figures (the stats service's `accountingOf`). */
  record(o: RequestOutcome, a: Accounting): void {
    if (!a.counted) return;
    this.recorded++;
    // a compression-caused prompt-cache bust, as the outcome's conversation tracking judged it
    const busts = a.continuity.compressionBust ? { busts: 1, tokensLost: a.continuity.tokensLost } : null;
    try {
      this.instruments()?.record(o, a, busts);
    } catch (err) {
      this.fail(err);
    }
    const ambientTracer = this.managedTraces === null && this.config.otelAmbient ? this.ambient.currentTracer() : null;
    if (this.destinations.length === 0 && ambientTracer === null) return;
    try {
      const plan = planSpans(o, a, this.upstreamOf);
      const parent = parentContext(o.traceparent, o.tracestate);
      for (const d of this.destinations) d.spans += emitSpans(d.tracer, plan, parent);
      if (ambientTracer) this.ambientSpans += emitSpans(ambientTracer, plan, parent);
    } catch (err) {
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    this.recordErrors++;
    this.lastRecordError = err instanceof Error ? err.message : String(err);
    if (this.recordErrors === 1) this.log.error({ err: this.lastRecordError }, 'OTEL recording failed (requests are not affected)');
  }

  private providers(): { forceFlush(): Promise<void>; shutdown(): Promise<void> }[] {
    const out: { forceFlush(): Promise<void>; shutdown(): Promise<void> }[] = [];
    if (this.managedMetrics) out.push(this.managedMetrics.provider);
    if (this.managedTraces) out.push(this.managedTraces.provider);
    if (this.langfuseTraces) out.push(this.langfuseTraces.provider);
    return out;
  }

  /** Exports everything recorded so far (tests, diagnostics). Resolves even if a collector is down. */
  async flush(): Promise<void> {
    const cap = this.config.otelExportTimeoutMs + 1_000;
    await Promise.all(this.providers().map((p) => settleWithin(p.forceFlush(), cap)));
  }

  /** Final export and shutdown, bounded by the export timeout. */
  async shutdown(): Promise<void> {
    const cap = Math.min(this.config.otelExportTimeoutMs + 500, 15_000);
    await Promise.all(this.providers().map((p) => settleWithin(p.shutdown(), cap)));
  }
}
