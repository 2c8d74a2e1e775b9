/**
 * Gemini `generateContent` response -> OpenAI chat completion. Text parts are joined (thought
 * summaries, `thought: true`, are not answer text and are left out); `functionCall` parts
 * become `tool_calls` (the call's own id when Gemini gave one, else a new `call_` id;
 * arguments as JSON text); the finish reason and usage (cached and thought tokens included)
 * are mapped by `usage.ts`. A prompt Gemini blocked answers with no content and
 * `finish_reason: content_filter`.
 */
import type { OaiToolCall } from '../types.js';
import { type Json, TranslationError, asArr, asStr, isObj, makeId } from '../util.js';
import { type OaiUsageWithReasoning, geminiFinishToOpenAI, geminiUsageToOpenAI } from './usage.js';

export interface FromGeminiOptions {
  /** The model shown to the client; default: the response's `modelVersion`. */
  model?: string;
  /** Seconds since the epoch for `created`; default: now. */
  created?: number;
}

export interface GeminiChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: {
    index: number;
    message: { role: 'assistant'; content: string | null; refusal: null; tool_calls?: OaiToolCall[] };
    finish_reason: ReturnType<typeof geminiFinishToOpenAI>;
    logprobs: null;
  }[];
  usage: OaiUsageWithReasoning;
}

/**
 * Gemini's thought signature of a function call travels inside the call's id (OpenAI and
 * Anthropic clients send ids back unchanged), base64url-encoded after `__ts_`, so the request
 * translator can return it with the call: Gemini 3 models refuse replayed calls without it.
 */
const SIG = '__ts_';

export function withSignature(id: string, signature: string | undefined): string {
  return signature ? `${id}${SIG}${Buffer.from(signature, 'base64').toString('base64url')}` : id;
}

/** The signature an id carries, if any. */
export function signatureOf(id: string): string | undefined {
  const i = id.indexOf(SIG);
  if (i < 0) return undefined;
  const sig = Buffer.from(id.slice(i + SIG.length), 'base64url').toString('base64');
  return sig || undefined;
}

/** The text and tool calls of one candidate's parts. */
export function candidateParts(parts: unknown): { text: string; calls: OaiToolCall[] } {
  let text = '';
  const calls: OaiToolCall[] = [];
  for (const p of asArr(parts)) {
    if (!isObj(p)) continue;
    if (typeof p.text === 'string' && p.thought !== true) text += p.text;
    const fc = isObj(p.functionCall) ? p.functionCall : null;
    if (fc) {
      const id = withSignature(asStr(fc.id) ?? makeId('call_'), asStr(p.thoughtSignature));
      calls.push({ id, type: 'function', function: { name: asStr(fc.name) ?? '', arguments: JSON.stringify(isObj(fc.args) ? fc.args : {}) } });
    }
  }
  return { text, calls };
}

export function geminiToOpenAIResponse(body: unknown, opts: FromGeminiOptions = {}): GeminiChatCompletion {
  if (!isObj(body)) throw new TranslationError('the upstream answered with something that is not a Gemini response');
  const candidates = asArr(body.candidates).filter(isObj) as Json[];
  const blocked = isObj(body.promptFeedback) ? asStr(body.promptFeedback.blockReason) : undefined;
  const choices: GeminiChatCompletion['choices'] = candidates.map((c, i) => {
    const { text, calls } = candidateParts(isObj(c.content) ? c.content.parts : undefined);
    const message: GeminiChatCompletion['choices'][number]['message'] = { role: 'assistant', content: text || (calls.length ? null : ''), refusal: null };
    if (calls.length) message.tool_calls = calls;
    return { index: typeof c.index === 'number' ? c.index : i, message, finish_reason: geminiFinishToOpenAI(c.finishReason, calls.length > 0), logprobs: null };
  });
  if (choices.length === 0) {
    if (!blocked) throw new TranslationError('the upstream Gemini response has no candidates');
    choices.push({ index: 0, message: { role: 'assistant', content: null, refusal: null }, finish_reason: 'content_filter', logprobs: null });
  }
  return {
    id: asStr(body.responseId) ?? makeId('chatcmpl-'),
    object: 'chat.completion',
    created: opts.created ?? Math.floor(Date.now() / 1000),
    model: opts.model ?? asStr(body.modelVersion) ?? 'gemini',
    choices,
    usage: geminiUsageToOpenAI(body.usageMetadata),
  };
}
