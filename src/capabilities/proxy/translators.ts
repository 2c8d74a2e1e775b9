/**
 * The translators the `translation` link can use, by (client format, target format): each one
 * turns the client's request into the target's, and gives the response side of that one call
 * (a JSON answer, an event stream, an error body) back in the client's format. A translator
 * for another pair (a Gemini format, say) is one more entry in `TRANSLATORS`.
 *
 * Formats: `anthropic` (Messages), `openai` (Chat Completions), `gemini` (generateContent,
 * a target only: the model is in its path, so each translated request gives its own `path`).
 * A client of the OpenAI Responses API speaks `openai-responses`, which has no translator yet.
 */
import {
  AnthropicToOpenAIStream,
  OpenAIToAnthropicStream,
  anthropicToOpenAIRequest,
  anthropicToOpenAIResponse,
  openAIToAnthropicRequest,
  openAIToAnthropicResponse,
  streamErrorFrame,
  translateError,
  type ApiFormat,
  type ErrorReply,
} from '../../translate/index.js';
import { GEMINI_TRANSLATORS, GeminiToOpenAIStream, type FormatTranslator } from '../../translate/gemini/index.js';
import type { ApiKind } from '../../core/outcome.js';
import { anthropicMessageStream, chatCompletionStream } from './stream-from-json.js';

type Json = Record<string, unknown>;

/** The format a client speaks on a route, or null for routes that are never translated. */
export function clientFormatOf(api: ApiKind): string | null {
  if (api === 'messages' || api === 'count_tokens') return 'anthropic';
  if (api === 'chat') return 'openai';
  if (api === 'responses') return 'openai-responses';
  return null;
}

/** A translated event stream: upstream bytes in, client bytes out. */
export interface StreamTranslation {
  push(chunk: Buffer): string;
  end(): string;
  /**
   * Usage the upstream reported, as a client-format response body the route's adapter reads
   * (`factsFromJson`), for a client stream that does not carry it (an OpenAI client that did
   * not ask for `stream_options.include_usage`); null when the upstream gave none.
   */
  usageBody(): Json | null;
}

/** The response side of one translated call. */
export interface ResponseTranslation {
  /** A 2xx JSON answer of the target -> the client's (throws on a body that is no answer). */
  json(body: unknown): Json;
  /** A client-format answer (from `json`) as the client's event stream: the upstream answered a stream request with JSON. */
  jsonAsStream(answer: Json): string;
  stream(): StreamTranslation;
  /** An upstream error body -> the client's shape, status kept. */
  error(status: number, body: Buffer): ErrorReply;
  /** A mid-stream error event in the client's stream format. */
  streamError(message: string, status: number): string;
}

export interface TranslatedRequest {
  body: Json;
  /** Request fields with no counterpart (names only). */
  dropped: string[];
  /** The endpoint for this request when it is not the translator's fixed `path` (Gemini: the model is in it). */
  path?: string;
  response: ResponseTranslation;
}

export interface Translator {
  readonly from: ApiFormat;
  readonly to: ApiFormat | 'gemini';
  /** The target's endpoint below its base URL (the base of an OpenAI-format provider ends in `/v1`). */
  readonly path: string;
  /** Translates a client body for `model`; `shownModel` is the model the client sees in answers. Throws TranslationError on bad input. */
  request(body: Json, model: string, shownModel: string): TranslatedRequest;
}

const anthropicToOpenAI: Translator = {
  from: 'anthropic',
  to: 'openai',
  path: '/chat/completions',
  request(body, model, shownModel) {
    const t = anthropicToOpenAIRequest(body, { model });
    const toolNames = t.toolNames;
    return {
      body: t.body as unknown as Json,
      dropped: t.dropped,
      response: {
        json: (b) => openAIToAnthropicResponse(b, { model: shownModel, toolNames }) as unknown as Json,
        jsonAsStream: (m) => anthropicMessageStream(m),
        stream() {
          const s = new OpenAIToAnthropicStream({ model: shownModel, toolNames });
          return { push: (c) => s.push(c), end: () => s.end(), usageBody: () => null };
        },
        error: (status, b) => translateError(status, b, 'anthropic'),
        streamError: (message, status) => streamErrorFrame('anthropic', message, status),
      },
    };
  },
};

