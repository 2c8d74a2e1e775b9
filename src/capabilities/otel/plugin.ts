/**
 * The OpenTelemetry capability: OTEL metrics (managed or ambient), traces (managed, ambient
 * and/or Langfuse), `/stats.otel`, `/stats.langfuse`, the `otel` health check and the `otel`
 * service (its runtime). It needs the stats service for the figures of each outcome. One sink on
 * the outcome funnel does all the per-request work after the response was written; exports
 * run on the SDK's timers and never touch a request.
 */
import { definePlugin } from '../../core/plugin.js';
import type {} from './api.js';
import { OtelRuntime } from './runtime.js';
import { langfuseStatsBlock, otelHealth, otelStatsBlock } from './status.js';

/** Environment variables the OTLP exporters also merge into every export (Langfuse included). */
const INHERITED_HEADER_ENV = ['OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_TRACES_HEADERS'];

export const otelPlugin = definePlugin({
  name: 'otel',
  needs: ['stats'],
  provides: ['otel'],
  setup(ctx) {
    const { app } = ctx;
    const stats = ctx.need('stats');
    const rt = new OtelRuntime(app.config, app.log);
    const c = app.config;
    if (rt.langfuse.active) {
      const inherited = INHERITED_HEADER_ENV.filter((k) => process.env[k]);
      if (inherited.length > 0) app.log.warn({ env: inherited }, 'OTLP header variables are set; the OTLP exporter adds those headers to Langfuse exports too');
    }
    app.log.info({
      otel_metrics: c.otelMetricsEnabled ? { exporter: c.otelMetricsExporter, endpoint: c.otelMetricsEndpoint ?? 'exporter default', interval_ms: c.otelMetricsExportIntervalMs } : 'off',
      otel_traces: c.otelTracesEnabled ? { exporter: c.otelTracesExporter, endpoint: c.otelTracesEndpoint ?? 'exporter default' } : 'off',
      langfuse: rt.langfuse.active ? { endpoint: rt.langfuse.endpoint } : 'off',
      ambient: c.otelAmbient,
    }, 'OpenTelemetry');
    app.statsSections.set('otel', () => otelStatsBlock(rt));
    app.statsSections.set('langfuse', () => langfuseStatsBlock(rt));
    app.healthChecks.set('otel', () => otelHealth(rt));
    app.addSink({
      name: 'otel',
      outcome: (o) => rt.record(o, stats.accountingOf(o)),
      close: () => rt.shutdown(),
    });
    return { otel: rt };
  },
});
