/** OpenAI Chat Completions and Responses replies (JSON and SSE) with realistic usage blocks. */
import type { Frame } from './anthropic.js';
import type { PromptCacheSim } from './prompt-cache.js';
import { chunksOf, type ForcedTool, mockId, planReply } from './replies.js';
import type { RetrieveMode } from './retrieve.js';

type Json = Record<string, unknown>;

function chatUsage(body: Json, bodyBytes: number, cache: PromptCacheSim, completion: number): Json {
  const prompt = cache.promptTokens(body, bodyBytes, 'openai');
  const cached = cache.openaiCached(body, prompt);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cached, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

const lastChatIsTool = (body: Json) => {
  const msgs = Array.isArray(body.messages) ? body.messages : [];
  return (msgs[msgs.length - 1] as Json | undefined)?.role === 'tool';
};

export function chatCompletion(body: Json, bodyBytes: number, cache: PromptCacheSim, toolsEnabled: boolean, retrieve: RetrieveMode | null = null, forced: ForcedTool | null = null): Json {
  const reply = planReply(body, lastChatIsTool(body), toolsEnabled, retrieve, forced);
  const message: Json = { role: 'assistant', content: reply.toolCall ? null : reply.text, refusal: null };
  if (reply.toolCall) {
    message.tool_calls = reply.toolCalls.map((c) => ({ id: mockId('call'), type: 'function', function: { name: c.name, arguments: JSON.stringify(c.arguments) } }));
  }
  const completion = cache.outputTokens(JSON.stringify(message));
  return {
    id: mockId('chatcmpl'),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: body.model ?? 'gpt-mock',
    choices: [{ index: 0, message, logprobs: null, finish_reason: reply.toolCall ? 'tool_calls' : 'stop' }],
    usage: chatUsage(body, bodyBytes, cache, completion),
    system_fingerprint: 'fp_mock',
  };
}

export function chatStream(body: Json, bodyBytes: number, cache: PromptCacheSim, toolsEnabled: boolean, retrieve: RetrieveMode | null = null, forced: ForcedTool | null = null): Frame[] {
  const full = chatCompletion(body, bodyBytes, cache, toolsEnabled, retrieve, forced);
  const choice = (full.choices as Json[])[0] as Json;
  const message = choice.message as Json;
  const base = { id: full.id, object: 'chat.completion.chunk', created: full.created, model: full.model, system_fingerprint: 'fp_mock' };
  const frame = (choices: Json[], extra: Json = {}): Frame => ({ event: null, data: JSON.stringify({ ...base, choices, ...extra }) });
  const frames: Frame[] = [frame([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }])];
  const toolCalls = message.tool_calls as Json[] | undefined;
  if (toolCalls) {
    toolCalls.forEach((tc, index) => {
      const fn = (tc as Json).function as Json;
      frames.push(frame([{ index: 0, delta: { tool_calls: [{ index, id: (tc as Json).id, type: 'function', function: { name: fn.name, arguments: '' } }] }, logprobs: null, finish_reason: null }]));
      for (const piece of chunksOf(String(fn.arguments), 8)) {
        frames.push(frame([{ index: 0, delta: { tool_calls: [{ index, function: { arguments: piece } }] }, logprobs: null, finish_reason: null }]));
      }
    });
  } else {
    for (const piece of chunksOf(String(message.content))) frames.push(frame([{ index: 0, delta: { content: piece }, logprobs: null, finish_reason: null }]));
  }
  frames.push(frame([{ index: 0, delta: {}, logprobs: null, finish_reason: choice.finish_reason }]));
  const opts = body.stream_options as Json | undefined;
  if (opts?.include_usage === true) frames.push(frame([], { usage: full.usage }));
  frames.push({ event: null, data: '[DONE]' });
  return frames;
}

const lastResponsesIsToolOutput = (body: Json) => {
  const input = Array.isArray(body.input) ? body.input : [];
  return (input[input.length - 1] as Json | undefined)?.type === 'function_call_output';
};

export function responsesObject(body: Json, bodyBytes: number, cache: PromptCacheSim, toolsEnabled: boolean, retrieve: RetrieveMode | null = null): Json {
  const reply = planReply(body, lastResponsesIsToolOutput(body), toolsEnabled, retrieve);
  const output: Json[] = [];
  if (reply.toolCall) {
    for (const c of reply.toolCalls) {
      output.push({ type: 'function_call', id: mockId('fc'), call_id: mockId('call'), name: c.name, arguments: JSON.stringify(c.arguments), status: 'completed' });
    }
  } else {
    output.push({ type: 'message', id: mockId('msg'), status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: reply.text, annotations: [] }] });
  }
  const out = cache.outputTokens(JSON.stringify(output));
  const input = cache.promptTokens(body, bodyBytes, 'openai');
  const cached = cache.openaiCached(body, input);
  return {
    id: mockId('resp'),
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status: 'completed',
    model: body.model ?? 'gpt-mock',
    output,
    usage: {
      input_tokens: input,
      input_tokens_details: { cached_tokens: cached },
      output_tokens: out,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: input + out,
    },
    error: null,
    incomplete_details: null,
  };
}

export function responsesStream(body: Json, bodyBytes: number, cache: PromptCacheSim, toolsEnabled: boolean, retrieve: RetrieveMode | null = null): Frame[] {
  const full = responsesObject(body, bodyBytes, cache, toolsEnabled, retrieve);
  let seq = 0;
  const f = (type: string, data: Json): Frame => ({ event: type, data: JSON.stringify({ type, sequence_number: seq++, ...data }) });
  const pending = { ...full, status: 'in_progress', output: [], usage: null };
  const frames: Frame[] = [f('response.created', { response: pending }), f('response.in_progress', { response: pending })];
  (full.output as Json[]).forEach((item, output_index) => {
    if (item.type === 'function_call') {
      frames.push(f('response.output_item.added', { output_index, item: { ...item, arguments: '', status: 'in_progress' } }));
      for (const piece of chunksOf(String(item.arguments), 8)) {
        frames.push(f('response.function_call_arguments.delta', { item_id: item.id, output_index, delta: piece }));
      }
      frames.push(f('response.function_call_arguments.done', { item_id: item.id, output_index, arguments: item.arguments }));
    } else {
      const text = String(((item.content as Json[])[0] as Json).text);
      frames.push(f('response.output_item.added', { output_index, item: { ...item, content: [], status: 'in_progress' } }));
      frames.push(f('response.content_part.added', { item_id: item.id, output_index, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } }));
      for (const piece of chunksOf(text)) {
        frames.push(f('response.output_text.delta', { item_id: item.id, output_index, content_index: 0, delta: piece }));
      }
      frames.push(f('response.output_text.done', { item_id: item.id, output_index, content_index: 0, text }));
      frames.push(f('response.content_part.done', { item_id: item.id, output_index, content_index: 0, part: { type: 'output_text', text, annotations: [] } }));
    }
    frames.push(f('response.output_item.done', { output_index, item }));
  });
  frames.push(f('response.completed', { response: full }));
  return frames;
}

export function openaiError(type: string, message: string, code: string | null = null): string {
  return JSON.stringify({ error: { message, type, param: null, code } });
}
