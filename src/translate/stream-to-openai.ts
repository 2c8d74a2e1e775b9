/**
 * An Anthropic Messages stream -> an OpenAI Chat Completions stream, incrementally: feed the
 * upstream bytes as they arrive, get the `data: <chunk>` text to send.
 *
 * The first chunk carries `role: "assistant"`; text deltas become `delta.content`; each
 * `tool_use` block becomes a tool call with a numeric `index` (0, 1, ... in block order), its id
 * and name first, then its `input_json_delta` fragments as `function.arguments` as they arrive;
 * `message_delta` gives the `finish_reason`; with `includeUsage` (the client asked for
 * `stream_options.include_usage`) every chunk carries `usage: null` and a last chunk with no
 * choices carries the usage (cache reads in `prompt_tokens_details.cached_tokens`); then
 * `data: [DONE]`. An upstream `error` event, or a body that ends before `message_stop`, ends the
 * stream with an OpenAI error payload, which the official SDK raises as an APIError.
 */
import { SseParser } from '../providers/sse.js';
import type { OaiFinishReason, OaiUsage } from './types.js';
import { openAIErrorType } from './errors.js';
import { anthropicUsageToOpenAI, stopReasonToFinish } from './usage.js';
import { type Json, asStr, count, isObj, makeId } from './util.js';

export interface StreamToOpenAIOptions {
  model: string;
  /** The client asked for `stream_options.include_usage`. */
  includeUsage?: boolean;
  /** Seconds since the epoch for `created`; default: now. */
  created?: number;
  id?: string;
}

export interface StreamToOpenAIFacts {
  usage: OaiUsage | null;
  finishReason: OaiFinishReason | null;
  toolCalls: number;
  complete: boolean;
  error: string | null;
}

export class AnthropicToOpenAIStream {
  private readonly parser = new SseParser((event, data) => this.onEvent(event, data));
  private out = '';
  private done = false;
  private started = false;
  private id: string;
  private readonly created: number;
  private readonly toolIndex = new Map<number, number>();
  private finish: OaiFinishReason | null = null;
  private raw = { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };
  private sawUsage = false;
  private error: string | null = null;

  constructor(private readonly opts: StreamToOpenAIOptions) {
    this.id = opts.id ?? '';
    this.created = opts.created ?? Math.floor(Date.now() / 1000);
  }

  push(chunk: Buffer | string): string {
    if (!this.done) this.parser.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    return this.take();
  }

  end(): string {
    if (!this.done) this.parser.end();
    if (!this.done) this.fail('the upstream stream ended before the response was complete', 502);
    return this.take();
  }

  facts(): StreamToOpenAIFacts {
    return {
      usage: this.sawUsage ? anthropicUsageToOpenAI(this.raw) : null,
      finishReason: this.finish,
      toolCalls: this.toolIndex.size,
      complete: this.done && this.error === null,
      error: this.error,
    };
  }

  private take(): string {
    const s = this.out;
    this.out = '';
    return s;
  }

  private chunk(delta: Json, finish: OaiFinishReason | null = null): void {
    const c: Json = {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.opts.model,
      choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
    };
    if (this.opts.includeUsage) c.usage = null;
    this.out += `data: ${JSON.stringify(c)}\n\n`;
  }

  private begin(): void {
    if (this.started) return;
    this.started = true;
    if (!this.id) this.id = makeId('chatcmpl-');
    this.chunk({ role: 'assistant', content: '' });
  }

  private usageFrom(u: unknown): void {
    if (!isObj(u)) return;
    this.sawUsage = true;
    for (const k of ['input_tokens', 'output_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens'] as const) {
      if (typeof u[k] === 'number') this.raw[k] = count(u[k]);
    }
  }

  private onEvent(event: string, data: string): void {
    if (this.done) return;
    let ev: unknown;
    try {
      ev = JSON.parse(data);
    } catch {
      this.fail('the upstream sent a stream event that is not JSON', 502);
      return;
    }
    if (!isObj(ev)) return;
    const type = asStr(ev.type) ?? event;
    switch (type) {
      case 'message_start': {
        const m = isObj(ev.message) ? ev.message : {};
        if (!this.id) this.id = asStr(m.id) ?? '';
        this.usageFrom(m.usage);
        this.begin();
        break;
      }
      case 'content_block_start': {
        this.begin();
        const b = isObj(ev.content_block) ? ev.content_block : {};
        const index = typeof ev.index === 'number' ? ev.index : -1;
        if (b.type === 'tool_use') {
          const n = this.toolIndex.size;
          this.toolIndex.set(index, n);
          const hasInput = isObj(b.input) && Object.keys(b.input).length > 0;
          const call = { index: n, id: asStr(b.id) ?? makeId('call_'), type: 'function', function: { name: asStr(b.name) ?? '', arguments: hasInput ? JSON.stringify(b.input) : '' } };
          this.chunk({ tool_calls: [call] });
        } else if (b.type === 'text' && typeof b.text === 'string' && b.text) {
          this.chunk({ content: b.text });
        }
        break;
      }
      case 'content_block_delta': {
        this.begin();
        const d = isObj(ev.delta) ? ev.delta : {};
        if (d.type === 'text_delta' && typeof d.text === 'string') {
          if (d.text) this.chunk({ content: d.text });
        } else if (d.type === 'input_json_delta' && typeof d.partial_json === 'string') {
          const n = this.toolIndex.get(typeof ev.index === 'number' ? ev.index : -1);
          if (n !== undefined && d.partial_json) this.chunk({ tool_calls: [{ index: n, function: { arguments: d.partial_json } }] });
        }
        break;
      }
      case 'message_delta': {
        this.begin();
        const d = isObj(ev.delta) ? ev.delta : {};
        this.usageFrom(ev.usage);
        if (d.stop_reason !== undefined && d.stop_reason !== null) {
          this.finish = stopReasonToFinish(d.stop_reason);
          this.chunk({}, this.finish);
        }
        break;
      }
      case 'message_stop':
        this.begin();
        if (this.finish === null) {
          this.finish = 'stop';
          this.chunk({}, this.finish);
        }
        if (this.opts.includeUsage) {
          const c = { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.opts.model, choices: [], usage: anthropicUsageToOpenAI(this.raw) };
          this.out += `data: ${JSON.stringify(c)}\n\n`;
        }
        this.out += 'data: [DONE]\n\n';
        this.done = true;
        break;
      case 'error': {
        const e = isObj(ev.error) ? ev.error : {};
        const t = asStr(e.type);
        const status = t === 'overloaded_error' ? 529 : t === 'rate_limit_error' ? 429 : t === 'invalid_request_error' ? 400 : 500;
        this.fail(asStr(e.message) ?? 'the upstream reported an error', status, t);
        break;
      }
      default:
        // ping, thinking and signature deltas have no Chat Completions counterpart
        break;
    }
  }

  private fail(message: string, status: number, upstreamType?: string): void {
    this.error = message;
    this.done = true;
    const t = openAIErrorType(status);
    this.out += `data: ${JSON.stringify({ error: { message, type: t.type, param: null, code: upstreamType ?? t.code } })}\n\n`;
  }
}
