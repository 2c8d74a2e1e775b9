/**
 * OpenAI Chat Completions and Responses APIs: request facts, usage from JSON and from the
 * SSE stream (the final usage chunk; `response.completed`), cached-token details included.
 */
import { liveZone, messageSpeaker, responsesSpeaker } from '../compress/request/live-zone.js';
import type { TokenUsage } from './types.js';
import { safeParse } from './anthropic.js';
import { SseParser } from './sse.js';
import {
  type ApiAdapter,
  arr,
  emptyFacts,
  num,
  obj,
  type ProgressCallback,
  type RequestFacts,
  type ResponseFacts,
  type StreamObserver,
  str,
} from './types.js';

/** Chat usage: `prompt_tokens` includes cached tokens; OpenAI reports no cache writes. */
export function chatUsage(raw: unknown, source: TokenUsage['source']): TokenUsage | null {
  const u = obj(raw);
  if (!u) return null;
  const input = num(u.prompt_tokens);
  const cached = Math.min(num(obj(u.prompt_tokens_details)?.cached_tokens), input);
  return {
    input,
    output: num(u.completion_tokens),
    uncached: input - cached,
    cacheRead: cached,
    cacheWrite: 0,
    cacheWrite5m: 0,
    cacheWrite1h: 0,
    reasoning: num(obj(u.completion_tokens_details)?.reasoning_tokens),
    source,
  };
}

/** Responses usage: `input_tokens` includes cached tokens. */
export function responsesUsage(raw: unknown, source: TokenUsage['source']): TokenUsage | null {
  const u = obj(raw);
  if (!u) return null;
  const input = num(u.input_tokens);
  const cached = Math.min(num(obj(u.input_tokens_details)?.cached_tokens), input);
  return {
    input,
    output: num(u.output_tokens),
    uncached: input - cached,
    cacheRead: cached,
    cacheWrite: 0,
    cacheWrite5m: 0,
    cacheWrite1h: 0,
    reasoning: num(obj(u.output_tokens_details)?.reasoning_tokens),
    source,
  };
}

/** Counts the items of the newest turn (after the model last spoke) that `match`. */
function newestTurnCount(items: unknown[], speaker: (item: Record<string, unknown>) => 'model' | 'client', match: (item: Record<string, unknown>) => boolean): number {
  const zone = liveZone(items.map((it) => speaker(obj(it) ?? {})));
  let n = 0;
  for (const it of items.slice(zone.start, zone.end)) {
    const item = obj(it);
    if (item && match(item)) n++;
  }
  return n;
}

export function describeChatRequest(body: Record<string, unknown>): RequestFacts {
  const messages = arr(body.messages);
  return {
    model: str(body.model),
    stream: body.stream === true,
    messageCount: messages.length,
    tools: {
      definitions: arr(body.tools).length + arr(body.functions).length,
      results: newestTurnCount(messages, (m) => messageSpeaker(str(m.role)), (m) => m.role === 'tool' || m.role === 'function'),
      calls: 0,
    },
  };
}

export function describeResponsesRequest(body: Record<string, unknown>): RequestFacts {
  const input = body.input;
  const items = Array.isArray(input) ? input : [];
  return {
    model: str(body.model),
    stream: body.stream === true,
    messageCount: Array.isArray(input) ? items.length : typeof input === 'string' ? 1 : 0,
    tools: {
      definitions: arr(body.tools).length,
      results: newestTurnCount(items, (m) => responsesSpeaker(str(m.type), str(m.role)), (m) => m.type === 'function_call_output' || m.type === 'custom_tool_call_output'),
      calls: 0,
    },
  };
}

function chatFacts(body: unknown): ResponseFacts {
  const facts = emptyFacts();
  const b = obj(body);
  if (!b) return facts;
  facts.usage = chatUsage(b.usage, 'json');
  facts.model = str(b.model);
  const choice = obj(arr(b.choices)[0]);
  facts.finishReason = str(choice?.finish_reason);
  facts.toolCalls = arr(obj(choice?.message)?.tool_calls).length;
  facts.complete = true;
  return facts;
}

const isToolCallItem = (t: unknown) => t === 'function_call' || t === 'custom_tool_call';

function responsesFacts(body: unknown): ResponseFacts {
  const facts = emptyFacts();
  const b = obj(body);
  if (!b) return facts;
  facts.usage = responsesUsage(b.usage, 'json');
  facts.model = str(b.model);
  facts.finishReason = str(obj(b.incomplete_details)?.reason) ?? str(b.status);
  for (const item of arr(b.output)) if (isToolCallItem(obj(item)?.type)) facts.toolCalls++;
  facts.complete = true;
  if (b.status === 'failed') facts.streamError = str(obj(b.error)?.message) ?? 'response failed';
  return facts;
}

