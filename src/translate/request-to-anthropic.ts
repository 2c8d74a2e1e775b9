/**
 * OpenAI Chat Completions request -> Anthropic Messages request.
 *
 * - Every `system`/`developer` message's text goes, in order, into `system` (joined with a
 *   blank line; Anthropic has one system prompt, so mid-conversation ones are hoisted).
 * - User content: text parts kept, `image_url` -> an image block (a `data:` URL -> base64, any
 *   other URL -> a url source), a PDF `file` part -> a document.
 * - Assistant: its text and its `tool_calls` (ids kept, arguments parsed; text that is not a
 *   JSON object kept under `raw_arguments`) -> text and `tool_use` blocks, both kept.
 * - `role:"tool"` -> a `tool_result` in the next user turn; consecutive tool messages and the
 *   user text after them share one user turn (Anthropic wants every result of a turn together).
 *   A `[tool error] ` prefix becomes `is_error: true`.
 * - `max_completion_tokens` or `max_tokens` -> `max_tokens` unchanged (Anthropic requires one:
 *   `defaultMaxTokens` when the client gave none).
 * - `stop` -> `stop_sequences`; `temperature` kept, `top_p` too unless `temperature` is given
 *   (current Claude models refuse both together); `user` -> `metadata.user_id`;
 *   `tool_choice`: auto, none, required -> any, a function -> tool; `parallel_tool_calls:false`
 *   -> `disable_parallel_tool_use`.
 * - `n` > 1 and JSON response formats have no counterpart: a 400. Dropped and listed:
 *   `frequency_penalty`, `presence_penalty`, `logit_bias`, `logprobs`, `seed`, `reasoning_effort`,
 *   `stream_options` (used by the stream translator), `store`, `service_tier`...
 */
import type { AnthImageMediaType, AnthMessageParam, AnthRequest, AnthTextBlock, AnthTool, AnthToolChoice, AnthUserBlock, AnthAssistantBlock, Translated } from './types.js';
import { type Json, TOOL_ERROR_PREFIX, TranslationError, asArr, asNum, asStr, isObj, parseArguments } from './util.js';

export interface ToAnthropicOptions {
  model: string;
  /** `max_tokens` when the client sent neither `max_tokens` nor `max_completion_tokens`. */
  defaultMaxTokens?: number;
}

export const DEFAULT_MAX_TOKENS = 4096;

const HANDLED = new Set(['model', 'messages', 'max_tokens', 'max_completion_tokens', 'stop', 'temperature', 'top_p', 'stream', 'stream_options', 'tools', 'tool_choice', 'parallel_tool_calls', 'user', 'n', 'response_format']);

const MEDIA: readonly string[] = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'];

function imageBlock(url: string, where: string): AnthUserBlock {
  const m = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (m) {
    const media = (m[1] ?? '').toLowerCase();
    if (!MEDIA.includes(media)) throw new TranslationError(`${where}: image type ${media} is not one of ${MEDIA.join(', ')}`);
    return { type: 'image', source: { type: 'base64', media_type: media as AnthImageMediaType, data: m[2] ?? '' } };
  }
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  throw new TranslationError(`${where}: image_url must be a data: URL or an http(s) URL`);
}

function textOf(content: unknown, where: string): string {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  return asArr(content)
    .map((p, j) => {
      if (isObj(p) && (p.type === 'text' || p.type === 'input_text') && typeof p.text === 'string') return p.text;
      if (isObj(p) && p.type === 'refusal' && typeof p.refusal === 'string') return p.refusal;
      throw new TranslationError(`${where}.content[${j}]: only text parts are accepted here`);
    })
    .join('\n\n');
}

function userBlocks(content: unknown, where: string): AnthUserBlock[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) throw new TranslationError(`${where}.content must be a string or an array of parts`);
  return content.map((p, j): AnthUserBlock => {
    const w = `${where}.content[${j}]`;
    if (!isObj(p)) throw new TranslationError(`${w} must be an object`);
    if (p.type === 'text' && typeof p.text === 'string') return { type: 'text', text: p.text };
    if (p.type === 'image_url') {
      const iu = p.image_url;
      const url = typeof iu === 'string' ? iu : isObj(iu) ? asStr(iu.url) : undefined;
      if (!url) throw new TranslationError(`${w}: image_url needs a url`);
      return imageBlock(url, w);
    }
    if (p.type === 'file' && isObj(p.file)) {
      const m = /^data:application\/pdf;base64,(.*)$/s.exec(asStr(p.file.file_data) ?? '');
      if (m) return { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: m[1] ?? '' } };
      throw new TranslationError(`${w}: only inline PDF files (file_data) can be sent to an Anthropic-format provider`);
    }
    throw new TranslationError(`${w}: parts of type ${JSON.stringify(p.type)} have no Anthropic counterpart`);
  });
}

function assistantBlocks(m: Json, where: string): AnthAssistantBlock[] {
  const blocks: AnthAssistantBlock[] = [];
  const text = textOf(m.content, where);
  if (text.length) blocks.push({ type: 'text', text });
  const calls = asArr(m.tool_calls);
  if (isObj(m.function_call)) calls.push({ id: undefined, type: 'function', function: m.function_call });
  calls.forEach((c, j) => {
    if (!isObj(c) || !isObj(c.function)) throw new TranslationError(`${where}.tool_calls[${j}] must be a function call`);
    const name = asStr(c.function.name);
    if (!name) throw new TranslationError(`${where}.tool_calls[${j}] needs a function name`);
    const id = asStr(c.id) ?? `call_${name}_${j}`;
    blocks.push({ type: 'tool_use', id, name, input: parseArguments(asStr(c.function.arguments) ?? '') });
  });
  return blocks;
}

