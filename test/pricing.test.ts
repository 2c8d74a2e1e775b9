import { describe, expect, it } from 'vitest';
import { costOf, FALLBACK_RATES, priceFor, ratesAt } from '../src/providers/pricing.js';
import { usage } from './helpers/outcomes.js';

describe('pricing (bundled genai-prices data, offline)', () => {
  it('prices an Anthropic model: input, output, cache read, cache writes 5m and 1h, context window', () => {
    const p = priceFor('anthropic', 'claude-sonnet-4-5');
    expect(p.fallback).toBe(false);
    expect(p.matchedModel).toBe('claude-sonnet-4-5');
    expect([p.input, p.output, p.cacheRead, p.cacheWrite5m, p.cacheWrite1h]).toEqual([3, 15, 0.3, 3.75, 6]);
    expect(p.contextWindow).toBe(200_000);
  });

  it('resolves dated model ids and OpenAI models (cache writes default to the input price)', () => {
    expect(priceFor('anthropic', 'claude-sonnet-4-5-20250929').matchedModel).toBe('claude-sonnet-4-5');
    const p = priceFor('openai', 'gpt-4o');
    expect([p.input, p.output, p.cacheRead, p.cacheWrite5m, p.cacheWrite1h]).toEqual([2.5, 10, 1.25, 2.5, 2.5]);
  });

  it('applies long-context tiers by prompt size', () => {
    const p = priceFor('anthropic', 'claude-sonnet-4-5');
    expect(ratesAt(p, 100_000).input).toBe(3);
    expect(ratesAt(p, 250_000).input).toBe(6);
    expect(costOf(usage({ uncached: 250_000 }), p).uncachedUsd).toBeCloseTo(1.5, 10);
  });

  it('gives an unknown model the documented fallback price, flagged, never $0', () => {
    const p = priceFor('anthropic', 'totally-unknown-model-x');
    expect(p.fallback).toBe(true);
    expect(p.matchedModel).toBeNull();
    expect(p.input).toBe(FALLBACK_RATES.anthropic.input);
    expect(costOf(usage({ uncached: 1_000_000 }), p).inputUsd).toBeGreaterThan(0);
    expect(priceFor('openai', 'gpt-from-the-future-xyz').input).toBe(FALLBACK_RATES.openai.input);
    expect(priceFor('unknown', null).fallback).toBe(true);
  });

  it('costOf splits uncached, cache reads, 5m and 1h writes, and output', () => {
    const p = priceFor('anthropic', 'claude-sonnet-4-5');
    // 50k prompt tokens: below the 200k long-context tier
    const c = costOf(usage({ uncached: 10_000, cacheRead: 20_000, cacheWrite5m: 10_000, cacheWrite1h: 10_000, output: 1_000 }), p);
    expect(c.uncachedUsd).toBeCloseTo(0.03, 10);
    expect(c.cacheReadUsd).toBeCloseTo(0.006, 10);
    expect(c.cacheWriteUsd).toBeCloseTo(0.0375 + 0.06, 10);
    expect(c.inputUsd).toBeCloseTo(0.03 + 0.006 + 0.0975, 10);
    expect(c.outputUsd).toBeCloseTo(0.015, 10);
    expect(c.totalUsd).toBeCloseTo(0.03 + 0.006 + 0.0975 + 0.015, 10);
    expect(c.cacheReadSavingsUsd).toBeCloseTo(0.02 * (3 - 0.3), 10);
    expect(c.cacheWritePremiumUsd).toBeCloseTo(0.0075 + 0.03, 10);
  });
});