class ChatStreamObserver implements StreamObserver {
  private readonly parser = new SseParser((_e, data) => this.onData(data));
  private readonly facts = emptyFacts();
  private readonly toolIndexes = new Set<number>();

  constructor(private readonly onProgress?: ProgressCallback) {}

  push(chunk: Buffer): void {
    this.parser.push(chunk);
  }

  private onData(data: string): void {
    if (data === '[DONE]') {
      this.facts.complete = true;
      return;
    }
    const interesting =
      this.facts.model === null ||
      data.includes('"usage":{') ||
      data.includes('"tool_calls"') ||
      data.includes('"error"') ||
      /"finish_reason":"/.test(data);
    if (!interesting) return;
    const chunk = obj(safeParse(data));
    if (!chunk) return;
    const err = obj(chunk.error);
    if (err) {
      this.facts.streamError = str(err.message) ?? 'stream error';
      return;
    }
    this.facts.model = this.facts.model ?? str(chunk.model);
    for (const c of arr(chunk.choices)) {
      const choice = obj(c);
      if (!choice) continue;
      this.facts.finishReason = str(choice.finish_reason) ?? this.facts.finishReason;
      for (const tc of arr(obj(choice.delta)?.tool_calls)) {
        const index = obj(tc)?.index;
        if (typeof index === 'number') this.toolIndexes.add(index);
      }
    }
    this.facts.toolCalls = this.toolIndexes.size;
    const usage = chatUsage(chunk.usage, 'sse');
    if (usage) {
      this.facts.usage = usage;
      this.onProgress?.(this.facts);
    }
  }

  snapshot(): ResponseFacts {
    return { ...this.facts };
  }

  end(): ResponseFacts {
    this.parser.end();
    return this.snapshot();
  }
}

class ResponsesStreamObserver implements StreamObserver {
  private readonly parser = new SseParser((event, data) => this.onEvent(event, data));
  private readonly facts = emptyFacts();

  constructor(private readonly onProgress?: ProgressCallback) {}

  push(chunk: Buffer): void {
    this.parser.push(chunk);
  }

  private onEvent(event: string, data: string): void {
    // The event name may be absent; the payload's `type` is authoritative.
    const type = event !== 'message' ? event : (/"type":"([^"]+)"/.exec(data)?.[1] ?? '');
    if (type.endsWith('.delta') || (type.endsWith('.done') && type !== 'response.done')) return;
    switch (type) {
      case 'response.created':
      case 'response.in_progress': {
        const r = obj(obj(safeParse(data))?.response);
        this.facts.model = this.facts.model ?? str(r?.model);
        return;
      }
      case 'response.output_item.added': {
        const item = obj(obj(safeParse(data))?.item);
        if (isToolCallItem(item?.type)) this.facts.toolCalls++;
        return;
      }
      case 'response.completed':
      case 'response.incomplete':
      case 'response.failed':
      case 'response.done': {
        const r = obj(obj(safeParse(data))?.response);
        if (!r) return;
        this.facts.model = str(r.model) ?? this.facts.model;
        this.facts.usage = responsesUsage(r.usage, 'sse') ?? this.facts.usage;
        this.facts.finishReason = str(obj(r.incomplete_details)?.reason) ?? str(r.status) ?? this.facts.finishReason;
        if (type === 'response.failed') this.facts.streamError = str(obj(r.error)?.message) ?? 'response failed';
        this.facts.complete = true;
        this.onProgress?.(this.facts);
        return;
      }
      case 'error': {
        const e = obj(safeParse(data));
        this.facts.streamError = str(e?.message) ?? str(obj(e?.error)?.message) ?? 'stream error';
        return;
      }
      default:
        return;
    }
  }

  snapshot(): ResponseFacts {
    return { ...this.facts };
  }

  end(): ResponseFacts {
    this.parser.end();
    return this.snapshot();
  }
}

export const openaiChat: ApiAdapter = {
  provider: 'openai',
  api: 'chat',
  describeRequest: describeChatRequest,
  factsFromJson: chatFacts,
  streamObserver: (onProgress) => new ChatStreamObserver(onProgress),
};

export const openaiResponses: ApiAdapter = {
  provider: 'openai',
  api: 'responses',
  describeRequest: describeResponsesRequest,
  factsFromJson: responsesFacts,
  streamObserver: (onProgress) => new ResponsesStreamObserver(onProgress),
};
