import type { ApiKind, ErrorType, ProviderId, TokenUsage, ToolCounts } from '../core/outcome.js';

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
  /** SSE frame(s) that end a stream with an error the provider's SDK recognises. */
  streamErrorFrame(type: ErrorType, message: string): string;
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
