/**
 * Anthropic Messages API: request facts, usage from JSON and from the SSE stream
 * (`message_start` / `message_delta`, including cache read/write and the 5m/1h TTL buckets).
 */
import { liveZone, messageSpeaker } from '../compress/request/live-zone.js';
import type { TokenUsage } from './types.js';
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

/** Fields of an Anthropic `usage` object, as last reported. */
export interface AnthropicUsageState {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
  seen: boolean;
}

export const newUsageState = (): AnthropicUsageState => ({
  input: 0, output: 0, cacheRead: 0, cacheWrite: 0, cacheWrite5m: 0, cacheWrite1h: 0, seen: false,
});

/** Merges a usage object into the state: fields present override (values are cumulative). */
export function mergeAnthropicUsage(state: AnthropicUsageState, raw: unknown): void {
  const u = obj(raw);
  if (!u) return;
  state.seen = true;
  if (typeof u.input_tokens === 'number') state.input = num(u.input_tokens);
  if (typeof u.output_tokens === 'number') state.output = num(u.output_tokens);
  if (typeof u.cache_read_input_tokens === 'number') state.cacheRead = num(u.cache_read_input_tokens);
  if (typeof u.cache_creation_input_tokens === 'number') state.cacheWrite = num(u.cache_creation_input_tokens);
  const cc = obj(u.cache_creation);
  if (cc) {
    if (typeof cc.ephemeral_5m_input_tokens === 'number') state.cacheWrite5m = num(cc.ephemeral_5m_input_tokens);
    if (typeof cc.ephemeral_1h_input_tokens === 'number') state.cacheWrite1h = num(cc.ephemeral_1h_input_tokens);
  }
}

export function toUsage(s: AnthropicUsageState, source: TokenUsage['source']): TokenUsage | null {
  if (!s.seen) return null;
  // Without a TTL breakdown, Anthropic's default cache TTL is 5 minutes.
  const bucketed = s.cacheWrite5m + s.cacheWrite1h;
  return {
    input: s.input + s.cacheRead + s.cacheWrite,
    output: s.output,
    uncached: s.input,
    cacheRead: s.cacheRead,
    cacheWrite: s.cacheWrite,
    cacheWrite5m: bucketed > 0 ? s.cacheWrite5m : s.cacheWrite,
    cacheWrite1h: s.cacheWrite1h,
    reasoning: 0,
    source,
  };
}

/** Counts tool_result blocks in the newest turn (the messages after the model last spoke). */
function newestTurnToolResults(messages: unknown[]): number {
  const zone = liveZone(messages.map((m) => messageSpeaker(str(obj(m)?.role))), true);
  let n = 0;
  for (const m of messages.slice(zone.start, zone.end)) for (const block of arr(obj(m)?.content)) if (obj(block)?.type === 'tool_result') n++;
  return n;
}

export function describeAnthropicRequest(body: Record<string, unknown>): RequestFacts {
  const messages = arr(body.messages);
  const system = body.system;
  const systemCount = typeof system === 'string' ? (system ? 1 : 0) : arr(system).length > 0 ? 1 : 0;
  return {
    model: str(body.model),
    stream: body.stream === true,
    messageCount: messages.length + systemCount,
    tools: { definitions: arr(body.tools).length, results: newestTurnToolResults(messages), calls: 0 },
  };
}

function factsFromMessage(msg: unknown): ResponseFacts {
  const facts = emptyFacts();
  const m = obj(msg);
  if (!m) return facts;
  const state = newUsageState();
  mergeAnthropicUsage(state, m.usage);
  facts.usage = toUsage(state, 'json');
  facts.model = str(m.model);
  facts.finishReason = str(m.stop_reason);
  for (const block of arr(m.content)) if (obj(block)?.type === 'tool_use') facts.toolCalls++;
  facts.complete = true;
  return facts;
}

class AnthropicStreamObserver implements StreamObserver {
  private readonly parser: SseParser;
  private readonly state = newUsageState();
  private readonly facts = emptyFacts();

  constructor(private readonly onProgress?: ProgressCallback) {
    this.parser = new SseParser((event, data) => this.onEvent(event, data));
  }

  push(chunk: Buffer): void {
    this.parser.push(chunk);
  }

  private onEvent(event: string, data: string): void {
    switch (event) {
      case 'content_block_delta':
      case 'ping':
      case 'content_block_stop':
        return; // the frequent events carry nothing we account for
      case 'content_block_start':
        if (data.includes('"tool_use"') || data.includes('"server_tool_use"')) {
          const block = obj(obj(safeParse(data))?.content_block);
          if (block?.type === 'tool_use' || block?.type === 'server_tool_use') this.facts.toolCalls++;
        }
        return;
      case 'message_start': {
        const msg = obj(obj(safeParse(data))?.message);
        if (!msg) return;
        this.facts.model = str(msg.model) ?? this.facts.model;
        mergeAnthropicUsage(this.state, msg.usage);
        this.progress();
        return;
      }
      case 'message_delta': {
        const d = obj(safeParse(data));
        if (!d) return;
        const delta = obj(d.delta);
        if (delta) this.facts.finishReason = str(delta.stop_reason) ?? this.facts.finishReason;
        mergeAnthropicUsage(this.state, d.usage);
        this.progress();
        return;
      }
      case 'message_stop':
        this.facts.complete = true;
        return;
      case 'error': {
        const err = obj(obj(safeParse(data))?.error);
        this.facts.streamError = `${str(err?.type) ?? 'error'}: ${str(err?.message) ?? data.slice(0, 200)}`;
        return;
      }
      default:
        return;
    }
  }

  private progress(): void {
    this.facts.usage = toUsage(this.state, 'sse');
    this.onProgress?.(this.facts);
  }

  snapshot(): ResponseFacts {
    return { ...this.facts, usage: toUsage(this.state, 'sse') };
  }

  end(): ResponseFacts {
    this.parser.end();
    return this.snapshot();
  }
}

export function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export const anthropicMessages: ApiAdapter = {
  provider: 'anthropic',
  api: 'messages',
  describeRequest: describeAnthropicRequest,
  factsFromJson: factsFromMessage,
  streamObserver: (onProgress) => new AnthropicStreamObserver(onProgress),
};

/** count_tokens bills nothing: no usage is recorded. */
export const anthropicCountTokens: ApiAdapter = {
  provider: 'anthropic',
  api: 'count_tokens',
  describeRequest: (body) => ({ ...describeAnthropicRequest(body), stream: false }),
  factsFromJson: (body) => ({ ...emptyFacts(), complete: obj(body) !== null }),
  streamObserver: (onProgress) => new AnthropicStreamObserver(onProgress),
};
