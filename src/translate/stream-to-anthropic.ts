/**
 * An OpenAI Chat Completions stream -> an Anthropic Messages stream, incrementally: feed the
 * upstream bytes as they arrive (any chunk boundary, even inside a UTF-8 character), get the
 * Anthropic SSE text to send.
 *
 * Emits `message_start`, then per block `content_block_start` / `content_block_delta`
 * (`text_delta`, `input_json_delta`) / `content_block_stop` with numeric indexes, then
 * `message_delta` (stop reason and usage, incl. cache reads) and `message_stop`. Tool
 * arguments are streamed as they arrive; fragments that come before the tool's name are held
 * and sent when its block starts; a tool call without an id gets one. `finish_reason` does not
 * end the stream: the usage chunk that `stream_options.include_usage` makes the upstream send
 * after it is still read, and the stream closes on `[DONE]` (or the end of the body). An upstream
 * error payload, or a body that ends before any finish, ends the stream with an Anthropic
 * `error` event.
 */
import { SseParser } from '../providers/sse.js';
import type { AnthStopReason, AnthUsage } from './types.js';
import { anthropicErrorType } from './errors.js';
import { finishToStopReason, openAIUsageToAnthropic } from './usage.js';
import { type ToolNameMap, restoreName } from './tool-names.js';
import { type Json, asArr, asStr, isObj, makeId } from './util.js';

export interface StreamToAnthropicOptions {
  /** The model shown to the client. */
  model: string;
  /** Message id when the upstream's is not wanted; default: the upstream chunk id. */
  id?: string;
  /** Tool names the request translation changed (sent -> original), restored in the stream. */
  toolNames?: ToolNameMap;
}

interface ToolState {
  id: string | null;
  name: string | null;
  pending: string;
  block: number | null;
  closed: boolean;
}

export interface StreamTranslationFacts {
  usage: AnthUsage | null;
  stopReason: AnthStopReason | null;
  toolCalls: number;
  /** The upstream stream ended properly. */
  complete: boolean;
  /** An error the upstream reported in the stream, or the early end. */
  error: string | null;
  /** Argument fragments for a tool whose block had already closed (interleaved parallel calls). */
  lateFragments: number;
}

const frame = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

export class OpenAIToAnthropicStream {
  private readonly parser = new SseParser((_e, data) => this.onData(data));
  private out = '';
  private started = false;
  private done = false;
  private nextBlock = 0;
  private open: { kind: 'text' } | { kind: 'tool'; key: number } | null = null;
  private openIndex = -1;
  private readonly tools = new Map<number, ToolState>();
  private finish: unknown = undefined;
  private usage: AnthUsage | null = null;
  private error: string | null = null;
  private late = 0;
  private toolCount = 0;

  constructor(private readonly opts: StreamToAnthropicOptions) {}

  /** Feeds upstream bytes; returns the Anthropic SSE text to send now (may be ''). */
  push(chunk: Buffer | string): string {
    if (!this.done) this.parser.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    return this.take();
  }

  /** The upstream body ended; returns the closing events. */
  end(): string {
    if (!this.done) this.parser.end();
    if (!this.done) {
      if (this.finish !== undefined) this.finalize();
      else this.fail('the upstream stream ended before the response was complete', 502);
    }
    return this.take();
  }

  facts(): StreamTranslationFacts {
    return {
      usage: this.usage,
      stopReason: this.finish === undefined ? null : finishToStopReason(this.finish),
      toolCalls: this.toolCount,
      complete: this.done && this.error === null,
      error: this.error,
      lateFragments: this.late,
    };
  }

  private take(): string {
    const s = this.out;
    this.out = '';
    return s;
  }

  private emit(event: string, data: unknown): void {
    this.out += frame(event, data);
  }

