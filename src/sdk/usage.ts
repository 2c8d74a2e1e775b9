/**
 * Token usage read from what the official SDKs return: a parsed response, or the events of
 * a stream (Anthropic `message_start` / `message_delta`, OpenAI chat's usage chunk, Responses'
 * `response.completed`). Normalised like the proxy's (`input` = every prompt token).
 */
import { mergeAnthropicUsage, newUsageState, toUsage } from '../providers/anthropic.js';
import { chatUsage, responsesUsage } from '../providers/openai.js';
import type { TokenUsage } from '../providers/types.js';

export type SdkApi = 'messages' | 'chat' | 'responses';

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Collects the usage of one call, from a response or from stream events. */
export class UsageTap {
  private readonly anthropic = newUsageState();
  private openai: TokenUsage | null = null;
  private streamed = false;
  model: string | null = null;

  constructor(readonly api: SdkApi) {}

  /** A complete (non-streaming) response object. */
  response(res: unknown): void {
    if (!isObj(res)) return;
    if (typeof res.model === 'string') this.model = res.model;
    if (this.api === 'messages') mergeAnthropicUsage(this.anthropic, res.usage);
    else if (this.api === 'chat') this.openai = chatUsage(res.usage, 'json') ?? this.openai;
    else this.openai = responsesUsage(res.usage, 'json') ?? this.openai;
  }

  /** One stream event / chunk as the SDK yields it. */
  event(ev: unknown): void {
    if (!isObj(ev)) return;
    this.streamed = true;
    if (this.api === 'messages') {
      if (ev.type === 'message_start' && isObj(ev.message)) {
        if (typeof ev.message.model === 'string') this.model = ev.message.model;
        mergeAnthropicUsage(this.anthropic, ev.message.usage);
      } else if (ev.type === 'message_delta') mergeAnthropicUsage(this.anthropic, ev.usage);
    } else if (this.api === 'chat') {
      if (typeof ev.model === 'string') this.model = ev.model;
      if (isObj(ev.usage)) this.openai = chatUsage(ev.usage, 'sse');
    } else if (ev.type === 'response.completed' && isObj(ev.response)) {
      if (typeof ev.response.model === 'string') this.model = ev.response.model;
      this.openai = responsesUsage(ev.response.usage, 'sse');
    }
  }

  usage(): TokenUsage | null {
    if (this.api === 'messages') return toUsage(this.anthropic, this.streamed ? 'sse' : 'json');
    return this.openai;
  }
}
