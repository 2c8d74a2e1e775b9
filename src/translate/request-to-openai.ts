/**
 * Anthropic Messages request -> OpenAI Chat Completions request.
 *
 * - `system` (a string or text blocks) becomes the first `system` message; blocks are joined
 *   with a blank line.
 * - A user turn's `tool_result` blocks become `role:"tool"` messages (in order, right after the
 *   assistant turn that called them, as OpenAI requires); the text, images and documents of the
 *   same turn follow as one user message, so nothing beside a tool result is lost. `is_error`
 *   is kept as a `[tool error] ` prefix (restored by the reverse translation); images inside a
 *   tool result go to that following user message (OpenAI tool messages carry text only).
 * - Assistant text blocks are concatenated; `tool_use` blocks become `tool_calls` with their ids.
 * - Tool names OpenAI refuses (over 64 characters, other than `[a-zA-Z0-9_-]`) are sent under a
 *   stand-in; `toolNames` maps them back for the response translators.
 * - Images: base64 -> a `data:` URL, URL sources kept; PDF documents -> a `file` part.
 * - `tool_choice`: auto -> "auto", any -> "required", tool -> the function, none -> "none";
 *   `disable_parallel_tool_use` -> `parallel_tool_calls: false`.
 * - `max_tokens` is sent unchanged (never clamped) as `max_tokens`, or `max_completion_tokens`
 *   for models that accept only that (o-series, gpt-5) or when asked.
 * - `stop_sequences` -> `stop`; `temperature`, `top_p` kept; `metadata.user_id` -> `user`;
 *   streams ask for `stream_options.include_usage` so usage arrives at the end.
 * - No counterpart, dropped and listed in `dropped`: `top_k`, `thinking` (and thinking blocks in
 *   history), `cache_control`, `service_tier`, `container`, `mcp_servers`, citations settings.
 *   Server tools (web search, code execution...) have none either: a 400.
 */
import type { AnthImageBlock, OaiMessage, OaiRequest, OaiTool, OaiToolCall, OaiToolChoice, OaiUserPart, Translated } from './types.js';
import { type ToolNameMap, ToolNames } from './tool-names.js';
import { type Json, TOOL_ERROR_PREFIX, TranslationError, asArr, asNum, asStr, isObj } from './util.js';

export interface ToOpenAIOptions {
  /** The model name to send (the resolved one). */
  model: string;
  /** Which field carries the output limit; default: by model name. */
  maxTokensField?: 'max_tokens' | 'max_completion_tokens';
}

const HANDLED = new Set(['model', 'messages', 'system', 'max_tokens', 'stop_sequences', 'temperature', 'top_p', 'stream', 'tools', 'tool_choice', 'metadata']);

