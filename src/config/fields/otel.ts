import { type Field, field } from '../field.js';

/**
 * OpenTelemetry metrics and traces, and Langfuse trace export. Nothing is sent anywhere unless
 * one of the `*_ENABLED` switches is on; the anonymous-telemetry switch of Headroom
 * (`HEADROOM_TELEMETRY`) is unrelated.
 */

export type KeyValues = Readonly<Record<string, string>>;

const decode = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/**
 * Parses `k=v,k2=v2` (the OTEL env-list form; values may be percent-encoded). Errors name the
 * offending entry's position and key only, never a value (header values are credentials).
 */
export function parseKeyValues(raw: unknown): KeyValues {
  if (raw === null || raw === undefined) return {};
  if (typeof raw === 'object' && !Array.isArray(raw)) {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new Error(`value of "${k}" must be a string`);
      out[k.trim()] = String(v);
    }
    return out;
  }
  if (typeof raw !== 'string') throw new Error('expected a comma-separated key=value list');
  const out: Record<string, string> = {};
  raw.split(',').forEach((piece, i) => {
    const p = piece.trim();
    if (p === '') return;
    const eq = p.indexOf('=');
    if (eq <= 0) throw new Error(`entry ${i + 1} is not key=value`);
    const key = decode(p.slice(0, eq).trim());
    if (key === '') throw new Error(`entry ${i + 1} has an empty key`);
    out[key] = decode(p.slice(eq + 1).trim());
  });
  return out;
}

function keyValues(c: { flag: string; env: readonly string[]; doc: string; secret?: boolean }): Field<KeyValues> {
  return {
    flag: c.flag,
    env: c.env,
    negatedEnv: [],
    default: {},
    accepted: 'a comma-separated key=value list (values may be percent-encoded)',
    doc: c.doc,
    group: 'otel',
    isBool: false,
    defaultText: 'unset',
    ...(c.secret ? { secret: true } : {}),
    parse: parseKeyValues,
  };
}

