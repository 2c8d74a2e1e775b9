/**
 * OpenAI Chat Completions request -> Gemini `generateContent` request.
 *
 * - `system`/`developer` messages -> `systemInstruction` parts, in order (Gemini has one).
 * - User text -> `text` parts; `image_url` and PDF `file` parts given as `data:` URLs ->
 *   `inlineData`; an http(s) image URL -> `fileData` (its MIME type from the extension).
 * - Assistant text and `tool_calls` -> a `model` turn with `text` and `functionCall` parts
 *   (arguments parsed; text that is not a JSON object is kept under `raw_arguments`); a
 *   thought signature carried in the call's id (`response.ts`) goes back with its call.
 * - `role:"tool"` -> a `functionResponse` named after the call it answers (Gemini matches
 *   responses by name and order): a JSON-object result is sent as the response object,
 *   other text as `{output: text}`, a `[tool error] ` result as `{error: text}`. Consecutive
 *   tool messages and the user message after them share one `user` turn (Gemini wants a
 *   turn's function responses together, right after the call).
 * - `tools` -> one `functionDeclarations` tool, the schema as `parametersJsonSchema` (full
 *   JSON Schema, as the client wrote it); `tool_choice`: auto -> AUTO, none -> NONE,
 *   required -> ANY, a function -> ANY with `allowedFunctionNames`.
 * - `max_completion_tokens`/`max_tokens` -> `maxOutputTokens` (unchanged), `temperature`,
 *   `top_p` -> `topP`, `stop` -> `stopSequences`, `n` -> `candidateCount`, `seed`,
 *   `presence_penalty`, `frequency_penalty`, `response_format` json_object/json_schema ->
 *   `responseMimeType: application/json` (+ `responseJsonSchema`).
 * - Dropped and listed: `logit_bias`, `logprobs`, `top_logprobs`, `user`, `store`,
 *   `service_tier`, `parallel_tool_calls`, `reasoning_effort`, `metadata`, `prediction`,
 *   `modalities`, `audio`, `stream_options` (Gemini streams always carry usage).
 * - The upstream path: `/v1beta/models/{model}:generateContent`, or
 *   `:streamGenerateContent?alt=sse` for a stream.
 */
import { TOOL_ERROR_PREFIX, TranslationError, asArr, asNum, asStr, isObj, parseArguments, type Json } from '../util.js';
import { signatureOf } from './response.js';
import type { GemContent, GemGenerationConfig, GemPart, GemRequest } from './types.js';

export interface ToGeminiOptions {
  /** The model to call (the resolved one, no `models/` prefix). */
  model: string;
}

export interface GeminiRequestTranslation {
  body: GemRequest;
  /** Path and query below the provider's base URL. */
  path: string;
  stream: boolean;
  dropped: string[];
}

const HANDLED = new Set([
  'model', 'messages', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'stop', 'n', 'seed', 'presence_penalty',
  'frequency_penalty', 'response_format', 'tools', 'tool_choice', 'stream', 'stream_options', 'functions', 'function_call',
]);

const EXT_MIME: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', heic: 'image/heic', pdf: 'application/pdf' };

