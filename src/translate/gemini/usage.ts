/**
 * Gemini usage and finish reasons as OpenAI's. `promptTokenCount` includes
 * `cachedContentTokenCount`, as OpenAI's `prompt_tokens` includes `cached_tokens`; Gemini's
 * `candidatesTokenCount` excludes `thoughtsTokenCount`, OpenAI's `completion_tokens` includes
 * its `reasoning_tokens`; tool-use prompt tokens are prompt tokens.
 */
import type { OaiFinishReason } from '../types.js';
import { count, isObj } from '../util.js';

export interface OaiUsageWithReasoning {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  completion_tokens_details: { reasoning_tokens: number };
}

export function geminiUsageToOpenAI(u: unknown): OaiUsageWithReasoning {
  const g = isObj(u) ? u : {};
  const prompt = count(g.promptTokenCount) + count(g.toolUsePromptTokenCount);
  const thoughts = count(g.thoughtsTokenCount);
  const completion = count(g.candidatesTokenCount) + thoughts;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: Math.min(prompt, count(g.cachedContentTokenCount)) },
    completion_tokens_details: { reasoning_tokens: thoughts },
  };
}

const FILTERED = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY', 'LANGUAGE']);

/** A Gemini `finishReason` (or a prompt's `blockReason`) as OpenAI's; tool calls win over STOP. */
export function geminiFinishToOpenAI(reason: unknown, hasToolCalls: boolean): OaiFinishReason {
  if (reason === 'MAX_TOKENS') return 'length';
  if (typeof reason === 'string' && FILTERED.has(reason)) return 'content_filter';
  return hasToolCalls ? 'tool_calls' : 'stop';
}
