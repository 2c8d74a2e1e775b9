/**
 * Non-streaming responses, both ways: an OpenAI chat completion -> an Anthropic message, and
 * an Anthropic message -> an OpenAI chat completion. `model` is what the client is shown
 * (normally the model it asked for); ids are kept.
 */
import type { AnthAssistantBlock, AnthMessage, OaiCompletion, OaiToolCall } from './types.js';
import { anthropicUsageToOpenAI, finishToStopReason, openAIUsageToAnthropic, stopReasonToFinish } from './usage.js';
import { type ToolNameMap, restoreName } from './tool-names.js';
import { type Json, TranslationError, asArr, asStr, isObj, makeId, parseArguments } from './util.js';

export interface ResponseOptions {
  /** The model shown to the client; default: the upstream's. */
  model?: string;
  /** Seconds since the epoch for OpenAI's `created`; default: now. */
  created?: number;
  /** Tool names the request translation changed (sent -> original), restored in the answer. */
  toolNames?: ToolNameMap;
}

export function openAIToAnthropicResponse(body: unknown, opts: ResponseOptions = {}): AnthMessage {
  if (!isObj(body)) throw new TranslationError('the upstream answered with something that is not a chat completion');
  const choice = asArr(body.choices)[0];
  if (!isObj(choice)) throw new TranslationError('the upstream chat completion has no choices');
  const msg = isObj(choice.message) ? choice.message : {};
  const content: AnthAssistantBlock[] = [];
  const text = asStr(msg.content);
  if (text) content.push({ type: 'text', text });
  const refusal = asStr(msg.refusal);
  if (refusal) content.push({ type: 'text', text: refusal });
  for (const c of asArr(msg.tool_calls)) {
    if (!isObj(c) || !isObj(c.function)) continue;
    const name = restoreName(opts.toolNames, asStr(c.function.name) ?? '');
    content.push({ type: 'tool_use', id: asStr(c.id) ?? makeId('toolu_'), name, input: parseArguments(asStr(c.function.arguments) ?? '') });
  }
  const hasTools = content.some((b) => b.type === 'tool_use');
  let stop = finishToStopReason(choice.finish_reason);
  if (refusal && !text && !hasTools) stop = 'refusal';
  return {
    id: asStr(body.id) ?? makeId('msg_'),
    type: 'message',
    role: 'assistant',
    model: opts.model ?? asStr(body.model) ?? '',
    content,
    stop_reason: stop,
    stop_sequence: null,
    usage: openAIUsageToAnthropic(body.usage),
  };
}

export function anthropicToOpenAIResponse(body: unknown, opts: ResponseOptions = {}): OaiCompletion {
  if (!isObj(body) || body.type !== 'message') throw new TranslationError('the upstream answered with something that is not a message');
  const texts: string[] = [];
  const calls: OaiToolCall[] = [];
  for (const b of asArr(body.content)) {
    if (!isObj(b)) continue;
    if (b.type === 'text' && typeof b.text === 'string') texts.push(b.text);
    else if (b.type === 'tool_use') {
      calls.push({ id: asStr(b.id) ?? makeId('call_'), type: 'function', function: { name: asStr(b.name) ?? '', arguments: JSON.stringify((b as Json).input ?? {}) } });
    }
  }
  const message: OaiCompletion['choices'][number]['message'] = { role: 'assistant', content: texts.length ? texts.join('') : null, refusal: null };
  if (calls.length) message.tool_calls = calls;
  if (body.stop_reason === 'refusal' && message.content !== null) {
    message.refusal = message.content;
  }
  return {
    id: asStr(body.id) ?? makeId('chatcmpl-'),
    object: 'chat.completion',
    created: opts.created ?? Math.floor(Date.now() / 1000),
    model: opts.model ?? asStr(body.model) ?? '',
    choices: [{ index: 0, message, finish_reason: stopReasonToFinish(body.stop_reason), logprobs: null }],
    usage: anthropicUsageToOpenAI(body.usage),
  };
}
