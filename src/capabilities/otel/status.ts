/**
 * `/stats.otel`, `/stats.langfuse` (Headroom's keys first, headroom-ts's additions after) and
 * the `otel` health check. Header values and the Langfuse secret are never reported.
 */
import type { HealthCheck } from '../../core/app.js';
import type { OtelRuntime } from './runtime.js';

export function otelStatsBlock(rt: OtelRuntime): Record<string, unknown> {
  const c = rt.config;
  return {
    configured: true,
    enabled: c.otelMetricsEnabled,
    service_name: c.otelServiceName,
    exporter: c.otelMetricsExporter,
    endpoint: c.otelMetricsEndpoint,
    resource_attributes: { ...c.otelResourceAttributes },
    metrics_mode: rt.metricsMode,
    headers: Object.keys(c.otelMetricsHeaders),
    export_interval_ms: c.otelMetricsExportIntervalMs,
    export_timeout_ms: c.otelExportTimeoutMs,
    exports: rt.managedMetrics?.stats.json() ?? null,
    traces: {
      enabled: c.otelTracesEnabled,
      mode: rt.tracesMode,
      exporter: c.otelTracesExporter,
      endpoint: c.otelTracesEndpoint,
      headers: Object.keys(c.otelTracesHeaders),
      sample_ratio: c.otelTracesSampleRatio,
      export_interval_ms: c.otelTracesExportIntervalMs,
      spans_recorded: rt.managedTraces ? rt.spansOf('otel') : rt.ambientSpans,
      exports: rt.managedTraces?.stats.json() ?? null,
    },
    ambient: c.otelAmbient,
    outcomes_recorded: rt.recorded,
    record_errors: rt.recordErrors,
  };
}

export function langfuseStatsBlock(rt: OtelRuntime): Record<string, unknown> {
  const l = rt.langfuse;
  const on = l.enabled;
  return {
    configured: l.active,
    enabled: on,
    service_name: on ? l.serviceName : null,
    base_url: on ? l.baseUrl : null,
    endpoint: on ? l.endpoint : null,
    public_key: on ? l.publicKey : null,
    error: l.problem,
    spans_recorded: rt.spansOf('langfuse'),
    exports: rt.langfuseStats?.json() ?? null,
  };
}

export function otelHealth(rt: OtelRuntime): HealthCheck {
  const exporting = {
    metrics: rt.managedMetrics?.stats ?? null,
    traces: rt.managedTraces?.stats ?? null,
    langfuse: rt.langfuseStats,
  };
  const active = Object.entries(exporting).filter(([, s]) => s !== null);
  const failing = active.filter(([, s]) => s!.failing).map(([k]) => k);
  return {
    enabled: active.length > 0,
    // a collector being down never takes the proxy out of service
    ready: true,
    degraded: failing.length > 0,
    exporting: active.map(([k]) => k),
    failing,
  };
}
