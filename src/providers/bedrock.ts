/**
 * Amazon Bedrock runtime: the paths (`/model/{modelId}/invoke`, `invoke-with-response-stream`,
 * `converse`, `converse-stream`), request facts, usage from JSON and from the AWS event
 * stream, and Bedrock's error shapes.
 *
 * - `invoke` carries an Anthropic Messages body without `model` (the model is in the path) and
 *   with `anthropic_version`; its answer is an Anthropic message. Its stream is an AWS event
 *   stream whose `chunk` events carry `{"bytes": base64}`, each an Anthropic stream event.
 * - `converse` is Bedrock's own format (`messages[].content[]` of `text`, `toolUse`,
 *   `toolResult`; `usage.inputTokens`, `cacheReadInputTokens`, `cacheWriteInputTokens`).
 * - Errors are `{"message": ...}` with the error's name in `x-amzn-errortype`; inside a stream,
 *   an exception frame (`:message-type: exception`, `:exception-type: throttlingException`).
 */
import { anthropicMessages, describeAnthropicRequest, safeParse } from './anthropic.js';
import { encodeException, EventStreamSplitter, type EventFrame } from './eventstream.js';
import {
  type ApiAdapter,
  arr,
  emptyFacts,
  type ErrorShapes,
  type ErrorType,
  num,
  obj,
  type ProgressCallback,
  type RequestFacts,
  type ResponseFacts,
  type StreamObserver,
  str,
  type TokenUsage,
} from './types.js';

export type BedrockOperation = 'invoke' | 'invoke-with-response-stream' | 'converse' | 'converse-stream';

export interface BedrockPath {
  /** The model id or inference profile as the client named it (decoded): `us.anthropic.claude-sonnet-4-5-20250929-v1:0`. */
  modelId: string;
  op: BedrockOperation;
}

const PATH = /^\/model\/([^/]+)\/(invoke|invoke-with-response-stream|converse|converse-stream)$/;

/** Parses a Bedrock runtime path; null when it is none. */
export function parseBedrockPath(path: string): BedrockPath | null {
  const m = PATH.exec(path);
  if (!m) return null;
  let modelId: string;
  try {
    modelId = decodeURIComponent(m[1]!);
  } catch {
    return null;
  }
  return { modelId, op: m[2] as BedrockOperation };
}

export const isBedrockStreamOp = (op: BedrockOperation): boolean => op === 'invoke-with-response-stream' || op === 'converse-stream';

// ---- invoke: Anthropic inside ----

const withModel = (facts: ResponseFacts, modelId: string): ResponseFacts => (facts.model ? facts : { ...facts, model: modelId });

