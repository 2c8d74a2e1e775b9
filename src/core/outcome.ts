/**
 * The RequestOutcome: exactly one per request handled by headroom-ts (proxied, compressed,
 * hook, rejected, aborted). Every sink (metrics, stats, store, logs, traces, live view,
 * budget) reads these and nothing else.
 */
import type { ApiKind, ErrorType, ProviderId, TokenUsage, ToolCounts } from '../providers/types.js';

export { emptyTools } from '../providers/types.js';
export type { ApiKind, ErrorType, ProviderId, TokenUsage, ToolCounts } from '../providers/types.js';

/** What produced the outcome. */
export type OutcomeKind = 'proxy' | 'compress' | 'hook';

export interface CompressionSummary {
  /** Tokens of the request as the client sent it. */
  tokensBefore: number;
  /** Tokens of the request as forwarded upstream. */
  tokensAfter: number;
  tokensSaved: number;
  /** Tokens of content first seen this turn (the live zone, before compression): the new-input denominator. */
  newInputTokens: number;
  /** Transform tags applied, in order (e.g. `json_crusher`, `log_compressor`). */
  transforms: string[];
  /**
   * Milliseconds per transform (keys are transform tags). Two kinds of keys are not transforms:
   * `pipeline_total` (the whole run) and `_`-prefixed internal steps (`_scan`, `_tokens`, ...);
   * see {@link isTransformTiming}.
   */
  timingsMs: Record<string, number>;
  /** When compression failed open, why. */
  error: string | null;
  /** Tokens saved per transform tag, when the compressor attributes them (else /stats splits evenly). */
  savedByTransform?: Record<string, number>;
  /** Tokens attributed to detected waste signals (e.g. `repeated_tool_output`). */
  wasteSignals?: Record<string, number>;
  /**
   * What compression did with the request: `optimize` (forwarded compressed where it paid),
   * `audit` (measured only, forwarded unchanged), `passthrough`/`bypass` (skipped on the
   * client's request), `off` (disabled by config). Absent when compression does not apply.
   */
  mode?: CompressionMode;
  /** Tokens compression saves or, in audit mode, would have saved. */
  potentialTokensSaved?: number;
}

export type CompressionMode = 'optimize' | 'audit' | 'passthrough' | 'bypass' | 'off';

/** One upstream HTTP call made for a request (retries and follow-up rounds each add one). */
export interface UpstreamCall {
  attempt: number;
  /** Epoch milliseconds when the call was dispatched. */
  startedAt: number;
  /** Dispatch -> response headers (or -> the failure). */
  durationMs: number;
  /** Upstream HTTP status; null when no response arrived. */
  status: number | null;
  /** Failure kind when no response arrived (connect, timeout, reset, ...). */
  error: string | null;
  /** Set on follow-up calls the proxy made itself to answer `headroom_retrieve` (1, 2, ...). */
  round?: number;
  /** The routed provider and model of the call, when routing chose a target (absent: the route's default upstream). */
  provider?: string;
  model?: string;
}

export interface OutcomeTiming {
  /** Request headers received -> response finished (or aborted). */
  totalMs: number;
  /** Time spent inside headroom-ts itself: parsing, compression, stages, response handling. Excludes upstream time, client upload time and retry waits. */
  overheadMs: number;
  /** Request headers received -> first response body byte written to the client. */
  ttfbMs: number | null;
  /** Upstream dispatch -> upstream response headers (last attempt). */
  upstreamMs: number | null;
  /** Upstream attempts made (0 when the request never went upstream). */
  upstreamAttempts: number;
  /** Milliseconds per proxy stage (e.g. `compression`, `budget`), in run order. */
  stagesMs: Record<string, number>;
  /** Every upstream call, in order. */
  upstreamCalls: UpstreamCall[];
}

/** Fields known when a request starts (also the payload of the start event). */
export interface RequestStart {
  kind: OutcomeKind;
  requestId: string;
  /** Epoch milliseconds. */
  startedAt: number;
  method: string;
  /** Path without query, after any `/p/<project>` prefix was stripped. */
  path: string;
  provider: ProviderId;
  api: ApiKind;
  requestedModel: string | null;
  stream: boolean;
  bytesIn: number;
  messageCount: number;
  tools: ToolCounts;
  /** `X-Headroom-Stack`, validated. */
  stack: string | null;
  /** `X-Headroom-Project` or `/p/<name>/` prefix. */
  project: string | null;
  /** Client/harness name (`X-Client`, or derived from User-Agent). */
  client: string | null;
  /** Truncated SHA-256 of the caller's API key; never the key. */
  apiKeyHash: string | null;
  /** Every inbound `x-headroom-*` header (minus the prefix), except secrets. */
  tags: Record<string, string>;
}

