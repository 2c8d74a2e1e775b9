/**
 * The provider vocabulary headroom-ts speaks (which provider and API a request used, its token
 * usage normalised across providers, the error kinds it answers in a provider's shape) and
 * the adapter interfaces each API implements.
 */
/**
 * Cloud platforms use their OpenTelemetry GenAI names (`gen_ai.provider.name`), which are also
 * their labels in metrics and traces.
 */
export type ProviderId = 'anthropic' | 'openai' | 'azure.ai.openai' | 'gcp.gemini' | 'aws.bedrock' | 'gcp.vertex_ai' | 'unknown';

/** Which API surface a request used. */
export type ApiKind =
  | 'messages'
  | 'count_tokens'
  | 'chat'
  | 'responses'
  | 'generate_content' // Gemini generateContent / streamGenerateContent
  | 'models'
  | 'passthrough'
  | 'compress'
  | 'hook';

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


export interface ToolCounts {
  /** Tool definitions sent in the request. */
  definitions: number;
  /** tool_result / role:tool / function_call_output items in the newest turn of the request. */
  results: number;
  /** Tool calls made by the model in the response. */
  calls: number;
}

export const emptyTools = (): ToolCounts => ({ definitions: 0, results: 0, calls: 0 });

/** What a request body tells us before it is forwarded. */
export interface RequestFacts {
  model: string | null;
  stream: boolean;
  messageCount: number;
  tools: ToolCounts;
}

/** What a response (JSON or stream) tells us. */
export interface ResponseFacts {
  usage: TokenUsage | null;
  model: string | null;
  finishReason: string | null;
  /** Tool calls made by the model in this response. */
  toolCalls: number;
  /** An error reported by the upstream inside a stream (HTTP status was already 200). */
  streamError: string | null;
  /** The stream reached its terminal event (message_stop, [DONE], response.completed). */
  complete: boolean;
}

/** Watches a streaming response's bytes go by. */
export interface StreamObserver {
  push(chunk: Buffer): void;
  /** Called at end of stream; returns what was learned. */
  end(): ResponseFacts;
  /** What has been learned so far. */
  snapshot(): ResponseFacts;
}

export type ProgressCallback = (facts: ResponseFacts) => void;

/** One API surface of one provider (e.g. Anthropic Messages). */
export interface ApiAdapter {
  readonly provider: ProviderId;
  readonly api: ApiKind;
  describeRequest(body: Record<string, unknown>): RequestFacts;
  factsFromJson(body: unknown): ResponseFacts;
  streamObserver(onProgress?: ProgressCallback): StreamObserver;
}

/** Provider-shaped error bodies. */
export interface ErrorShapes {
  /** JSON body for an HTTP error response. */
  errorBody(status: number, type: ErrorType, message: string): string;
  /** SSE frame(s) (or, for an AWS event stream, a binary exception frame) that end a stream with an error the provider's SDK recognises. */
  streamErrorFrame(type: ErrorType, message: string): string | Buffer;
  /** Headers an error response of ours carries (Bedrock's `x-amzn-errortype`). */
  errorHeaders?(status: number, type: ErrorType): Record<string, string>;
}

export const emptyFacts = (): ResponseFacts => ({
  usage: null,
  model: null,
  finishReason: null,
  toolCalls: 0,
  streamError: null,
  complete: false,
});

export const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);
export const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
export const obj = (v: unknown): Record<string, unknown> | null =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