function dataPart(url: string, where: string): GemPart {
  const m = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (m) return { inlineData: { mimeType: (m[1] ?? '').toLowerCase(), data: m[2] ?? '' } };
  if (/^https?:\/\//i.test(url)) {
    const ext = /\.([a-z0-9]+)(?:[?#]|$)/i.exec(url)?.[1]?.toLowerCase() ?? '';
    return { fileData: { mimeType: EXT_MIME[ext] ?? 'image/jpeg', fileUri: url } };
  }
  throw new TranslationError(`${where}: must be a data: URL or an http(s) URL`);
}

function userParts(content: unknown, where: string): GemPart[] {
  if (typeof content === 'string') return content ? [{ text: content }] : [];
  if (content === null || content === undefined) return [];
  return asArr(content).flatMap((p, j): GemPart[] => {
    const at = `${where}.content[${j}]`;
    if (!isObj(p)) throw new TranslationError(`${at}: a content part must be an object`);
    if ((p.type === 'text' || p.type === 'input_text') && typeof p.text === 'string') return p.text ? [{ text: p.text }] : [];
    if (p.type === 'image_url') {
      const url = isObj(p.image_url) ? asStr(p.image_url.url) : asStr(p.image_url);
      if (!url) throw new TranslationError(`${at}: image_url has no url`);
      return [dataPart(url, at)];
    }
    if (p.type === 'file' && isObj(p.file) && typeof p.file.file_data === 'string') return [dataPart(p.file.file_data, at)];
    throw new TranslationError(`${at}: part type ${JSON.stringify(p.type)} has no Gemini counterpart`);
  });
}

function textOnly(content: unknown, where: string): string {
  if (typeof content === 'string') return content;
  return asArr(content)
    .map((p, j) => {
      if (isObj(p) && typeof p.text === 'string') return p.text;
      throw new TranslationError(`${where}.content[${j}]: only text parts are accepted here`);
    })
    .join('\n\n');
}

function toolResponse(text: string): Record<string, unknown> {
  if (text.startsWith(TOOL_ERROR_PREFIX)) return { error: text.slice(TOOL_ERROR_PREFIX.length) };
  const t = text.trim();
  if (t.startsWith('{')) {
    try {
      const v: unknown = JSON.parse(t);
      if (isObj(v)) return v;
    } catch {
      // not JSON: sent as text
    }
  }
  return { output: text };
}

function generationConfig(body: Json, dropped: string[]): GemGenerationConfig | undefined {
  const g: GemGenerationConfig = {};
  const max = asNum(body.max_completion_tokens) ?? asNum(body.max_tokens);
  if (max !== undefined) g.maxOutputTokens = max;
  const temperature = asNum(body.temperature);
  if (temperature !== undefined) g.temperature = temperature;
  const topP = asNum(body.top_p);
  if (topP !== undefined) g.topP = topP;
  const stop = typeof body.stop === 'string' ? [body.stop] : asArr(body.stop).filter((s): s is string => typeof s === 'string');
  if (stop.length) g.stopSequences = stop;
  const n = asNum(body.n);
  if (n !== undefined && n !== 1) g.candidateCount = n;
  const seed = asNum(body.seed);
  if (seed !== undefined) g.seed = seed;
  const pp = asNum(body.presence_penalty);
  if (pp !== undefined) g.presencePenalty = pp;
  const fp = asNum(body.frequency_penalty);
  if (fp !== undefined) g.frequencyPenalty = fp;
  const rf = isObj(body.response_format) ? body.response_format : null;
  if (rf?.type === 'json_object') g.responseMimeType = 'application/json';
  else if (rf?.type === 'json_schema') {
    g.responseMimeType = 'application/json';
    const schema = isObj(rf.json_schema) ? rf.json_schema.schema : undefined;
    if (schema !== undefined) g.responseJsonSchema = schema;
  } else if (rf && rf.type !== 'text') dropped.push('response_format');
  return Object.keys(g).length ? g : undefined;
}

export function openAIToGeminiRequest(body: Json, opts: ToGeminiOptions): GeminiRequestTranslation {
  const dropped = Object.keys(body).filter((k) => !HANDLED.has(k));
  if (body.functions !== undefined || body.function_call !== undefined) throw new TranslationError('the legacy `functions` / `function_call` fields are not translated; use `tools`');
  const messages = asArr(body.messages);
  if (messages.length === 0) throw new TranslationError('messages: at least one message is required');
  const system: { text: string }[] = [];
  const contents: GemContent[] = [];
  const callNames = new Map<string, string>();
  const push = (role: GemContent['role'], parts: GemPart[]) => {
    if (parts.length === 0) return;
    const last = contents[contents.length - 1];
    if (last && last.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };
  messages.forEach((m, i) => {
    const where = `messages[${i}]`;
    if (!isObj(m)) throw new TranslationError(`${where}: a message must be an object`);
    switch (m.role) {
      case 'system':
      case 'developer': {
        const text = textOnly(m.content, where);
        if (text) system.push({ text });
        return;
      }
      case 'user':
        return push('user', userParts(m.content, where));
      case 'assistant': {
        const parts: GemPart[] = [];
        const text = typeof m.content === 'string' ? m.content : m.content ? textOnly(m.content, where) : '';
        if (text) parts.push({ text });
        for (const c of asArr(m.tool_calls)) {
          if (!isObj(c) || !isObj(c.function)) continue;
          const name = asStr(c.function.name);
          if (!name) throw new TranslationError(`${where}.tool_calls: a call has no function name`);
          const id = asStr(c.id);
          if (id) callNames.set(id, name);
          const signature = id ? signatureOf(id) : undefined;
          parts.push({ functionCall: { name, args: parseArguments(asStr(c.function.arguments) ?? '') }, ...(signature ? { thoughtSignature: signature } : {}) });
        }
        return push('model', parts);
      }
      case 'tool': {
        const id = asStr(m.tool_call_id) ?? '';
        const name = callNames.get(id);
        if (!name) throw new TranslationError(`${where}: tool_call_id ${JSON.stringify(id)} answers no earlier tool call`);
        return push('user', [{ functionResponse: { name, response: toolResponse(textOnly(m.content, where)) } }]);
      }
      default:
        throw new TranslationError(`${where}: role ${JSON.stringify(m.role)} has no Gemini counterpart`);
    }
  });
  if (contents.length === 0) throw new TranslationError('messages: nothing to send besides system messages');
  const out: GemRequest = { contents };
  if (system.length) out.systemInstruction = { parts: system };
  const decls = asArr(body.tools).map((t, j) => {
    if (!isObj(t) || t.type !== 'function' || !isObj(t.function) || typeof t.function.name !== 'string') {
      throw new TranslationError(`tools[${j}]: only function tools have a Gemini counterpart`);
    }
    const f = t.function;
    return {
      name: f.name as string,
      ...(typeof f.description === 'string' ? { description: f.description } : {}),
      ...(isObj(f.parameters) ? { parametersJsonSchema: f.parameters } : {}),
    };
  });
  if (decls.length) out.tools = [{ functionDeclarations: decls }];
  const tc = body.tool_choice;
  if (tc === 'auto') out.toolConfig = { functionCallingConfig: { mode: 'AUTO' } };
  else if (tc === 'none') out.toolConfig = { functionCallingConfig: { mode: 'NONE' } };
  else if (tc === 'required') out.toolConfig = { functionCallingConfig: { mode: 'ANY' } };
  else if (isObj(tc) && isObj(tc.function) && typeof tc.function.name === 'string') {
    out.toolConfig = { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [tc.function.name] } };
  }
  const gc = generationConfig(body, dropped);
  if (gc) out.generationConfig = gc;
  const stream = body.stream === true;
  const model = encodeURIComponent(opts.model.replace(/^models\//, ''));
  return { body: out, path: stream ? `/v1beta/models/${model}:streamGenerateContent?alt=sse` : `/v1beta/models/${model}:generateContent`, stream, dropped };
}
