/**
 * The live tracker: a funnel sink that keeps the requests in flight, running totals per
 * provider and model (total / streaming / non-streaming), and ring buffers of recent errors
 * and traces. It reads only start, progress and outcome events; every request leaves the
 * active map when its single outcome arrives, whatever happened to it. A request is active from
 * its arrival (while its body is still being read); `update` fills in what its body says.
 */
import type {} from '../routing/api.js';
import type { Sink } from '../../core/funnel.js';
import type { OutcomeKind, RequestOutcome, RequestProgress, RequestStart } from '../../core/outcome.js';
import { redactSecrets } from '../../core/redact.js';
import { Ring } from './ring.js';
import { type ActiveFigures, Split } from './section.js';
import type { Trace } from './schema.js';
import { round2 } from '../../util/round.js';

/** Model and provider names longer than this are cut (a client controls them). */
export const MAX_NAME_LENGTH = 512;
/** Bucket for requests whose model is unknown (e.g. `GET /v1/models`). */
export const NO_MODEL = '(none)';
/** Bucket for models beyond `maxModels`. */
export const OTHER_MODEL = '(other)';
/** Provider buckets beyond the route providers (routed provider names come from the config, but are capped anyway). */
const MAX_PROVIDERS = 34;

const clip = (s: string) => (s.length > MAX_NAME_LENGTH ? s.slice(0, MAX_NAME_LENGTH) : s);

export interface ActiveEntry extends ActiveFigures {
  requestId: string;
  kind: OutcomeKind;
  provider: string;
  api: string;
  path: string;
  requestedModel: string | null;
  /** The model the provider reports (from the stream), once known. */
  resolvedModel: string | null;
  stream: boolean;
  /** Epoch ms. */
  startedAt: number;
  bytesIn: number;
  bytesOut: number;
  messageCount: number;
  ttfbMs: number | null;
  client: string | null;
  project: string | null;
}

/** One finished request as shown by `/metrics/logs` (also the error entry shape): `schema.ts`. */
export type TraceEntry = Trace;

/** What the rings hold: the outcome itself, rendered into a TraceEntry only when read. */
interface TraceRecord {
  seq: number;
  model: string;
  outcome: RequestOutcome;
}

/** A provider's model buckets (its rollup is computed from them when a view is built). */
export interface ProviderBucket {
  readonly models: Map<string, Split>;
}

export interface TrackerOptions {
  errorBuffer: number;
  traceBuffer: number;
  maxModels: number;
}

export class LiveTracker implements Sink {
  readonly name = 'live-metrics';
  /** Epoch ms the cumulative figures start from. */
  readonly since = Date.now();
  readonly active = new Map<string, ActiveEntry>();
  /** Everything completed. */
  readonly all = new Split();
  readonly providers = new Map<string, ProviderBucket>();
  readonly errors: Ring<TraceRecord>;
  readonly traces: Ring<TraceRecord>;
  /** Bumped on every change of the active set or of an active request's figures. */
  version = 0;
  completed = 0;
  private modelBuckets = 0;
  private readonly changeListeners: (() => void)[] = [];
  private readonly completedListeners: ((o: RequestOutcome) => void)[] = [];

  constructor(private readonly opts: TrackerOptions) {
    this.errors = new Ring(opts.errorBuffer);
    this.traces = new Ring(opts.traceBuffer);
  }

  /** Called synchronously after every change (keep it O(1)). */
  onChange(fn: () => void): void {
    this.changeListeners.push(fn);
  }

  /** Called after each outcome has been accounted. */
  onCompleted(fn: (o: RequestOutcome) => void): void {
    this.completedListeners.push(fn);
  }

  get modelBucketCount(): number {
    return this.modelBuckets;
  }

  private changed(): void {
    this.version++;
    for (const fn of this.changeListeners) fn();
  }

  start(e: RequestStart): void {
    this.active.set(e.requestId, {
      requestId: e.requestId,
      kind: e.kind,
      provider: e.provider,
      api: e.api,
      path: e.path,
      requestedModel: e.requestedModel === null ? null : clip(e.requestedModel),
      resolvedModel: null,
      stream: e.stream,
      startedAt: e.startedAt,
      bytesIn: e.bytesIn,
      bytesOut: 0,
      messageCount: e.messageCount,
      ttfbMs: null,
      client: e.client,
      project: e.project,
      inputTokens: 0,
      outputTokens: 0,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      toolDefinitions: e.tools.definitions,
      toolResults: e.tools.results,
      toolCalls: 0,
    });
    this.changed();
  }

  /** The request's body was read and parsed: model, size, message and tool counts are now known. */
  update(e: RequestStart): void {
    const a = this.active.get(e.requestId);
    if (!a) return;
    a.provider = e.provider;
    a.api = e.api;
    a.requestedModel = e.requestedModel === null ? null : clip(e.requestedModel);
    a.stream = e.stream;
    a.bytesIn = e.bytesIn;
    a.messageCount = e.messageCount;
    a.toolDefinitions = e.tools.definitions;
    a.toolResults = e.tools.results;
    this.changed();
  }