/** An optional http(s) URL kept exactly as given (OTLP endpoints are full URLs, nothing is appended). */
function optionalUrl(c: { flag: string; env: readonly string[]; doc: string }): Field<string | null> {
  return {
    flag: c.flag,
    env: c.env,
    negatedEnv: [],
    default: null,
    accepted: 'an http:// or https:// URL (empty = unset)',
    doc: c.doc,
    group: 'otel',
    isBool: false,
    defaultText: 'unset',
    parse(raw) {
      if (raw === null || raw === undefined) return null;
      if (typeof raw !== 'string') throw new Error('not a URL');
      const s = raw.trim();
      if (s === '') return null;
      let u: URL;
      try {
        u = new URL(s);
      } catch {
        throw new Error('not a URL');
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not an http(s) URL');
      return s;
    },
  };
}

const EXPORTERS = ['otlp_http', 'console'] as const;
const EXPORTER_ALIASES = { otlp: 'otlp_http', http: 'otlp_http', otlphttp: 'otlp_http', stdout: 'console' } as const;

export const otelFields = {
  otelMetricsEnabled: field.bool({
    flag: 'otel-metrics-enabled', env: ['HEADROOM_OTEL_METRICS_ENABLED'], default: false, group: 'otel',
    doc: 'headroom-ts manages its own OTEL meter provider and exports its metrics (`headroom.*`, `gen_ai.client.*`). Off: instruments record into the global meter provider when the embedding application registered one (ambient mode), else nowhere.',
  }),
  otelMetricsExporter: field.enum({
    flag: 'otel-metrics-exporter', env: ['HEADROOM_OTEL_METRICS_EXPORTER'], default: 'otlp_http', values: EXPORTERS, aliases: EXPORTER_ALIASES, group: 'otel',
    doc: 'Managed metrics exporter: `otlp_http` (OTLP/HTTP JSON) or `console` (stdout, for local checks).',
  }),
  otelMetricsEndpoint: optionalUrl({
    flag: 'otel-metrics-endpoint', env: ['HEADROOM_OTEL_METRICS_ENDPOINT'],
    doc: 'OTLP/HTTP metrics URL, e.g. `http://127.0.0.1:4318/v1/metrics`. Unset: the exporter\'s defaults (`OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`, `OTEL_EXPORTER_OTLP_ENDPOINT`, else `http://localhost:4318/v1/metrics`).',
  }),
  otelMetricsHeaders: keyValues({
    flag: 'otel-metrics-headers', env: ['HEADROOM_OTEL_METRICS_HEADERS'], secret: true,
    doc: 'Headers sent with each metrics export (`k=v,k=v`), e.g. an API key for a hosted backend. Never logged; `/stats` lists the names only.',
  }),
  otelMetricsExportIntervalMs: field.int({
    flag: 'otel-metrics-export-interval-ms', env: ['HEADROOM_OTEL_METRICS_EXPORT_INTERVAL_MS'], default: 10_000, min: 1, max: 86_400_000, group: 'otel',
    doc: 'Interval of the managed periodic metrics export.',
  }),
  otelServiceName: field.string({
    flag: 'otel-service-name', env: ['HEADROOM_OTEL_SERVICE_NAME'], default: 'headroom-proxy', group: 'otel',
    doc: 'OTEL `service.name` of the managed metrics and traces.',
  }),
  otelResourceAttributes: keyValues({
    flag: 'otel-resource-attributes', env: ['HEADROOM_OTEL_RESOURCE_ATTRIBUTES'],
    doc: 'Extra resource attributes of the managed metrics and traces (`k=v,k=v`), e.g. `deployment.environment=dev,service.namespace=headroom`.',
  }),
  otelTracesEnabled: field.bool({
    flag: 'otel-traces-enabled', env: ['HEADROOM_OTEL_TRACES_ENABLED'], default: false, group: 'otel',
    doc: 'headroom-ts manages its own tracer provider and exports one trace per request over OTLP/HTTP (request span with `gen_ai.*` attributes, compression and upstream-call child spans). Off: spans go to the global tracer provider when the embedding application registered one, else nowhere.',
  }),
  otelTracesExporter: field.enum({
    flag: 'otel-traces-exporter', env: ['HEADROOM_OTEL_TRACES_EXPORTER'], default: 'otlp_http', values: EXPORTERS, aliases: EXPORTER_ALIASES, group: 'otel',
    doc: 'Managed trace exporter: `otlp_http` or `console`.',
  }),
  otelTracesEndpoint: optionalUrl({
    flag: 'otel-traces-endpoint', env: ['HEADROOM_OTEL_TRACES_ENDPOINT'],
    doc: 'OTLP/HTTP traces URL, e.g. `http://127.0.0.1:4318/v1/traces`. Unset: the exporter\'s defaults (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_EXPORTER_OTLP_ENDPOINT`, else `http://localhost:4318/v1/traces`).',
  }),
  otelTracesHeaders: keyValues({
    flag: 'otel-traces-headers', env: ['HEADROOM_OTEL_TRACES_HEADERS'], secret: true,
    doc: 'Headers sent with each trace export (`k=v,k=v`). Never logged; `/stats` lists the names only.',
  }),
  otelTracesExportIntervalMs: field.int({
    flag: 'otel-traces-export-interval-ms', env: ['HEADROOM_OTEL_TRACES_EXPORT_INTERVAL_MS'], default: 5_000, min: 1, max: 3_600_000, group: 'otel',
    doc: 'Longest time a finished span waits in the export queue (also used for Langfuse). A batch of 512 spans is sent at once.',
  }),
  otelTracesSampleRatio: field.number({
    flag: 'otel-traces-sample-ratio', env: ['HEADROOM_OTEL_TRACES_SAMPLE_RATIO'], default: 1, min: 0, max: 1, group: 'otel',
    doc: 'Share of requests traced when the client sent no `traceparent`; with one, its sampled flag decides (also used for Langfuse).',
  }),
  otelExportTimeoutMs: field.int({
    flag: 'otel-export-timeout-ms', env: ['HEADROOM_OTEL_EXPORT_TIMEOUT_MS'], default: 10_000, min: 100, max: 600_000, group: 'otel',
    doc: 'Longest wait for one export (metrics, traces, Langfuse); a slower or unreachable collector counts a failed export. Exports never delay requests.',
  }),
  otelAmbient: field.bool({
    flag: 'otel-ambient', env: ['HEADROOM_OTEL_AMBIENT'], default: true, group: 'otel',
    doc: 'When headroom-ts runs inside an application that registered global OTEL meter/tracer providers, record into them (for the signals not managed by headroom-ts).',
  }),
  langfuseEnabled: field.bool({
    flag: 'langfuse-enabled', env: ['HEADROOM_LANGFUSE_ENABLED'], default: false, group: 'otel',
    doc: 'Export traces to Langfuse (`{base}/api/public/otel/v1/traces`, Basic auth). Needs `LANGFUSE_PUBLIC_KEY` and `LANGFUSE_SECRET_KEY`.',
  }),
  langfusePublicKey: field.optionalString({
    flag: 'langfuse-public-key', env: ['LANGFUSE_PUBLIC_KEY'], default: null, group: 'otel',
    doc: 'Langfuse project public key (`pk-lf-...`).',
  }),
  langfuseSecretKey: { ...field.optionalString({
    flag: 'langfuse-secret-key', env: ['LANGFUSE_SECRET_KEY'], default: null, group: 'otel',
    doc: 'Langfuse project secret key (`sk-lf-...`). Never logged or reported; prefer the environment over the flag.',
  }), secret: true },
  langfuseBaseUrl: optionalUrl({
    flag: 'langfuse-base-url', env: ['LANGFUSE_BASE_URL', 'LANGFUSE_OTEL_HOST'],
    doc: 'Langfuse instance URL (self-hosted or a cloud region). Unset: `https://cloud.langfuse.com`.',
  }),
  langfuseServiceName: field.string({
    flag: 'langfuse-service-name', env: ['HEADROOM_LANGFUSE_SERVICE_NAME'], default: 'headroom-proxy', group: 'otel',
    doc: 'OTEL `service.name` of the traces sent to Langfuse.',
  }),
  langfuseResourceAttributes: keyValues({
    flag: 'langfuse-resource-attributes', env: ['HEADROOM_LANGFUSE_RESOURCE_ATTRIBUTES'],
    doc: 'Extra resource attributes of the traces sent to Langfuse (`k=v,k=v`).',
  }),
} as const;
