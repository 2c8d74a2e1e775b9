/** Anthropic Messages responses (JSON and SSE event lists) with realistic usage blocks. */
import type { PromptCacheSim } from './prompt-cache.js';
import { chunksOf, type ForcedTool, mockId, planReply } from './replies.js';
import type { RetrieveMode } from './retrieve.js';

type Json = Record<string, unknown>;
export type Frame = { event: string | null; data: string };

function lastIsToolResult(body: Json): boolean {
  const msgs = Array.isArray(body.messages) ? body.messages : [];
  const last = msgs[msgs.length - 1] as Json | undefined;
  return Array.isArray(last?.content) && (last.content as Json[]).some((b) => b?.type === 'tool_result');
}

function usageFor(body: Json, bodyBytes: number, cache: PromptCacheSim, outputTokens: number): Json {
  const total = cache.promptTokens(body, bodyBytes, 'anthropic');
  const c = cache.anthropicUsage(body, total);
  return {
    input_tokens: c.uncached,
    cache_creation_input_tokens: c.cacheWrite5m + c.cacheWrite1h,
    cache_read_input_tokens: c.cacheRead,
    cache_creation: { ephemeral_5m_input_tokens: c.cacheWrite5m, ephemeral_1h_input_tokens: c.cacheWrite1h },
    output_tokens: outputTokens,
    service_tier: 'standard',
  };
}

export function anthropicMessage(body: Json, bodyBytes: number, cache: PromptCacheSim, toolsEnabled: boolean, retrieve: RetrieveMode | null = null, forced: ForcedTool | null = null): Json {
  const reply = planReply(body, lastIsToolResult(body), toolsEnabled, retrieve, forced);
  const content: Json[] = [{ type: 'text', text: reply.text }];
  for (const c of reply.toolCalls) content.push({ type: 'tool_use', id: c.id, name: c.name, input: c.arguments });
  const output = cache.outputTokens(JSON.stringify(content));
  return {
    id: mockId('msg'),
    type: 'message',
    role: 'assistant',
    model: body.model ?? 'claude-mock',
    content,
    stop_reason: reply.toolCall ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    usage: usageFor(body, bodyBytes, cache, output),
  };
}

export function anthropicStream(body: Json, bodyBytes: number, cache: PromptCacheSim, toolsEnabled: boolean, retrieve: RetrieveMode | null = null, forced: ForcedTool | null = null): Frame[] {
  const msg = anthropicMessage(body, bodyBytes, cache, toolsEnabled, retrieve, forced);
  const usage = msg.usage as Json;
  const f = (event: string, data: Json): Frame => ({ event, data: JSON.stringify({ type: event, ...data }) });
  const frames: Frame[] = [
    f('message_start', { message: { ...msg, content: [], stop_reason: null, usage: { ...usage, output_tokens: 1 } } }),
  ];
  (msg.content as Json[]).forEach((block, index) => {
    if (block.type === 'text') {
      frames.push(f('content_block_start', { index, content_block: { type: 'text', text: '' } }));
      if (index === 0) frames.push(f('ping', {}));
      for (const piece of chunksOf(String(block.text))) {
        frames.push(f('content_block_delta', { index, delta: { type: 'text_delta', text: piece } }));
      }
    } else {
      frames.push(f('content_block_start', { index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } }));
      for (const piece of chunksOf(JSON.stringify(block.input), 10)) {
        frames.push(f('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: piece } }));
      }
    }
    frames.push(f('content_block_stop', { index }));
  });
  frames.push(f('message_delta', {
    delta: { stop_reason: msg.stop_reason, stop_sequence: null },
    usage: {
      input_tokens: usage.input_tokens,
      cache_creation_input_tokens: usage.cache_creation_input_tokens,
      cache_read_input_tokens: usage.cache_read_input_tokens,
      output_tokens: usage.output_tokens,
    },
  }));
  frames.push(f('message_stop', {}));
  return frames;
}

export function anthropicError(type: string, message: string): string {
  return JSON.stringify({ type: 'error', error: { type, message } });
}
