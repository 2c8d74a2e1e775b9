/** Context windows from the offline @pydantic/genai-prices table (never its remote update). */
import { calcPrice } from '@pydantic/genai-prices';

const cache = new Map<string, number | null>();

export function contextWindowFor(model: string | null | undefined): number | null {
  if (!model) return null;
  const key = model.toLowerCase();
  if (cache.has(key)) return cache.get(key) ?? null;
  let window: number | null = null;
  try {
    const providerId = key.startsWith('claude') ? 'anthropic' : /^(gpt|o\d|chatgpt|codex)/.test(key) ? 'openai' : undefined;
    const r = calcPrice({ input_tokens: 1, output_tokens: 1 }, model, providerId ? { providerId } : {});
    window = r?.model.context_window ?? null;
  } catch {
    window = null;
  }
  if (cache.size > 1000) cache.clear();
  cache.set(key, window);
  return window;
}
