/**
 * Anthropic Messages <-> Gemini, composed from the Anthropic <-> OpenAI Chat translators and
 * the OpenAI Chat <-> Gemini ones. What each hop keeps: the system prompt (system message ->
 * `systemInstruction`), tools and tool choice, tool ids (Anthropic ids -> OpenAI ids -> the
 * call names Gemini matches; ids made for Gemini's calls come back as `tool_use` ids), tool
 * results with `is_error` (`[tool error] ` -> `{error}`), text beside tool results, images
 * and PDFs (base64 -> `inlineData`, URLs -> `fileData`), `max_tokens` unchanged, stop
 * sequences, stop reasons (MAX_TOKENS -> max_tokens, SAFETY... -> refusal, calls ->
 * tool_use), usage with cached tokens as `cache_read_input_tokens` and thoughts in the output
 * tokens, and errors in Anthropic's shape. Dropped on the first hop (listed): `top_k`,
 * `thinking`, `cache_control` (Gemini caches implicitly), server tools (a 400).
 */
import { anthropicToOpenAIRequest } from '../request-to-openai.js';
import { openAIToAnthropicResponse } from '../response.js';
import { OpenAIToAnthropicStream } from '../stream-to-anthropic.js';
import type { ToolNameMap } from '../tool-names.js';
import type { AnthMessage } from '../types.js';
import type { Json } from '../util.js';
import { type GeminiRequestTranslation, openAIToGeminiRequest } from './request.js';
import { geminiToOpenAIResponse } from './response.js';
import { GeminiToOpenAIStream } from './stream.js';

export interface AnthropicToGeminiTranslation extends GeminiRequestTranslation {
  /** Tool names sent under a stand-in (sent -> original), for the response translators. */
  toolNames?: ToolNameMap;
}

export function anthropicToGeminiRequest(body: Json, opts: { model: string }): AnthropicToGeminiTranslation {
  const oai = anthropicToOpenAIRequest(body, { model: opts.model, maxTokensField: 'max_tokens' });
  const g = openAIToGeminiRequest(oai.body as unknown as Json, opts);
  return { ...g, dropped: [...oai.dropped, ...g.dropped.filter((d) => !oai.dropped.includes(d))], ...(oai.toolNames ? { toolNames: oai.toolNames } : {}) };
}

export function geminiToAnthropicResponse(body: unknown, opts: { model: string; toolNames?: ToolNameMap }): AnthMessage {
  const oai = geminiToOpenAIResponse(body, { model: opts.model });
  return openAIToAnthropicResponse(oai, { model: opts.model, ...(opts.toolNames ? { toolNames: opts.toolNames } : {}) });
}

/** A Gemini SSE stream -> an Anthropic Messages stream (through the OpenAI chunk form). */
export class GeminiToAnthropicStream {
  private readonly toOpenAI: GeminiToOpenAIStream;
  private readonly toAnthropic: OpenAIToAnthropicStream;

  constructor(opts: { model: string; toolNames?: ToolNameMap }) {
    this.toOpenAI = new GeminiToOpenAIStream({ model: opts.model, includeUsage: true });
    this.toAnthropic = new OpenAIToAnthropicStream({ model: opts.model, ...(opts.toolNames ? { toolNames: opts.toolNames } : {}) });
  }

  push(chunk: Buffer | string): string {
    const mid = this.toOpenAI.push(chunk);
    return mid ? this.toAnthropic.push(mid) : '';
  }

  end(): string {
    const mid = this.toOpenAI.end();
    return (mid ? this.toAnthropic.push(mid) : '') + this.toAnthropic.end();
  }
}