/** Models that reject `max_tokens` and want `max_completion_tokens`. */
export const wantsMaxCompletionTokens = (model: string): boolean => /^(o\d|gpt-5)/i.test(model.replace(/^.*\//, ''));

function systemText(system: unknown): string | null {
  if (typeof system === 'string') return system.length ? system : null;
  if (!Array.isArray(system)) return null;
  const texts = system.map((b, i) => {
    if (!isObj(b) || b.type !== 'text' || typeof b.text !== 'string') throw new TranslationError(`system[${i}] must be a text block`);
    return b.text;
  });
  return texts.length ? texts.join('\n\n') : null;
}

function imageUrl(block: Json, where: string): string {
  const src = isObj(block.source) ? block.source : null;
  if (src?.type === 'base64' && typeof src.data === 'string' && typeof src.media_type === 'string') return `data:${src.media_type};base64,${src.data}`;
  if (src?.type === 'url' && typeof src.url === 'string') return src.url;
  throw new TranslationError(`${where}: an image needs a base64 or url source`);
}

function userPart(block: Json, where: string, dropped: Set<string>): OaiUserPart | null {
  if ('cache_control' in block) dropped.add('cache_control');
  switch (block.type) {
    case 'text':
      if (typeof block.text !== 'string') throw new TranslationError(`${where}: a text block needs text`);
      return { type: 'text', text: block.text };
    case 'image':
      return { type: 'image_url', image_url: { url: imageUrl(block, where) } };
    case 'document': {
      const src = isObj(block.source) ? block.source : {};
      if (src.type === 'base64' && src.media_type === 'application/pdf' && typeof src.data === 'string') {
        return { type: 'file', file: { file_data: `data:application/pdf;base64,${src.data}`, filename: asStr(block.title) ?? 'document.pdf' } };
      }
      if (src.type === 'text' && typeof src.data === 'string') return { type: 'text', text: src.data };
      throw new TranslationError(`${where}: only base64 PDF and plain-text documents can be sent to an OpenAI-format provider`);
    }
    case 'thinking':
    case 'redacted_thinking':
      dropped.add('thinking');
      return null;
    default:
      throw new TranslationError(`${where}: content blocks of type ${JSON.stringify(block.type)} have no OpenAI Chat Completions counterpart`);
  }
}

function toolResult(block: Json, where: string, images: OaiUserPart[]): OaiMessage {
  const id = asStr(block.tool_use_id);
  if (!id) throw new TranslationError(`${where}: a tool_result needs tool_use_id`);
  let text = '';
  if (typeof block.content === 'string') text = block.content;
  else {
    const texts: string[] = [];
    asArr(block.content).forEach((c, j) => {
      if (!isObj(c)) return;
      if (c.type === 'text' && typeof c.text === 'string') texts.push(c.text);
      else if (c.type === 'image') images.push({ type: 'image_url', image_url: { url: imageUrl(c as Json, `${where}.content[${j}]`) } });
      else throw new TranslationError(`${where}.content[${j}]: tool results may hold text and images`);
    });
    text = texts.join('\n');
  }
  return { role: 'tool', tool_call_id: id, content: block.is_error === true ? `${TOOL_ERROR_PREFIX}${text}` : text };
}

function userMessages(content: unknown, where: string, dropped: Set<string>): OaiMessage[] {
  if (typeof content === 'string') return [{ role: 'user', content }];
  if (!Array.isArray(content)) throw new TranslationError(`${where}.content must be a string or an array of blocks`);
  const tools: OaiMessage[] = [];
  const parts: OaiUserPart[] = [];
  const images: OaiUserPart[] = [];
  content.forEach((b, j) => {
    if (!isObj(b)) throw new TranslationError(`${where}.content[${j}] must be an object`);
    if (b.type === 'tool_result') tools.push(toolResult(b, `${where}.content[${j}]`, images));
    else {
      const p = userPart(b, `${where}.content[${j}]`, dropped);
      if (p) parts.push(p);
    }
  });
  const rest = [...parts, ...images];
  const out = [...tools];
  if (rest.length === 1 && rest[0]?.type === 'text') out.push({ role: 'user', content: rest[0].text });
  else if (rest.length) out.push({ role: 'user', content: rest });
  else if (!tools.length) out.push({ role: 'user', content: '' });
  return out;
}

function assistantMessage(content: unknown, where: string, dropped: Set<string>, names: ToolNames): OaiMessage {
  if (typeof content === 'string') return { role: 'assistant', content };
  if (!Array.isArray(content)) throw new TranslationError(`${where}.content must be a string or an array of blocks`);
  const texts: string[] = [];
  const calls: OaiToolCall[] = [];
  content.forEach((b, j) => {
    if (!isObj(b)) throw new TranslationError(`${where}.content[${j}] must be an object`);
    if ('cache_control' in b) dropped.add('cache_control');
    if (b.type === 'text' && typeof b.text === 'string') texts.push(b.text);
    else if (b.type === 'tool_use') {
      const id = asStr(b.id);
      const name = asStr(b.name);
      if (!id || !name) throw new TranslationError(`${where}.content[${j}]: a tool_use needs id and name`);
      calls.push({ id, type: 'function', function: { name: names.send(name), arguments: JSON.stringify(b.input ?? {}) } });
    } else if (b.type === 'thinking' || b.type === 'redacted_thinking') dropped.add('thinking');
    else throw new TranslationError(`${where}.content[${j}]: assistant blocks of type ${JSON.stringify(b.type)} have no OpenAI Chat Completions counterpart`);
  });
  const msg: OaiMessage = { role: 'assistant', content: texts.length ? texts.join('') : null };
  if (calls.length) msg.tool_calls = calls;
  else if (msg.content === null) msg.content = '';
  return msg;
}

function tools(list: unknown, names: ToolNames): OaiTool[] {
  return asArr(list).map((t, i) => {
    if (!isObj(t)) throw new TranslationError(`tools[${i}] must be an object`);
    if (t.type !== undefined && t.type !== 'custom') {
      throw new TranslationError(`tools[${i}]: the server tool ${JSON.stringify(t.type)} has no OpenAI Chat Completions counterpart`);
    }
    const name = asStr(t.name);
    if (!name) throw new TranslationError(`tools[${i}] needs a name`);
    const fn: OaiTool['function'] = { name: names.send(name) };
    if (typeof t.description === 'string') fn.description = t.description;
    fn.parameters = isObj(t.input_schema) ? t.input_schema : { type: 'object', properties: {} };
    return { type: 'function', function: fn };
  });
}

function toolChoice(tc: unknown, names: ToolNames): { choice?: OaiToolChoice; parallel?: false } {
  if (!isObj(tc)) return {};
  const parallel = tc.disable_parallel_tool_use === true ? (false as const) : undefined;
  switch (tc.type) {
    case 'auto':
      return { choice: 'auto', parallel };
    case 'any':
      return { choice: 'required', parallel };
    case 'none':
      return { choice: 'none' };
    case 'tool': {
      const name = asStr(tc.name);
      if (!name) throw new TranslationError('tool_choice of type tool needs a name');
      return { choice: { type: 'function', function: { name: names.send(name) } }, parallel };
    }
    default:
      throw new TranslationError(`tool_choice type ${JSON.stringify(tc.type)} is not one of auto, any, tool, none`);
  }
}

/** The translated request, and the tool names it had to change (give them to the response translators). */
export interface OpenAIRequestTranslation extends Translated<OaiRequest> {
  toolNames?: ToolNameMap;
}

export function anthropicToOpenAIRequest(body: Json, opts: ToOpenAIOptions): OpenAIRequestTranslation {
  const dropped = new Set<string>();
  const names = new ToolNames();
  for (const k of Object.keys(body)) if (!HANDLED.has(k)) dropped.add(k);
  const messages: OaiMessage[] = [];
  const sys = systemText(body.system);
  if (Array.isArray(body.system) && body.system.some((b) => isObj(b) && 'cache_control' in b)) dropped.add('cache_control');
  if (sys !== null) messages.push({ role: 'system', content: sys });
  if (!Array.isArray(body.messages)) throw new TranslationError('messages must be an array');
  body.messages.forEach((m, i) => {
    if (!isObj(m)) throw new TranslationError(`messages[${i}] must be an object`);
    if (m.role === 'user') messages.push(...userMessages(m.content, `messages[${i}]`, dropped));
    else if (m.role === 'assistant') messages.push(assistantMessage(m.content, `messages[${i}]`, dropped, names));
    else throw new TranslationError(`messages[${i}].role must be user or assistant`);
  });

  const out: OaiRequest = { model: opts.model, messages };
  const max = asNum(body.max_tokens);
  if (max === undefined) throw new TranslationError('max_tokens is required');
  const field = opts.maxTokensField ?? (wantsMaxCompletionTokens(opts.model) ? 'max_completion_tokens' : 'max_tokens');
  out[field] = max;
  const stops = asArr(body.stop_sequences).filter((s): s is string => typeof s === 'string');
  if (stops.length) out.stop = stops;
  const temperature = asNum(body.temperature);
  if (temperature !== undefined) out.temperature = temperature;
  const topP = asNum(body.top_p);
  if (topP !== undefined) out.top_p = topP;
  if (body.stream === true) {
    out.stream = true;
    out.stream_options = { include_usage: true };
  }
  if (Array.isArray(body.tools) && body.tools.length) {
    out.tools = tools(body.tools, names);
    if (body.tools.some((t) => isObj(t) && 'cache_control' in t)) dropped.add('cache_control');
  }
  const tc = toolChoice(body.tool_choice, names);
  if (tc.choice !== undefined) out.tool_choice = tc.choice;
  if (tc.parallel === false && out.tools) out.parallel_tool_calls = false;
  if (isObj(body.metadata) && typeof body.metadata.user_id === 'string') out.user = body.metadata.user_id;
  const toolNames = names.map();
  return toolNames ? { body: out, dropped: [...dropped].sort(), toolNames } : { body: out, dropped: [...dropped].sort() };
}

export type { AnthImageBlock };
