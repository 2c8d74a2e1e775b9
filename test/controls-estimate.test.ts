import { describe, expect, it } from 'vitest';
import { estimateRequest, reservationFor, reservationUsd, TOKENS_PER_IMAGE } from '../src/capabilities/controls/estimate.js';
import { priceFor } from '../src/providers/pricing.js';

describe('request estimate', () => {
  it('max output: max_tokens, max_completion_tokens (x n choices), max_output_tokens, else the default', () => {
    const msgs = { messages: [{ role: 'user', content: 'hi' }] };
    expect(estimateRequest('messages', { ...msgs, max_tokens: 300 }, 4096).maxOutputTokens).toBe(300);
    expect(estimateRequest('chat', { ...msgs, max_tokens: 100, max_completion_tokens: 200, n: 3 }, 4096).maxOutputTokens).toBe(600);
    expect(estimateRequest('chat', { ...msgs, max_tokens: 100 }, 4096).maxOutputTokens).toBe(100);
    expect(estimateRequest('responses', { input: 'hi', max_output_tokens: 50 }, 4096).maxOutputTokens).toBe(50);
    expect(estimateRequest('chat', msgs, 4096).maxOutputTokens).toBe(4096);
    expect(estimateRequest('messages', { ...msgs, max_tokens: -5 }, 123).maxOutputTokens).toBe(123);
  });

  it('input tokens over-estimate real text (bytes / 3, keys and structure included)', () => {
    const body = { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'The quick brown fox jumps over the lazy dog. '.repeat(100) }] };
    const e = estimateRequest('messages', body, 4096);
    const text = body.messages[0]!.content;
    // a real tokenizer needs ~10 tokens per sentence of 45 bytes; the estimate is above it
    expect(e.inputTokens).toBeGreaterThanOrEqual(Math.ceil(text.length / 3));
    expect(e.inputTokens).toBeLessThan(Math.ceil(JSON.stringify(body).length / 3) + 10);
  });

  it('counts non-ASCII text by bytes (CJK: about one token per character)', () => {
    const body = { messages: [{ role: 'user', content: '漢字'.repeat(500) }] };
    expect(estimateRequest('messages', body, 1).inputTokens).toBeGreaterThanOrEqual(1000);
  });

  it('an image costs a fixed number of tokens, not its base64 bytes', () => {
    const data = 'A'.repeat(400_000);
    const anthropic = { messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data } }, { type: 'text', text: 'what is this?' }] }] };
    const e = estimateRequest('messages', anthropic, 1);
    expect(e.images).toBe(1);
    expect(e.inputTokens).toBeLessThan(TOKENS_PER_IMAGE + 100);
    const openai = { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: `data:image/png;base64,${data}` } }] }] };
    expect(estimateRequest('chat', openai, 1).images).toBe(1);
    const byUrl = { input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'https://example.com/cat.png' }] }] };
    expect(estimateRequest('responses', byUrl, 1).images).toBe(1);
  });

  it('sees cache_control (cache writes cost more than input)', () => {
    const body = { system: [{ type: 'text', text: 'x', cache_control: { type: 'ephemeral' } }], messages: [] };
    expect(estimateRequest('messages', body, 1).cacheControl).toBe(true);
    expect(estimateRequest('messages', { messages: [] }, 1).cacheControl).toBe(false);
  });
});

describe('reservation', () => {
  it('input x input price + max output x output price, at the model price', () => {
    const price = priceFor('anthropic', 'claude-sonnet-4-5');
    const est = { inputTokens: 1000, maxOutputTokens: 500, cacheControl: false, images: 0 };
    expect(reservationUsd(est, price)).toBeCloseTo((1000 * price.input + 500 * price.output) / 1e6, 12);
    expect(reservationFor('anthropic', 'claude-sonnet-4-5', est)).toBe(reservationUsd(est, price));
  });

  it('prices the input at the cache-write rate when the request writes the prompt cache', () => {
    const price = priceFor('anthropic', 'claude-sonnet-4-5');
    const est = { inputTokens: 1000, maxOutputTokens: 0, cacheControl: true, images: 0 };
    expect(price.cacheWrite1h).toBeGreaterThan(price.input);
    expect(reservationUsd(est, price)).toBeCloseTo((1000 * price.cacheWrite1h) / 1e6, 12);
  });

  it('an unknown model is reserved at its provider\'s fallback price, never $0', () => {
    expect(reservationFor('openai', 'no-such-model-xyz', { inputTokens: 100, maxOutputTokens: 100, cacheControl: false, images: 0 })).toBeGreaterThan(0);
  });
});
