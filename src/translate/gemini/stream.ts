/**
 * A Gemini `streamGenerateContent?alt=sse` stream -> an OpenAI Chat Completions stream,
 * incrementally: feed the upstream bytes as they arrive (any chunk boundary), get the OpenAI
 * SSE text to send.
 *
 * The first chunk carries `role: assistant`; each text part becomes a `content` delta (thought
 * summaries are left out); each `functionCall` (Gemini sends a call whole) becomes a
 * `tool_calls` delta with the next numeric index, its id and name and all of its arguments.
 * Gemini's stream has no terminator: its last chunk carries `finishReason` and the final
 * `usageMetadata`; at the end of the body the finish chunk is sent, then (with
 * `includeUsage`) the usage chunk, then `[DONE]`. An error payload in the stream, or a body
 * that ends before any finish reason, ends it with an OpenAI error frame instead.
 */
import { SseParser } from '../../providers/sse.js';
import { asArr, isObj, makeId } from '../util.js';
import { candidateParts } from './response.js';
import { type OaiUsageWithReasoning, geminiFinishToOpenAI, geminiUsageToOpenAI } from './usage.js';

export interface GeminiStreamOptions {
  model: string;
  /** The client asked for `stream_options.include_usage`. */
  includeUsage?: boolean;
  created?: number;
  id?: string;
}

export interface GeminiStreamFacts {
  usage: OaiUsageWithReasoning | null;
  finishReason: string | null;
  toolCalls: number;
  complete: boolean;
  error: string | null;
}

export class GeminiToOpenAIStream {
  private readonly parser = new SseParser((_e, data) => this.onData(data));
  private out = '';
  private started = false;
  private done = false;
  private id: string;
  private readonly created: number;
  private finish: string | null = null;
  private usage: OaiUsageWithReasoning | null = null;
  private toolIndex = 0;
  private error: string | null = null;

  constructor(private readonly opts: GeminiStreamOptions) {
    this.id = opts.id ?? '';
    this.created = opts.created ?? Math.floor(Date.now() / 1000);
  }

  push(chunk: Buffer | string): string {
    if (!this.done) this.parser.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    return this.take();
  }

  end(): string {
    if (!this.done) this.parser.end();
    if (!this.done) {
      if (this.finish === null) this.fail('upstream stream ended before its final chunk');
      else this.close();
    }
    return this.take();
  }

  facts(): GeminiStreamFacts {
    return { usage: this.usage, finishReason: this.finish, toolCalls: this.toolIndex, complete: this.done && this.error === null, error: this.error };
  }

  private take(): string {
    const s = this.out;
    this.out = '';
    return s;
  }

  private chunk(choices: unknown[], extra: Record<string, unknown> = {}): void {
    const body = { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.opts.model, choices, ...extra };
    this.out += `data: ${JSON.stringify(body)}\n\n`;
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    if (!this.id) this.id = makeId('chatcmpl-');
    this.chunk([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]);
  }

  private fail(message: string): void {
    this.error = message;
    this.done = true;
    this.out += `data: ${JSON.stringify({ error: { message, type: 'server_error', param: null, code: 'upstream_stream_error' } })}\n\n`;
  }

  private close(): void {
    this.done = true;
    this.chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: geminiFinishToOpenAI(this.finish, this.toolIndex > 0) }]);
    if (this.opts.includeUsage && this.usage) this.chunk([], { usage: this.usage });
    this.out += 'data: [DONE]\n\n';
  }

  private onData(data: string): void {
    if (this.done) return;
    let v: unknown;
    try {
      v = JSON.parse(data);
    } catch {
      return this.fail('the upstream sent a stream chunk that is not JSON');
    }
    if (!isObj(v)) return;
    if (isObj(v.error)) return this.fail(typeof v.error.message === 'string' ? v.error.message : 'upstream stream error');
    if (!this.id && typeof v.responseId === 'string') this.id = v.responseId;
    this.start();
    if (isObj(v.usageMetadata)) this.usage = geminiUsageToOpenAI(v.usageMetadata);
    const blocked = isObj(v.promptFeedback) && typeof v.promptFeedback.blockReason === 'string';
    if (blocked) this.finish = 'SAFETY';
    const cand = asArr(v.candidates).find((c) => isObj(c) && (c.index === undefined || c.index === 0));
    if (!isObj(cand)) return;
    const { text, calls } = candidateParts(isObj(cand.content) ? cand.content.parts : undefined);
    if (text) this.chunk([{ index: 0, delta: { content: text }, logprobs: null, finish_reason: null }]);
    for (const c of calls) {
      const index = this.toolIndex++;
      this.chunk([{ index: 0, delta: { tool_calls: [{ index, id: c.id, type: 'function', function: { name: c.function.name, arguments: c.function.arguments } }] }, logprobs: null, finish_reason: null }]);
    }
    if (typeof cand.finishReason === 'string') this.finish = cand.finishReason;
  }
}
