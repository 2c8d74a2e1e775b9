/** OTEL spans of Azure OpenAI and Gemini requests: the GenAI provider names and operations, usage with cached and reasoning tokens. */
import { describe, expect, it } from 'vitest';
import { planSpans } from '../src/capabilities/otel/span-plan.js';
import { accountingOf } from '../src/capabilities/stats/accounting.js';
import { outcome, usage } from './helpers/outcomes.js';

describe('cloud provider labels in spans', () => {
  it('Gemini: gcp.gemini, generate_content, cached and thought tokens', () => {
    const o = outcome({
      provider: 'gcp.gemini', api: 'generate_content', path: '/v1beta/models/gemini-2.5-flash:generateContent', requestedModel: 'gemini-2.5-flash', model: 'gemini-2.5-flash',
      usage: usage({ uncached: 904, cacheRead: 4096, output: 140, reasoning: 100 }),
    });
    const plan = planSpans(o, accountingOf(o), () => ({ address: 'generativelanguage.googleapis.test', port: 443 }));
    expect(plan.name).toBe('generate_content gemini-2.5-flash');
    expect(plan.attributes).toMatchObject({
      'gen_ai.operation.name': 'generate_content', 'gen_ai.provider.name': 'gcp.gemini',
      'gen_ai.usage.cache_read.input_tokens': 4096, 'gen_ai.usage.reasoning.output_tokens': 100,
    });
  });

  it('Azure: azure.ai.openai, chat', () => {
    const o = outcome({ provider: 'azure.ai.openai', api: 'chat', path: '/openai/deployments/prod/chat/completions', requestedModel: 'gpt-4o', model: 'gpt-4o', usage: usage({ uncached: 100, output: 10 }) });
    const plan = planSpans(o, accountingOf(o), () => null);
    expect(plan.attributes).toMatchObject({ 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'azure.ai.openai', 'gen_ai.request.model': 'gpt-4o' });
  });
});
