/** The registry's Gemini and Azure providers as routing targets: base URLs, the environment convention, resolution, bad-key rotation. */
import { describe, expect, it } from 'vitest';
import { buildRegistry, resolveModel, shouldRotateKey } from '../src/routing/index.js';

const DEFAULTS = { anthropicUrl: 'https://api.anthropic.com', openaiUrl: 'https://api.openai.com' };

describe('Gemini and Azure providers in the registry', () => {
  const file = {
    providers: {
      gem: { format: 'gemini', base_url: 'https://generativelanguage.googleapis.com/v1beta/', api_keys: ['gemini-test-fake-key'] },
      az: { format: 'azure', base_url: 'https://res.openai.azure.com/openai', deployments: { 'prod-chat': 'gpt-4o' } },
      envgem: { base_url: 'https://generativelanguage.googleapis.com' },
    },
    model_aliases: { 'claude-*': 'gem:gemini-2.5-flash', fast: 'az:prod-chat' },
  };

  it('normalises base URLs to the host; <P>_API_FORMAT accepts gemini and azure', () => {
    const r = buildRegistry({ file, env: { ENVGEM_API_FORMAT: 'gemini' }, defaults: DEFAULTS });
    expect(r.providers.get('gem')).toMatchObject({ format: 'gemini', baseUrl: 'https://generativelanguage.googleapis.com' });
    expect(r.providers.get('az')).toMatchObject({ format: 'azure', baseUrl: 'https://res.openai.azure.com', deployments: { 'prod-chat': 'gpt-4o' } });
    expect(r.providers.get('envgem')!.format).toBe('gemini');
    expect(() => buildRegistry({ file, env: { ENVGEM_API_FORMAT: 'cohere' }, defaults: DEFAULTS })).toThrow(/accepted: openai, anthropic, azure, gemini/);
  });

  it('resolves to them: a Gemini target is translated for both client formats, an Azure one only for Anthropic clients', () => {
    const r = buildRegistry({ file, defaults: DEFAULTS });
    expect(resolveModel(r, 'claude-sonnet-4-5', 'anthropic')).toMatchObject({ ref: 'gem:gemini-2.5-flash', translate: true });
    expect(resolveModel(r, 'gem:gemini-2.5-pro', 'openai')).toMatchObject({ model: 'gemini-2.5-pro', translate: true });
    expect(resolveModel(r, 'fast', 'openai')).toMatchObject({ model: 'prod-chat', translate: false });
    expect(resolveModel(r, 'fast', 'anthropic')).toMatchObject({ model: 'prod-chat', translate: true });
  });

  it('a 400 that refuses the key rotates; another 400 does not', () => {
    expect(shouldRotateKey(400, JSON.stringify({ error: { code: 400, message: 'API key not valid. Please pass a valid API key.', status: 'INVALID_ARGUMENT', details: [{ reason: 'API_KEY_INVALID' }] } }))).toBe(true);
    expect(shouldRotateKey(400, JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: 'API key not valid. Please pass a valid API key.' } }))).toBe(true);
    expect(shouldRotateKey(400, JSON.stringify({ error: { code: 400, message: '* GenerateContentRequest.contents: contents is not specified', status: 'INVALID_ARGUMENT' } }))).toBe(false);
  });
});
