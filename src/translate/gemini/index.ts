/**
 * Translation to and from the Gemini API (`generateContent`): OpenAI Chat Completions clients
 * and Anthropic Messages clients (composed through the OpenAI form) reaching a Gemini
 * provider. A library: pure functions and small state machines, no I/O.
 *
 * `GEMINI_TRANSLATORS` is keyed by `<client format>-><target format>`, so a translation link
 * picks one by the pair it needs:
 *
 * ```ts
 * const t = GEMINI_TRANSLATORS.get(`${clientFormat}->${target.format}`); // 'openai->gemini' | 'anthropic->gemini'
 * const req = t.request(json, { model: target.model });    // body, path (+ `?alt=sse` for streams), dropped
 * // send req.body to target.baseUrl + req.path; then, for the client:
 * t.response(upstreamJson, { model: requested, toolNames: req.toolNames })   // non-streaming 2xx
 * const s = t.stream({ model: requested, includeUsage, toolNames: req.toolNames }); s.push(bytes) ... s.end()
 * t.error(status, upstreamBody)                               // non-2xx, in the client's shape
 * t.streamError(message)                                      // a failure mid-stream
 * ```
 */
import { streamErrorFrame } from '../errors.js';
import type { ErrorReply } from '../errors.js';
import type { ToolNameMap } from '../tool-names.js';
import type { ApiFormat } from '../types.js';
import type { Json } from '../util.js';
import { GeminiToAnthropicStream, anthropicToGeminiRequest, geminiToAnthropicResponse } from './anthropic.js';
import { geminiErrorToClient } from './errors.js';
import { openAIToGeminiRequest } from './request.js';
import { geminiToOpenAIResponse } from './response.js';
import { GeminiToOpenAIStream } from './stream.js';

export { anthropicToGeminiRequest, geminiToAnthropicResponse, GeminiToAnthropicStream, type AnthropicToGeminiTranslation } from './anthropic.js';
export { geminiErrorToClient, parseGeminiError } from './errors.js';
export { type GeminiRequestTranslation, type ToGeminiOptions, openAIToGeminiRequest } from './request.js';
export { type FromGeminiOptions, type GeminiChatCompletion, geminiToOpenAIResponse } from './response.js';
export { type GeminiStreamFacts, type GeminiStreamOptions, GeminiToOpenAIStream } from './stream.js';
export { geminiFinishToOpenAI, geminiUsageToOpenAI } from './usage.js';
export type * from './types.js';

export interface TranslatedRequest {
  body: Json;
  /** Path and query below the target's base URL. */
  path: string;
  stream: boolean;
  /** Client fields with no counterpart (names only). */
  dropped: string[];
  toolNames?: ToolNameMap;
}

export interface StreamTranslator {
  push(chunk: Buffer | string): string;
  end(): string;
}

/** One (client format, target format) pair. */
export interface FormatTranslator {
  readonly client: ApiFormat;
  readonly target: 'gemini';
  request(body: Json, opts: { model: string }): TranslatedRequest;
  response(body: unknown, opts: { model: string; toolNames?: ToolNameMap }): Json;
  stream(opts: { model: string; includeUsage?: boolean; toolNames?: ToolNameMap }): StreamTranslator;
  error(status: number, body: string | Buffer): ErrorReply;
  streamError(message: string, status?: number): string;
}

const openaiToGemini: FormatTranslator = {
  client: 'openai',
  target: 'gemini',
  request: (body, opts) => {
    const r = openAIToGeminiRequest(body, opts);
    return { body: r.body as unknown as Json, path: r.path, stream: r.stream, dropped: r.dropped };
  },
  response: (body, opts) => geminiToOpenAIResponse(body, { model: opts.model }) as unknown as Json,
  stream: (opts) => new GeminiToOpenAIStream({ model: opts.model, ...(opts.includeUsage ? { includeUsage: true } : {}) }),
  error: (status, body) => geminiErrorToClient(status, body, 'openai'),
  streamError: (message, status) => streamErrorFrame('openai', message, status),
};

const anthropicToGemini: FormatTranslator = {
  client: 'anthropic',
  target: 'gemini',
  request: (body, opts) => {
    const r = anthropicToGeminiRequest(body, opts);
    return { body: r.body as unknown as Json, path: r.path, stream: r.stream, dropped: r.dropped, ...(r.toolNames ? { toolNames: r.toolNames } : {}) };
  },
  response: (body, opts) => geminiToAnthropicResponse(body, opts) as unknown as Json,
  stream: (opts) => new GeminiToAnthropicStream({ model: opts.model, ...(opts.toolNames ? { toolNames: opts.toolNames } : {}) }),
  error: (status, body) => geminiErrorToClient(status, body, 'anthropic'),
  streamError: (message, status) => streamErrorFrame('anthropic', message, status),
};

/** The Gemini translators by `<client>-><target>`. */
export const GEMINI_TRANSLATORS: ReadonlyMap<string, FormatTranslator> = new Map([
  ['openai->gemini', openaiToGemini],
  ['anthropic->gemini', anthropicToGemini],
]);
