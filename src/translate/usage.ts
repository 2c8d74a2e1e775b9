/**
 * Usage and stop/finish reasons, both ways. Cache arithmetic: OpenAI's `prompt_tokens`
 * INCLUDES the cached tokens (`prompt_tokens_details.cached_tokens`); Anthropic's
 * `input_tokens` EXCLUDES cache reads and writes (`cache_read_input_tokens`,
 * `cache_creation_input_tokens`). So
 *   OpenAI -> Anthropic: input = prompt - cached, cache_read = cached, cache_creation = 0;
 *   Anthropic -> OpenAI: prompt = input + cache_read + cache_creation, cached = cache_read
 * (OpenAI has no cache-write figure: written tokens stay inside prompt_tokens).
 */
import type { AnthStopReason, AnthUsage, OaiFinishReason, OaiUsage } from './types.js';
import { count, isObj } from './util.js';

export function openAIUsageToAnthropic(u: unknown): AnthUsage {
  const o = isObj(u) ? u : {};
  const prompt = count(o.prompt_tokens);
  const cached = Math.min(prompt, count(isObj(o.prompt_tokens_details) ? o.prompt_tokens_details.cached_tokens : 0));
  return { input_tokens: prompt - cached, output_tokens: count(o.completion_tokens), cache_read_input_tokens: cached, cache_creation_input_tokens: 0 };
}

export function anthropicUsageToOpenAI(u: unknown): OaiUsage {
  const a = isObj(u) ? u : {};
  const read = count(a.cache_read_input_tokens);
  const prompt = count(a.input_tokens) + read + count(a.cache_creation_input_tokens);
  const completion = count(a.output_tokens);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: { cached_tokens: read } };
}

export function finishToStopReason(finish: unknown): AnthStopReason {
  switch (finish) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return 'end_turn';
  }
}

export function stopReasonToFinish(stop: unknown): OaiFinishReason {
  switch (stop) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      return 'stop';
  }
}
