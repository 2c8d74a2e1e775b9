import { describe, expect, it } from 'vitest';
import { contextWindowFor } from '../src/compress/context-window.js';
import { countJsonBody, encodingForModel, estimateTokens, sampledCount, tokenCounterFor } from '../src/compress/tokens.js';
import { generateOutput, OUTPUT_TYPES } from '../src/mock/agent-outputs.js';

describe('token counting', () => {
  it('routes OpenAI models to their BPE vocabularies and others to the estimator', () => {
    expect(encodingForModel('gpt-4o-mini')).toBe('o200k_base');
    expect(encodingForModel('gpt-5')).toBe('o200k_base');
    expect(encodingForModel('o3-mini')).toBe('o200k_base');
    expect(encodingForModel('gpt-4-turbo')).toBe('cl100k_base');
    expect(encodingForModel('gpt-3.5-turbo')).toBe('cl100k_base');
    expect(encodingForModel('claude-sonnet-4-5')).toBeNull();
    expect(tokenCounterFor('claude-opus-4-1').name).toBe('estimate');
    expect(tokenCounterFor('gpt-4o').name).toBe('o200k_base');
    expect(tokenCounterFor(null).name).toBe('estimate');
  });

  it('counts real BPE tokens for OpenAI models', () => {
    expect(tokenCounterFor('gpt-4o').count('hello world')).toBe(2);
    expect(tokenCounterFor('gpt-4o').count('')).toBe(0);
    // special-token text is counted as plain text, never rejected
    expect(tokenCounterFor('gpt-4o').count('<|endoftext|>')).toBeGreaterThan(1);
  });

  it('the estimator stays within 20% of cl100k on every kind of tool output', () => {
    const bpe = tokenCounterFor('gpt-4-turbo');
    for (const type of OUTPUT_TYPES) {
      const { text } = generateOutput(type, 12_000, 3);
      const est = estimateTokens(text);
      const real = bpe.count(text);
      expect(Math.abs(est - real) / real, type).toBeLessThan(0.2);
    }
  });

  it('samples long texts deterministically and close to the full count', () => {
    const text = generateOutput('service_log', 200_000, 5).text;
    const counter = tokenCounterFor('gpt-4o');
    const enc = (s: string) => estimateTokens(s);
    expect(sampledCount(text, enc)).toBe(sampledCount(text, enc));
    const full = counter.count(text.slice(0, 15_000)) * (text.length / 15_000);
    expect(Math.abs(counter.count(text) - full) / full).toBeLessThan(0.1);
  });

  it('counts a JSON body on its unescaped text', () => {
    const counter = tokenCounterFor('gpt-4o');
    const text = 'line one\nline "two"\n\tindented';
    expect(countJsonBody(counter, JSON.stringify(text).slice(1, -1))).toBe(counter.count(text));
  });

  it('knows context windows from the offline price table', () => {
    expect(contextWindowFor('gpt-4o')).toBe(128_000);
    expect(contextWindowFor('claude-sonnet-4-5')).toBe(200_000);
    expect(contextWindowFor('no-such-model-xyz')).toBeNull();
    expect(contextWindowFor(null)).toBeNull();
  });
});