const openAIToAnthropic: Translator = {
  from: 'openai',
  to: 'anthropic',
  path: '/v1/messages',
  request(body, model, shownModel) {
    const t = openAIToAnthropicRequest(body, { model });
    const opts = body.stream_options;
    const includeUsage = opts !== null && typeof opts === 'object' && (opts as Json).include_usage === true;
    return {
      body: t.body as unknown as Json,
      dropped: t.dropped,
      response: {
        json: (b) => anthropicToOpenAIResponse(b, { model: shownModel }) as unknown as Json,
        jsonAsStream: (c) => chatCompletionStream(c, includeUsage),
        stream() {
          const s = new AnthropicToOpenAIStream({ model: shownModel, includeUsage });
          return {
            push: (c) => s.push(c),
            end: () => s.end(),
            usageBody: () => {
              const usage = s.facts().usage;
              return usage ? { object: 'chat.completion', choices: [], usage } : null;
            },
          };
        },
        error: (status, b) => translateError(status, b, 'openai'),
        streamError: (message, status) => streamErrorFrame('openai', message, status),
      },
    };
  },
};

const includeUsageOf = (body: Json): boolean => {
  const opts = body.stream_options;
  return opts !== null && typeof opts === 'object' && (opts as Json).include_usage === true;
};

/** A client format -> Gemini, from the Gemini translators library. */
function toGemini(from: ApiFormat, g: FormatTranslator): Translator {
  return {
    from,
    to: 'gemini',
    path: '/v1beta/models',
    request(body, model, shownModel) {
      const t = g.request(body, { model });
      const toolNames = t.toolNames;
      const includeUsage = from === 'openai' && includeUsageOf(body);
      const names = toolNames ? { toolNames } : {};
      return {
        body: t.body,
        dropped: t.dropped,
        path: t.path,
        response: {
          json: (b) => g.response(b, { model: shownModel, ...names }),
          jsonAsStream: (m) => (from === 'anthropic' ? anthropicMessageStream(m) : chatCompletionStream(m, includeUsage)),
          stream() {
            if (from === 'anthropic') {
              const s = g.stream({ model: shownModel, ...names });
              return { push: (c) => s.push(c), end: () => s.end(), usageBody: () => null };
            }
            // usage is always read from upstream: the client sees it only when it asked for it
            const s = new GeminiToOpenAIStream({ model: shownModel, includeUsage });
            return {
              push: (c) => s.push(c),
              end: () => s.end(),
              usageBody: () => {
                const usage = s.facts().usage;
                return usage ? { object: 'chat.completion', choices: [], usage } : null;
              },
            };
          },
          error: (status, b) => g.error(status, b),
          streamError: (message, status) => g.streamError(message, status),
        },
      };
    },
  };
}

const geminiTranslators: Translator[] = (['anthropic', 'openai'] as const).flatMap((from) => {
  const g = GEMINI_TRANSLATORS.get(`${from}->gemini`);
  return g ? [toGemini(from, g)] : [];
});

/** `<client format>><target format>` -> its translator. */
export const TRANSLATORS: ReadonlyMap<string, Translator> = new Map([
  [`${anthropicToOpenAI.from}>${anthropicToOpenAI.to}`, anthropicToOpenAI],
  [`${openAIToAnthropic.from}>${openAIToAnthropic.to}`, openAIToAnthropic],
  ...geminiTranslators.map((t): [string, Translator] => [`${t.from}>${t.to}`, t]),
]);

export const translatorFor = (client: string, target: string): Translator | undefined => TRANSLATORS.get(`${client}>${target}`);