/** Mid-request progress (streaming usage as it is reported). */
export interface RequestProgress {
  requestId: string;
  model: string | null;
  inputTokens: number;
  outputTokens: number;
  /** Cache figures of the usage reported so far (TokenUsage.cacheRead / cacheWrite). */
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  /** Tool calls the model has made so far in this response. */
  toolCalls?: number;
  bytesOut: number;
  ttfbMs: number | null;
}

export interface RequestOutcome extends RequestStart {
  endedAt: number;
  /** Model the provider reports (response), else the requested one. */
  model: string | null;
  /** HTTP status sent to the client (499 when the client went away first). */
  status: number;
  ok: boolean;
  errorType: ErrorType | null;
  errorMessage: string | null;
  usage: TokenUsage | null;
  compression: CompressionSummary;
  timing: OutcomeTiming;
  bytesOut: number;
  finishReason: string | null;
  /** Served from headroom-ts's own response cache. */
  cached: boolean;
  /** Whether the forwarded body differs from what the client sent. */
  modified: boolean;
  /** Request bodies, only when `--log-messages` is on (for the `--log-file` records). */
  messages?: OutcomeMessages;
  /** The client's W3C `traceparent` header as received (unvalidated), for trace sinks; null/absent when none. */
  traceparent?: string | null;
  /** The client's W3C `tracestate` header, when sent with a `traceparent`. */
  tracestate?: string | null;
  /** Facts capabilities add (`OutcomeExtensions`): CCR, hook, prompt-cache continuity, savings placement, ... */
  ext: OutcomeExtensions;
}

/**
 * Facts capabilities add to an outcome, one optional key per capability. Each capability
 * augments this interface from its `api.ts` (TypeScript declaration merging), so the core
 * names none of them:
 *
 * ```ts
 * declare module '../../core/outcome.js' { interface OutcomeExtensions { ccr?: CcrSummary } }
 * ```
 */
export interface OutcomeExtensions {}

/** Raw bodies kept for `--log-messages`; parsed by the log sink, off the request path. */
export interface OutcomeMessages {
  /** The body as the client sent it (decoded from its Content-Encoding when the proxy decoded it). */
  request: Buffer;
  /** The body forwarded upstream, when a stage rewrote it (else null). */
  forwarded: Buffer | null;
  /** The Content-Encoding `request` is still in (it was never decoded: the log sink does not read it), else null. */
  contentEncoding: string | null;
}

export const emptyCompression = (): CompressionSummary => ({
  tokensBefore: 0,
  tokensAfter: 0,
  tokensSaved: 0,
  newInputTokens: 0,
  transforms: [],
  timingsMs: {},
  error: null,
});

/** Classifies an upstream HTTP status into an error type (null for success). */
export function errorTypeForUpstreamStatus(status: number): ErrorType | null {
  if (status < 400) return null;
  if (status === 429) return 'upstream_rate_limited';
  if (status === 529 || status === 503) return 'upstream_overloaded';
  if (status < 500) return 'upstream_client_error';
  return 'upstream_server_error';
}

/**
 * Headroom's "failed request": the proxy could not get an answer from the upstream and answered
 * with an error of its own (upstream unreachable or timed out, a non-streaming body broken
 * before it completed, an internal error). An upstream HTTP error passed through, a rejection
 * (bad request, rate limit, budget), a client abort and an error inside a stream that had
 * already started are not failures here; `isCountedError` covers all of them.
 */
export function isProxyFailure(o: Pick<RequestOutcome, 'ok' | 'errorType' | 'stream'>): boolean {
  if (o.ok) return false;
  const t = o.errorType;
  return t === 'upstream_connect' || t === 'upstream_timeout' || t === 'internal' || (t === 'upstream_stream' && !o.stream);
}

/** Any request that did not succeed, except client aborts, rate limits and budget refusals (counted apart). */
export function isCountedError(o: Pick<RequestOutcome, 'ok' | 'errorType'>): boolean {
  return !o.ok && o.errorType !== 'client_abort' && o.errorType !== 'rate_limited' && o.errorType !== 'budget_exceeded';
}

/** Whether a `CompressionSummary.timingsMs` key names a transform (not `pipeline_total`, not an internal `_step`). */
export function isTransformTiming(key: string): boolean {
  return key !== 'pipeline_total' && !key.startsWith('_');
}