  private onData(data: string): void {
    if (this.done) return;
    if (data.trim() === '[DONE]') {
      if (this.finish === undefined) this.finish = 'stop';
      this.finalize();
      return;
    }
    let chunk: unknown;
    try {
      chunk = JSON.parse(data);
    } catch {
      this.fail('the upstream sent a stream event that is not JSON', 502);
      return;
    }
    if (!isObj(chunk)) return;
    if (chunk.error !== undefined) {
      const e = isObj(chunk.error) ? chunk.error : {};
      this.fail(typeof e.message === 'string' ? e.message : typeof chunk.error === 'string' ? chunk.error : 'the upstream reported an error', 500);
      return;
    }
    this.start(chunk);
    if (isObj(chunk.usage)) this.usage = openAIUsageToAnthropic(chunk.usage);
    for (const c of asArr(chunk.choices)) {
      if (!isObj(c)) continue;
      const delta = isObj(c.delta) ? c.delta : {};
      const text = asStr(delta.content);
      if (text) this.text(text);
      const refusal = asStr(delta.refusal);
      if (refusal) this.text(refusal);
      asArr(delta.tool_calls).forEach((tc, pos) => {
        if (isObj(tc)) this.tool(tc, pos);
      });
      if (c.finish_reason !== null && c.finish_reason !== undefined) this.finish = c.finish_reason;
    }
  }

  private start(chunk: Json): void {
    if (this.started) return;
    this.started = true;
    const id = this.opts.id ?? asStr(chunk.id) ?? makeId('msg_');
    this.emit('message_start', {
      type: 'message_start',
      message: {
        id,
        type: 'message',
        role: 'assistant',
        model: this.opts.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
      },
    });
  }

  private closeOpen(): void {
    if (!this.open) return;
    if (this.open.kind === 'tool') {
      const t = this.tools.get(this.open.key);
      if (t) t.closed = true;
    }
    this.emit('content_block_stop', { type: 'content_block_stop', index: this.openIndex });
    this.open = null;
  }

  private text(text: string): void {
    if (this.open?.kind !== 'text') {
      this.closeOpen();
      this.openIndex = this.nextBlock++;
      this.open = { kind: 'text' };
      this.emit('content_block_start', { type: 'content_block_start', index: this.openIndex, content_block: { type: 'text', text: '' } });
    }
    this.emit('content_block_delta', { type: 'content_block_delta', index: this.openIndex, delta: { type: 'text_delta', text } });
  }

  private tool(tc: Json, pos: number): void {
    const key = typeof tc.index === 'number' ? tc.index : pos;
    let t = this.tools.get(key);
    if (!t) {
      t = { id: null, name: null, pending: '', block: null, closed: false };
      this.tools.set(key, t);
    }
    const fn = isObj(tc.function) ? tc.function : {};
    if (!t.id && asStr(tc.id)) t.id = asStr(tc.id)!;
    if (asStr(fn.name) && t.block === null) t.name = (t.name ?? '') + asStr(fn.name)!;
    const args = typeof fn.arguments === 'string' ? fn.arguments : '';
    if (t.block === null) {
      t.pending += args;
      if (t.name) {
        this.closeOpen();
        t.block = this.nextBlock++;
        this.openIndex = t.block;
        this.open = { kind: 'tool', key };
        this.toolCount++;
        this.emit('content_block_start', {
          type: 'content_block_start',
          index: t.block,
          content_block: { type: 'tool_use', id: t.id ?? makeId('toolu_'), name: restoreName(this.opts.toolNames, t.name), input: {} },
        });
        if (t.pending) this.emit('content_block_delta', { type: 'content_block_delta', index: t.block, delta: { type: 'input_json_delta', partial_json: t.pending } });
        t.pending = '';
      }
      return;
    }
    if (!args) return;
    if (t.closed) {
      this.late++;
      return;
    }
    this.emit('content_block_delta', { type: 'content_block_delta', index: t.block, delta: { type: 'input_json_delta', partial_json: args } });
  }

  private finalize(): void {
    if (!this.started) this.start({});
    this.closeOpen();
    const usage = this.usage ?? { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
    this.emit('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: finishToStopReason(this.finish), stop_sequence: null },
      usage: { input_tokens: usage.input_tokens, output_tokens: usage.output_tokens, cache_read_input_tokens: usage.cache_read_input_tokens, cache_creation_input_tokens: usage.cache_creation_input_tokens },
    });
    this.emit('message_stop', { type: 'message_stop' });
    this.done = true;
  }

  private fail(message: string, status: number): void {
    this.error = message;
    this.done = true;
    this.emit('error', { type: 'error', error: { type: anthropicErrorType(status), message } });
  }
}
