/**
 * The RequestOutcome: exactly one per request handled by headroom-ts (proxied, compressed,
 * hook, rejected, aborted). Every sink (metrics, stats, store, logs, traces, live view,
 * budget) reads these and nothing else.
 */

export type ProviderId = 'anthropic' | 'openai' | 'unknown';

/** Which API surface a request used. */
export type ApiKind =
  | 'messages'
  | 'count_tokens'
  | 'chat'
  | 'responses'
  | 'models'
  | 'passthrough'
  | 'compress'
  | 'hook';

/** What produced the outcome. */
export type OutcomeKind = 'proxy' | 'compress' | 'hook';

export type ErrorType =
  | 'invalid_request' // bad JSON, missing fields, bad headers
  | 'body_too_large'
  | 'body_timeout' // the client's request body stalled
  | 'unauthorized'
  | 'rate_limited' // rejected by our rate limiter
  | 'budget_exceeded' // rejected by our budget
  | 'upstream_connect' // could not connect / connection refused / reset before a response
  | 'upstream_timeout' // no response headers or a stalled body within the timeout
  | 'upstream_rate_limited' // upstream 429
  | 'upstream_overloaded' // upstream 529 / 503
  | 'upstream_client_error' // other upstream 4xx
  | 'upstream_server_error' // other upstream 5xx
  | 'upstream_stream' // upstream broke or sent an error event mid-stream
  | 'client_abort' // the client went away before the response finished
  | 'shutdown' // ended by a graceful shutdown (still in flight after --shutdown-grace-seconds, or arrived during it)
  | 'compression' // compression failed (request still forwarded: fail open)
  | 'internal';

/** Token usage normalised across providers. */
export interface TokenUsage {
  /** All prompt tokens the provider processed: uncached + cacheRead + cacheWrite. */
  input: number;
  output: number;
  /** Prompt tokens billed at the full input price. */
  uncached: number;
  cacheRead: number;
  /** Cache-write tokens (Anthropic `cache_creation_input_tokens`; OpenAI reports none). */
  cacheWrite: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
  /** OpenAI reasoning tokens (part of output). */
  reasoning: number;
  /** Where the figures came from. */
  source: 'json' | 'sse';
}

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
  /**
   * Where the saved tokens sit (proxied requests the engine compressed): what the dollar
   * figures price them at, as the provider would have billed the uncompressed request.
   */
  placement?: SavedPlacement;
}

/**
 * Tokens saved in one part of a request, by the prompt cache that would have held them in the
 * uncompressed request: under an Anthropic `cache_control` breakpoint (the nearest one at or
 * after them: a 1-hour TTL if any 1-hour breakpoint covers them, else 5 minutes), in an
 * automatically cached prompt (OpenAI), or after the last breakpoint (never cached).
 */
export interface SavedByCache {
  write1h: number;
  write5m: number;
  auto: number;
  none: number;
}

/** Where a request's saved tokens sit, reported by the compression stage from the engine's slot results. */
export interface SavedPlacement {
  /** Saved by compressing content first seen in this request (the live zone). */
  fresh: SavedByCache;
  /** Saved by replaying an earlier request's decision on resent history. */
  replayed: SavedByCache;
  /** Tokens, before compression, of the live-zone texts compressed afresh (the new-input numerator's basis). */
  freshBefore: number;
  /**
   * Every live tool result answers a `headroom_retrieve` call the client's own tool made: the
   * whole request exists only because compression cut something (a retrieval turn).
   */
  retrieveTurn: boolean;
  /** Fingerprint of the conversation (system prompt and first messages), to follow its prompt cache from turn to turn; null when the body has none. */
  conversation: string | null;
}

export type CompressionMode = 'optimize' | 'audit' | 'passthrough' | 'bypass' | 'off';

export interface ToolCounts {
  /** Tool definitions sent in the request. */
  definitions: number;
  /** tool_result / role:tool / function_call_output items in the newest turn of the request. */
  results: number;
  /** Tool calls made by the model in the response. */
  calls: number;
}

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
  /** CCR: the retrieve tool and proxy-side retrieval; present when the request was offered the tool or brings its own. */
  ccr?: CcrSummary;
  /** Facts of an Aperture hook call (kind `hook` only). */
  hook?: HookFacts;
  /** What the conversation's provider prompt cache did (set before the sinks see the outcome; Anthropic). */
  cacheContinuity?: CacheContinuity;
}

export type CacheMissReason = 'ttl_expiry' | 'prefix_change' | 'unknown';

/** A request judged against its conversation's previous request (`stats/cache-continuity.ts`). */
export interface CacheContinuity {
  /** Prompt tokens the conversation's previous request left in the cache (read + written); null when there is no previous request. */
  expected: number | null;
  miss: CacheMissReason | null;
  /** The miss was caused by headroom-ts rewriting the request. */
  compressionBust: boolean;
  /** Cached tokens the bust made the provider write again (expected - read). */
  tokensLost: number;
}

export interface CcrSummary {
  /** Why `headroom_retrieve` was added to the forwarded tools: this request shows a marker the store holds, or it was offered without one (the client brings tools). null: not added. */
  toolInjected: 'marker' | 'offered' | null;
  /** The client defines its own `headroom_retrieve` tool (it answers the calls itself). */
  clientTool: boolean;
  /** Distinct retrieval markers (ours) in the forwarded request. */
  markers: number;
  /** `headroom_retrieve` calls the proxy answered. */
  retrievals: number;
  /** ... of which found their original / did not (missing, expired, bad hash). */
  hits: number;
  misses: number;
  /** Follow-up upstream calls made to continue the answer after retrievals (at most `--ccr-max-retrieval-rounds`). */
  rounds: number;
  /** Estimated tokens of original content handed to the model. */
  tokensRetrieved: number;
  /** Retrieve calls removed from the response unanswered (made next to the client's own tool calls, or past the round limit). */
  dropped: number;
  /** Hashes retrieved, in order (at most 20). */
  hashes: string[];
  /**
   * Provider-reported usage of each upstream call the proxy resolved retrievals on, round 0
   * (the client's own) first; with follow-up rounds, the outcome's `usage` is their sum.
   */
  roundUsage?: TokenUsage[];
}

/** What a hook call answered (tsheadroom's outcome names). */
export type HookOutcomeName = 'modify' | 'noop' | 'error' | 'passthrough' | 'read_error' | 'decode_error' | 'reject_encoding';

/** The per-call figures of a hook request (the `-v` line and the `tsheadroom_*` metrics read these). */
export interface HookFacts {
  outcome: HookOutcomeName;
  /** `-v` reason: `modify`, `allow(noop)`, `allow(error)`, ..., `reject(encoding)`. */
  reason: string;
  /** Request Content-Encoding when the body arrived encoded. */
  coding: string | null;
  /** `metadata.provider` / `metadata.model` as sent (null when absent). */
  metadataProvider: string | null;
  metadataModel: string | null;
  inMsgs: number;
  inBytes: number;
  outBytes: number;
  wireBytes: number;
  readMs: number;
  writeMs: number;
  /** Waiting for a worker. */
  queueMs: number;
  workerMs: number;
  /** Serving worker slot (-1 when no worker ran). */
  slot: number;
  cold: boolean;
  modelLimit: number;
  /** How the pool dispatched the call: affinity `hit`, `spill`, `shared` (no key / affinity off); null when it never reached the pool. */
  dispatch: 'hit' | 'spill' | 'shared' | null;
  /** Tokens of the messages after compression (= before on noop). */
  tokensAfter: number;
}

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

export const emptyTools = (): ToolCounts => ({ definitions: 0, results: 0, calls: 0 });

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