function toolResultBlock(m: Json, where: string): AnthUserBlock {
  const id = asStr(m.tool_call_id);
  if (!id) throw new TranslationError(`${where}: a tool message needs tool_call_id`);
  let text = textOf(m.content, where);
  let isError = false;
  if (text.startsWith(TOOL_ERROR_PREFIX)) {
    isError = true;
    text = text.slice(TOOL_ERROR_PREFIX.length);
  }
  const block: AnthUserBlock = { type: 'tool_result', tool_use_id: id, content: text };
  if (isError) block.is_error = true;
  return block;
}

function tools(list: unknown): AnthTool[] {
  return asArr(list).map((t, i) => {
    if (!isObj(t) || t.type !== 'function' || !isObj(t.function)) throw new TranslationError(`tools[${i}] must be a function tool`);
    const name = asStr(t.function.name);
    if (!name) throw new TranslationError(`tools[${i}].function needs a name`);
    const params = isObj(t.function.parameters) ? t.function.parameters : { type: 'object', properties: {} };
    const tool: AnthTool = { name, input_schema: { ...params, type: 'object' } };
    if (typeof t.function.description === 'string') tool.description = t.function.description;
    return tool;
  });
}

function toolChoice(tc: unknown, parallel: unknown): AnthToolChoice | undefined {
  const noParallel = parallel === false;
  let out: Exclude<AnthToolChoice, { type: 'none' }> | undefined;
  if (tc === 'auto') out = { type: 'auto' };
  else if (tc === 'none') return { type: 'none' };
  else if (tc === 'required') out = { type: 'any' };
  else if (isObj(tc) && tc.type === 'function' && isObj(tc.function) && typeof tc.function.name === 'string') out = { type: 'tool', name: tc.function.name };
  else if (tc !== undefined && tc !== null) throw new TranslationError('tool_choice must be auto, none, required or a function');
  if (noParallel) out = { ...(out ?? { type: 'auto' }), disable_parallel_tool_use: true };
  return out;
}

export function openAIToAnthropicRequest(body: Json, opts: ToAnthropicOptions): Translated<AnthRequest> {
  const dropped = new Set<string>();
  for (const k of Object.keys(body)) if (!HANDLED.has(k)) dropped.add(k);
  if (asNum(body.n) !== undefined && (body.n as number) > 1) throw new TranslationError('n > 1 is not supported by Anthropic-format providers');
  if (isObj(body.response_format) && body.response_format.type !== 'text') {
    throw new TranslationError(`response_format ${JSON.stringify(body.response_format.type)} is not supported by Anthropic-format providers`);
  }
  if (!Array.isArray(body.messages)) throw new TranslationError('messages must be an array');

  const system: string[] = [];
  const messages: AnthMessageParam[] = [];
  const push = (role: 'user' | 'assistant', blocks: (AnthUserBlock | AnthAssistantBlock)[]) => {
    const last = messages[messages.length - 1];
    if (last && last.role === role && Array.isArray(last.content)) (last.content as (AnthUserBlock | AnthAssistantBlock)[]).push(...blocks);
    else messages.push({ role, content: blocks } as AnthMessageParam);
  };
  body.messages.forEach((m, i) => {
    const where = `messages[${i}]`;
    if (!isObj(m)) throw new TranslationError(`${where} must be an object`);
    switch (m.role) {
      case 'system':
      case 'developer':
        system.push(textOf(m.content, where));
        break;
      case 'user':
        push('user', userBlocks(m.content, where));
        break;
      case 'assistant': {
        // Anthropic refuses empty turns; an assistant message with no text and no calls says nothing
        const blocks = assistantBlocks(m, where);
        if (blocks.length) push('assistant', blocks);
        else dropped.add('empty assistant message');
        break;
      }
      case 'tool':
        push('user', [toolResultBlock(m, where)]);
        break;
      case 'function':
        throw new TranslationError(`${where}: role "function" (deprecated) is not supported; use tool messages`);
      default:
        throw new TranslationError(`${where}.role ${JSON.stringify(m.role)} is not one of system, developer, user, assistant, tool`);
    }
  });
  // a single text block reads better (and caches the same) as a string
  for (const m of messages) {
    if (Array.isArray(m.content) && m.content.length === 1 && m.content[0]?.type === 'text') m.content = (m.content[0] as AnthTextBlock).text;
  }

  const max = asNum(body.max_completion_tokens) ?? asNum(body.max_tokens) ?? opts.defaultMaxTokens ?? DEFAULT_MAX_TOKENS;
  const out: AnthRequest = { model: opts.model, max_tokens: max, messages };
  const sys = system.filter((s) => s.length);
  if (sys.length) out.system = sys.join('\n\n');
  const stop = typeof body.stop === 'string' ? [body.stop] : asArr(body.stop).filter((s): s is string => typeof s === 'string');
  if (stop.length) out.stop_sequences = stop;
  const temperature = asNum(body.temperature);
  if (temperature !== undefined) out.temperature = temperature;
  // current Claude models refuse temperature and top_p together: temperature wins
  const topP = asNum(body.top_p);
  if (topP !== undefined && temperature === undefined) out.top_p = topP;
  else if (topP !== undefined) dropped.add('top_p');
  if (body.stream === true) out.stream = true;
  if (Array.isArray(body.tools) && body.tools.length) out.tools = tools(body.tools);
  const tc = toolChoice(body.tool_choice, body.parallel_tool_calls);
  if (tc) out.tool_choice = tc;
  if (typeof body.user === 'string') out.metadata = { user_id: body.user };
  return { body: out, dropped: [...dropped].sort() };
}
