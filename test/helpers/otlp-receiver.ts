/**
 * A real OTLP/HTTP receiver for tests: a node:http server that accepts what the official
 * `@opentelemetry/exporter-*-otlp-http` exporters send (OTLP JSON) on `/v1/metrics`,
 * `/v1/traces` and Langfuse's `/api/public/otel/v1/traces`, decodes it into the OTLP request
 * types of `@opentelemetry/otlp-transformer`, and answers with an empty export response.
 * Modes: `ok`, `status:<code>`, `hang` (never answers).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { IKeyValue, IAnyValue } from '@opentelemetry/otlp-transformer/build/src/common/internal-types.js';
import type { IExportMetricsServiceRequest, IMetric } from '@opentelemetry/otlp-transformer/build/src/metrics/internal-types.js';
import type { IExportTraceServiceRequest, ISpan } from '@opentelemetry/otlp-transformer/build/src/trace/internal-types.js';

export interface ReceivedExport {
  path: string;
  headers: IncomingHttpHeaders;
  contentType: string;
  body: Buffer;
}

export interface DecodedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: number;
  startMs: number;
  endMs: number;
  attributes: Record<string, unknown>;
  status: { code: number; message?: string };
  resource: Record<string, unknown>;
  scope: string;
}

export interface DecodedMetric extends IMetric {
  resource: Record<string, unknown>;
  scope: string;
}

export class OtlpReceiver {
  readonly received: ReceivedExport[] = [];
  mode = 'ok';
  url = '';
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly waiters: { test: () => boolean; resolve: () => void }[] = [];

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        this.received.push({ path: req.url ?? '', headers: req.headers, contentType: String(req.headers['content-type'] ?? ''), body });
        this.check();
        if (this.mode === 'hang') return;
        const status = this.mode.startsWith('status:') ? Number(this.mode.slice(7)) : 200;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(status === 200 ? '{}' : '{"code":14,"message":"unavailable"}');
      });
    });
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  reset(): void {
    this.received.length = 0;
  }

  private check(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (this.waiters[i]!.test()) this.waiters.splice(i, 1)[0]!.resolve();
    }
  }

  /** Resolves once `test()` holds for what was received. */
  waitFor(test: () => boolean, timeoutMs = 10_000, what = 'OTLP exports'): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what} (received ${this.received.length} export requests)`)), timeoutMs);
      this.waiters.push({ test, resolve: () => { clearTimeout(timer); resolve(); } });
    });
  }

  exportsTo(path: string): ReceivedExport[] {
    return this.received.filter((r) => r.path === path);
  }

  /** Every span received on `path`, decoded. */
  spans(path = '/v1/traces'): DecodedSpan[] {
    const out: DecodedSpan[] = [];
    for (const r of this.exportsTo(path)) {
      const req = decodeJson<IExportTraceServiceRequest>(r);
      for (const rs of req.resourceSpans ?? []) {
        const resource = attributesOf(rs.resource?.attributes ?? []);
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) out.push(decodeSpan(s, resource, ss.scope?.name ?? ''));
        }
      }
    }
    return out;
  }

  /** The latest data of every metric received on `path` (cumulative temporality: the last export wins). */
  metrics(path = '/v1/metrics'): Map<string, DecodedMetric> {
    const out = new Map<string, DecodedMetric>();
    for (const r of this.exportsTo(path)) {
      const req = decodeJson<IExportMetricsServiceRequest>(r);
      for (const rm of req.resourceMetrics ?? []) {
        const resource = attributesOf(rm.resource?.attributes ?? []);
        for (const sm of rm.scopeMetrics ?? []) {
          for (const m of sm.metrics ?? []) out.set(m.name, { ...m, resource, scope: sm.scope?.name ?? '' });
        }
      }
    }
    return out;
  }
}

function decodeJson<T>(r: ReceivedExport): T {
  if (!r.contentType.startsWith('application/json')) throw new Error(`unexpected OTLP content type ${r.contentType}`);
  return JSON.parse(r.body.toString('utf8')) as T;
}

const nanosToMs = (v: unknown) => Number(BigInt(String(v)) / 1000n) / 1000;

function decodeSpan(s: ISpan, resource: Record<string, unknown>, scope: string): DecodedSpan {
  const parent = s.parentSpanId as unknown as string | undefined;
  return {
    traceId: s.traceId as unknown as string,
    spanId: s.spanId as unknown as string,
    parentSpanId: parent ? parent : null,
    name: s.name,
    kind: s.kind,
    startMs: nanosToMs(s.startTimeUnixNano),
    endMs: nanosToMs(s.endTimeUnixNano),
    attributes: attributesOf(s.attributes),
    status: { code: s.status?.code ?? 0, ...(s.status?.message ? { message: s.status.message } : {}) },
    resource,
    scope,
  };
}

export function valueOf(v: IAnyValue | undefined): unknown {
  if (!v) return undefined;
  if (v.stringValue !== undefined && v.stringValue !== null) return v.stringValue;
  if (v.boolValue !== undefined && v.boolValue !== null) return v.boolValue;
  if (v.intValue !== undefined && v.intValue !== null) return Number(v.intValue);
  if (v.doubleValue !== undefined && v.doubleValue !== null) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(valueOf);
  return undefined;
}

export function attributesOf(kvs: IKeyValue[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of kvs) out[kv.key] = valueOf(kv.value);
  return out;
}