  progress(p: RequestProgress): void {
    const a = this.active.get(p.requestId);
    if (!a) return;
    if (p.model !== null) a.resolvedModel = clip(p.model);
    a.inputTokens = p.inputTokens;
    a.outputTokens = p.outputTokens;
    if (p.cacheReadTokens !== undefined) a.cacheReadTokens = p.cacheReadTokens;
    if (p.cacheWriteTokens !== undefined) a.cacheWriteTokens = p.cacheWriteTokens;
    if (p.toolCalls !== undefined) a.toolCalls = p.toolCalls;
    a.bytesOut = p.bytesOut;
    a.ttfbMs = p.ttfbMs;
    this.changed();
  }

  outcome(o: RequestOutcome): void {
    this.active.delete(o.requestId);
    this.completed++;
    const model = clip(o.model ?? o.requestedModel ?? NO_MODEL);
    this.all.addOutcome(o);
    this.bucketFor(this.providerName(o), model).addOutcome(o);
    this.traces.push({ seq: this.traces.pushed + 1, model, outcome: o });
    if (!o.ok) this.errors.push({ seq: this.errors.pushed + 1, model, outcome: o });
    for (const fn of this.completedListeners) fn(o);
    // The snapshot carries the completed counters too, so every outcome is a change.
    this.changed();
  }

  /** Up to `limit` recent traces, newest first. */
  recentTraces(limit?: number): TraceEntry[] {
    return this.traces.newest(limit).map(traceEntry);
  }

  /** Up to `limit` recent errors, newest first. */
  recentErrors(limit?: number): TraceEntry[] {
    return this.errors.newest(limit).map(traceEntry);
  }

  /** A finished request counts under the provider that answered it (routing's), else its route's; 32 routed names, then `(other)`. */
  private providerName(o: RequestOutcome): string {
    const routed = o.ext.routing?.provider;
    if (routed === undefined || this.providers.has(routed)) return routed ?? o.provider;
    return this.providers.size >= MAX_PROVIDERS ? OTHER_MODEL : clip(routed);
  }

  private providerBucket(provider: string): ProviderBucket {
    let p = this.providers.get(provider);
    if (!p) {
      p = { models: new Map() };
      this.providers.set(provider, p);
    }
    return p;
  }

  /** The model bucket a request lands in (models beyond the cap share `(other)`). */
  bucketName(provider: string, model: string): string {
    const p = this.providers.get(provider);
    if (p?.models.has(model)) return model;
    return this.modelBuckets >= this.opts.maxModels ? OTHER_MODEL : model;
  }

  private bucketFor(provider: string, model: string): Split {
    const p = this.providerBucket(provider);
    const name = this.bucketName(provider, model);
    let m = p.models.get(name);
    if (!m) {
      m = new Split();
      p.models.set(name, m);
      this.modelBuckets++;
    }
    return m;
  }
}


function traceEntry({ seq, model, outcome: o }: TraceRecord): TraceEntry {
  const u = o.usage;
  return {
    seq,
    ts: o.endedAt / 1000,
    ts_iso: new Date(o.endedAt).toISOString(),
    request_id: o.requestId,
    kind: o.kind,
    provider: o.provider,
    api: o.api,
    path: o.path,
    model,
    requested_model: o.requestedModel === null ? null : clip(o.requestedModel),
    routed_provider: o.ext.routing ? clip(o.ext.routing.provider) : null,
    routed_model: o.ext.routing ? clip(o.ext.routing.model) : null,
    is_streaming: o.stream,
    status: o.ok ? 'ok' : 'error',
    http_status: o.status,
    error_type: o.ok ? null : (o.errorType ?? `http_${o.status}`),
    error: o.errorMessage === null ? null : redactSecrets(o.errorMessage),
    started_at: new Date(o.startedAt).toISOString(),
    duration_ms: round2(o.timing.totalMs),
    ttfb_ms: o.timing.ttfbMs,
    upstream_ms: o.timing.upstreamMs,
    upstream_attempts: o.timing.upstreamAttempts,
    input_tokens: u?.input ?? 0,
    output_tokens: u?.output ?? 0,
    cache_read_tokens: u?.cacheRead ?? 0,
    cache_creation_tokens: u?.cacheWrite ?? 0,
    tool_use_count: o.tools.calls,
    tool_call_count: o.tools.calls,
    tool_result_count: o.tools.results,
    tool_definitions: o.tools.definitions,
    tool_results: o.tools.results,
    tool_calls: o.tools.calls,
    tokens_saved: o.compression.tokensSaved,
    request_size: o.bytesIn,
    response_size: o.bytesOut,
    finish_reason: o.finishReason,
    client: o.client,
    project: o.project,
  };
}