/** A chunk's payload `{"bytes":"<base64>"...}` and an event's leading `"type"`, read without a parse when they have the usual form. */
const BYTES = /^\{"bytes":"([A-Za-z0-9+/=]*)"/;
const TYPE = /^\{"type":"([a-z_]+)"/;

/** Reads the Anthropic events inside an invoke stream's `chunk` frames. */
class InvokeStreamObserver implements StreamObserver {
  private readonly splitter = new EventStreamSplitter((f) => this.onFrame(f));
  private readonly inner: StreamObserver;
  private exception: string | null = null;

  constructor(
    private readonly modelId: string,
    onProgress?: ProgressCallback,
  ) {
    this.inner = anthropicMessages.streamObserver(onProgress ? (facts) => onProgress(withModel(facts, modelId)) : undefined);
  }

  push(chunk: Buffer): void {
    this.splitter.push(chunk);
  }

  private onFrame(f: EventFrame): void {
    if (f.messageType !== 'event') {
      this.exception = `${f.eventType || 'exception'}: ${str(obj(safeParse(f.payload))?.message) ?? f.payload.slice(0, 200)}`;
      return;
    }
    if (f.eventType !== 'chunk') return;
    const bytes = BYTES.exec(f.payload)?.[1] ?? str(obj(safeParse(f.payload))?.bytes);
    if (!bytes) return;
    const text = Buffer.from(bytes, 'base64').toString('utf8');
    const type = TYPE.exec(text)?.[1] ?? str(obj(safeParse(text))?.type);
    // the frequent events carry nothing the usage reader accounts for
    if (!type || type === 'content_block_delta' || type === 'ping' || type === 'content_block_stop') return;
    // the same events the Anthropic API streams: read them with its observer
    this.inner.push(Buffer.from(`event: ${type}\ndata: ${text}\n\n`));
  }

  private facts(base: ResponseFacts): ResponseFacts {
    const facts = withModel(base, this.modelId);
    if (this.exception) facts.streamError = this.exception;
    else if (this.splitter.broken) facts.streamError = `malformed event stream: ${this.splitter.broken}`;
    return facts;
  }

  snapshot(): ResponseFacts {
    return this.facts(this.inner.snapshot());
  }

  end(): ResponseFacts {
    return this.facts(this.inner.end());
  }
}

function invokeAdapter(modelId: string, stream: boolean): ApiAdapter {
  return {
    provider: 'aws.bedrock',
    api: 'messages',
    describeRequest: (body) => ({ ...describeAnthropicRequest(body), model: modelId, stream }),
    factsFromJson: (body) => withModel(anthropicMessages.factsFromJson(body), modelId),
    streamObserver: (onProgress) => new InvokeStreamObserver(modelId, onProgress),
  };
}

// ---- converse: Bedrock's own format ----

export function converseUsage(raw: unknown, source: TokenUsage['source']): TokenUsage | null {
  const u = obj(raw);
  if (!u) return null;
  const uncached = num(u.inputTokens);
  const cacheRead = num(u.cacheReadInputTokens);
  const cacheWrite = num(u.cacheWriteInputTokens);
  return { input: uncached + cacheRead + cacheWrite, output: num(u.outputTokens), uncached, cacheRead, cacheWrite, cacheWrite5m: cacheWrite, cacheWrite1h: 0, reasoning: 0, source };
}

function describeConverse(body: Record<string, unknown>, modelId: string, stream: boolean): RequestFacts {
  const messages = arr(body.messages);
  const last = obj(messages[messages.length - 1]);
  let results = 0;
  if (last?.role === 'user') for (const block of arr(last.content)) if (obj(block)?.toolResult) results++;
  return {
    model: modelId,
    stream,
    messageCount: messages.length + (arr(body.system).length > 0 ? 1 : 0),
    tools: { definitions: arr(obj(body.toolConfig)?.tools).length, results, calls: 0 },
  };
}

function converseFacts(raw: unknown, modelId: string): ResponseFacts {
  const facts = emptyFacts();
  const body = obj(raw);
  facts.model = modelId;
  if (!body) return facts;
  facts.usage = converseUsage(body.usage, 'json');
  facts.finishReason = str(body.stopReason);
  for (const block of arr(obj(obj(body.output)?.message)?.content)) if (obj(block)?.toolUse) facts.toolCalls++;
  facts.complete = true;
  return facts;
}

class ConverseStreamObserver implements StreamObserver {
  private readonly splitter = new EventStreamSplitter((f) => this.onFrame(f));
  private readonly state: ResponseFacts;

  constructor(
    modelId: string,
    private readonly onProgress?: ProgressCallback,
  ) {
    this.state = { ...emptyFacts(), model: modelId };
  }

  push(chunk: Buffer): void {
    this.splitter.push(chunk);
  }

  private onFrame(f: EventFrame): void {
    if (f.messageType !== 'event') {
      this.state.streamError = `${f.eventType || 'exception'}: ${str(obj(safeParse(f.payload))?.message) ?? f.payload.slice(0, 200)}`;
      return;
    }
    switch (f.eventType) {
      case 'contentBlockStart':
        if (obj(obj(obj(safeParse(f.payload))?.start)?.toolUse)) this.state.toolCalls++;
        return;
      case 'messageStop':
        this.state.finishReason = str(obj(safeParse(f.payload))?.stopReason) ?? this.state.finishReason;
        return;
      case 'metadata':
        this.state.usage = converseUsage(obj(safeParse(f.payload))?.usage, 'sse');
        this.state.complete = true;
        this.onProgress?.(this.state);
        return;
      default:
        return;
    }
  }

  snapshot(): ResponseFacts {
    const facts = { ...this.state };
    if (!facts.streamError && this.splitter.broken) facts.streamError = `malformed event stream: ${this.splitter.broken}`;
    return facts;
  }

  end(): ResponseFacts {
    return this.snapshot();
  }
}

function converseAdapter(modelId: string, stream: boolean): ApiAdapter {
  return {
    provider: 'aws.bedrock',
    api: 'passthrough',
    describeRequest: (body) => describeConverse(body, modelId, stream),
    factsFromJson: (body) => converseFacts(body, modelId),
    streamObserver: (onProgress) => new ConverseStreamObserver(modelId, onProgress),
  };
}

/** The adapter of a Bedrock operation on a model. */
export function bedrockAdapter(p: BedrockPath): ApiAdapter {
  const stream = isBedrockStreamOp(p.op);
  return p.op === 'invoke' || p.op === 'invoke-with-response-stream' ? invokeAdapter(p.modelId, stream) : converseAdapter(p.modelId, stream);
}

// ---- errors ----

/** Bedrock's error name for a status (what `x-amzn-errortype` carries). */
export function bedrockErrorName(status: number, type: ErrorType): string {
  if (type === 'rate_limited' || type === 'upstream_rate_limited' || status === 429) return type === 'budget_exceeded' ? 'ServiceQuotaExceededException' : 'ThrottlingException';
  if (type === 'budget_exceeded') return 'ServiceQuotaExceededException';
  if (type === 'upstream_timeout' || type === 'body_timeout' || status === 408 || status === 504) return 'ModelTimeoutException';
  if (type === 'upstream_overloaded' || type === 'upstream_connect' || type === 'shutdown' || status === 503 || status === 502) return 'ServiceUnavailableException';
  switch (status) {
    case 400:
    case 413:
    case 415:
    case 422:
      return 'ValidationException';
    case 401:
      return 'UnrecognizedClientException';
    case 403:
      return 'AccessDeniedException';
    case 404:
      return 'ResourceNotFoundException';
    default:
      return 'InternalServerException';
  }
}

const STREAM_STATUS: Partial<Record<ErrorType, number>> = { upstream_timeout: 504, upstream_overloaded: 503, shutdown: 503, upstream_rate_limited: 429, rate_limited: 429 };

export const bedrockErrors: ErrorShapes = {
  errorBody(_status, _type, message) {
    return JSON.stringify({ message });
  },
  errorHeaders(status, type) {
    return { 'x-amzn-errortype': bedrockErrorName(status, type) };
  },
  streamErrorFrame(type, message) {
    let name = bedrockErrorName(STREAM_STATUS[type] ?? 500, type);
    if (name === 'InternalServerException' && type === 'upstream_stream') name = 'ModelStreamErrorException';
    return encodeException(name.charAt(0).toLowerCase() + name.slice(1), message);
  },
};
