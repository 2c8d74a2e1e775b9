/**
 * The provider registry: the file shape of issue 18, the `<P>_API_KEY` / `<P>_BASE_URL` /
 * `<P>_API_FORMAT` convention, model resolution (first colon only, aliases, wildcard aliases,
 * bare models by client format, unknown providers), fallback lists and upstream URLs.
 */
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { RoutingConfigError, RoutingError, buildRegistry, resolveModel, targetsFor, upstreamUrl } from '../src/routing/index.js';

const DEFAULTS = { anthropicUrl: 'https://anthropic.example.test', openaiUrl: 'https://openai.example.test' };

const ISSUE_YAML = `
providers:
  oai:      { format: openai,    base_url: https://api.openai.com/v1, api_keys: [sk-test-fake-oai-1] }
  local:    { format: openai,    base_url: http://127.0.0.1:11434/v1 }
  router:   { format: openai,    base_url: https://openrouter.ai/api/v1, api_key_env: OPENROUTER_API_KEY }
  anth:     { format: anthropic, base_url: https://api.anthropic.com, api_keys: [sk-ant-test-fake-1, sk-ant-test-fake-2] }
model_aliases:
  fast: oai:gpt-4o-mini
  quick: fast
  "claude-*": local:qwen2.5:7b
  "claude-opus-*": anth:claude-opus-4-1
fallbacks:
  anth:claude-sonnet-4-5: [router:anthropic/claude-sonnet-4.5, oai:gpt-4.1]
  fast: [local:llama3:8b]
`;

const ENV = { OPENROUTER_API_KEY: 'sk-or-test-fake-1 sk-or-test-fake-2' };
const reg = () => buildRegistry({ file: parseYaml(ISSUE_YAML), env: ENV, defaults: DEFAULTS });

describe('registry from the issue file', () => {
  it('reads every provider with its format, base URL and keys', () => {
    const r = reg();
    expect(r.providers.get('oai')).toMatchObject({ format: 'openai', baseUrl: 'https://api.openai.com/v1', apiKeys: ['sk-test-fake-oai-1'], keySource: 'file' });
    expect(r.providers.get('local')).toMatchObject({ format: 'openai', baseUrl: 'http://127.0.0.1:11434/v1', apiKeys: [], keySource: null });
    expect(r.providers.get('router')).toMatchObject({ apiKeys: ['sk-or-test-fake-1', 'sk-or-test-fake-2'], keySource: 'OPENROUTER_API_KEY' });
    expect(r.providers.get('anth')).toMatchObject({ format: 'anthropic', baseUrl: 'https://api.anthropic.com', apiKeys: ['sk-ant-test-fake-1', 'sk-ant-test-fake-2'] });
  });

  it('keeps the default upstreams as the providers `anthropic` and `openai`', () => {
    const r = reg();
    expect(r.providers.get('anthropic')).toMatchObject({ format: 'anthropic', baseUrl: DEFAULTS.anthropicUrl, builtIn: true, apiKeys: [] });
    expect(r.providers.get('openai')).toMatchObject({ format: 'openai', baseUrl: `${DEFAULTS.openaiUrl}/v1`, builtIn: true });
    expect(upstreamUrl(r.providers.get('openai')!, '/chat/completions')).toBe('https://openai.example.test/v1/chat/completions');
    expect(upstreamUrl(r.providers.get('anth')!, '/messages')).toBe('https://api.anthropic.com/v1/messages');
    expect(upstreamUrl(r.providers.get('local')!, '/chat/completions')).toBe('http://127.0.0.1:11434/v1/chat/completions');
  });

  it('works with no routing section at all (today: two upstreams)', () => {
    const r = buildRegistry({ file: null, defaults: DEFAULTS });
    expect([...r.providers.keys()].sort()).toEqual(['anthropic', 'openai']);
    expect(resolveModel(r, 'claude-sonnet-4-5', 'anthropic')).toMatchObject({ provider: { name: 'anthropic' }, model: 'claude-sonnet-4-5', via: 'default', translate: false });
    // no providers section: a colon in a bare model is not read as a provider
    expect(resolveModel(r, 'llama3:8b', 'openai')).toMatchObject({ provider: { name: 'openai' }, model: 'llama3:8b', via: 'default' });
  });
});

describe('model resolution', () => {
  it('splits provider:model at the first colon only; model names keep their colons', () => {
    const r = reg();
    expect(resolveModel(r, 'local:qwen2.5:7b', 'anthropic')).toMatchObject({ provider: { name: 'local' }, model: 'qwen2.5:7b', ref: 'local:qwen2.5:7b', via: 'explicit', translate: true });
    expect(resolveModel(r, 'router:kwaipilot/kat-coder-pro:free', 'openai')).toMatchObject({ provider: { name: 'router' }, model: 'kwaipilot/kat-coder-pro:free', translate: false });
    expect(resolveModel(r, 'local:a:b:c', 'openai').model).toBe('a:b:c');
    // the provider part is case-insensitive; the model keeps its case
    expect(resolveModel(r, 'OAI:GPT-4o', 'openai')).toMatchObject({ provider: { name: 'oai' }, model: 'GPT-4o' });
  });

  it('follows aliases, through chains, to provider:model', () => {
    const r = reg();
    expect(resolveModel(r, 'fast', 'anthropic')).toMatchObject({ provider: { name: 'oai' }, model: 'gpt-4o-mini', via: 'alias', alias: 'fast', requested: 'fast', translate: true });
    expect(resolveModel(r, 'quick', 'openai')).toMatchObject({ ref: 'oai:gpt-4o-mini', alias: 'quick', translate: false });
  });

  it('matches wildcard aliases, the most specific first, after explicit provider prefixes', () => {
    const r = reg();
    expect(resolveModel(r, 'claude-sonnet-4-5-20250929', 'anthropic')).toMatchObject({ ref: 'local:qwen2.5:7b', via: 'pattern', alias: 'claude-*', translate: true });
    expect(resolveModel(r, 'claude-opus-4-1-20250805', 'anthropic')).toMatchObject({ ref: 'anth:claude-opus-4-1', alias: 'claude-opus-*', translate: false });
    expect(resolveModel(r, 'anth:claude-sonnet-4-5', 'anthropic')).toMatchObject({ ref: 'anth:claude-sonnet-4-5', via: 'explicit' });
  });

  it('routes a bare model to the default provider of the client format', () => {
    const r = reg();
    expect(resolveModel(r, 'gpt-4o', 'openai')).toMatchObject({ provider: { name: 'openai' }, model: 'gpt-4o', via: 'default', translate: false });
    expect(resolveModel(r, 'some-model', 'anthropic')).toMatchObject({ provider: { name: 'anthropic' }, via: 'default', translate: false });
    // a prefix that cannot be a provider name (a dot) stays part of a bare model
    expect(resolveModel(r, 'qwen2.5:7b', 'openai')).toMatchObject({ provider: { name: 'openai' }, model: 'qwen2.5:7b' });
  });

  it('answers an unknown provider with a 404 naming the configured ones', () => {
    const r = reg();
    let err: unknown;
    try {
      resolveModel(r, 'nope:gpt-4o', 'openai');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RoutingError);
    expect((err as RoutingError).status).toBe(404);
    expect((err as RoutingError).message).toMatch(/Unknown provider "nope".*oai, local, router, anth/);
    expect(() => resolveModel(r, 'oai:', 'openai')).toThrow(/no model after the colon/);
    expect(() => resolveModel(r, '', 'openai')).toThrow(RoutingError);
  });
});

describe('fallbacks', () => {
  it('lists the resolved target first, then its fallbacks in order', () => {
    const r = reg();
    const primary = resolveModel(r, 'anth:claude-sonnet-4-5', 'anthropic');
    const list = targetsFor(r, primary, 'anthropic');
    expect(list.map((t) => [t.ref, t.via, t.translate])).toEqual([
      ['anth:claude-sonnet-4-5', 'explicit', false],
      ['router:anthropic/claude-sonnet-4.5', 'fallback', true],
      ['oai:gpt-4.1', 'fallback', true],
    ]);
    expect(list.every((t) => t.requested === 'anth:claude-sonnet-4-5')).toBe(true);
  });

  it('keys written as aliases apply to what the alias resolves to', () => {
    const r = reg();
    expect(targetsFor(r, resolveModel(r, 'quick', 'openai'), 'openai').map((t) => t.ref)).toEqual(['oai:gpt-4o-mini', 'local:llama3:8b']);
    expect(targetsFor(r, resolveModel(r, 'gpt-4o', 'openai'), 'openai').map((t) => t.ref)).toEqual(['openai:gpt-4o']);
  });
});

describe('the environment convention', () => {
  it('fills and overrides what the file gives, for providers the file names', () => {
    const file = { providers: { groq: null, 'my-vllm': { base_url: 'http://127.0.0.1:8000/v1' }, anth: { format: 'anthropic', base_url: 'https://a.example.test/v1' } } };
    const env = {
      GROQ_BASE_URL: 'https://api.groq.example.test/openai/v1',
      GROQ_API_KEY: 'gsk-test-fake-1  gsk-test-fake-2',
      MY_VLLM_API_KEY: '!PASSTHRU',
      MY_VLLM_BASE_URL: 'http://127.0.0.1:9000/v1',
      ANTH_API_FORMAT: 'ANTHROPIC',
      UNNAMED_API_KEY: 'sk-test-fake-ignored',
      UNNAMED_BASE_URL: 'https://unnamed.example.test',
    };
    const r = buildRegistry({ file, env, defaults: DEFAULTS });
    expect(r.providers.get('groq')).toMatchObject({ format: 'openai', baseUrl: 'https://api.groq.example.test/openai/v1', apiKeys: ['gsk-test-fake-1', 'gsk-test-fake-2'], keySource: 'GROQ_API_KEY' });
    expect(r.providers.get('my-vllm')).toMatchObject({ baseUrl: 'http://127.0.0.1:9000/v1', apiKeys: [] });
    // an anthropic base URL written with /v1 is the same host
    expect(r.providers.get('anth')).toMatchObject({ format: 'anthropic', baseUrl: 'https://a.example.test' });
    expect(r.providers.has('unnamed')).toBe(false);
  });

  it('<P>_API_FORMAT switches the format', () => {
    const r = buildRegistry({ file: { providers: { x: { base_url: 'https://x.example.test' } } }, env: { X_API_FORMAT: 'anthropic' }, defaults: DEFAULTS });
    expect(r.providers.get('x')?.format).toBe('anthropic');
  });
});

describe('cloud formats', () => {
  it('azure (with its deployment map) and gemini providers are read', () => {
    const r = buildRegistry({
      defaults: DEFAULTS,
      file: { providers: {
        az: { format: 'azure', base_url: 'https://res.openai.azure.example.test/', api_keys: ['azure-test-fake'], deployments: { 'prod-chat': 'gpt-4o' } },
        gem: { format: 'gemini', base_url: 'https://generativelanguage.example.test' },
      } },
    });
    expect(r.providers.get('az')).toMatchObject({ format: 'azure', baseUrl: 'https://res.openai.azure.example.test', deployments: { 'prod-chat': 'gpt-4o' } });
    expect(r.providers.get('gem')).toMatchObject({ format: 'gemini', baseUrl: 'https://generativelanguage.example.test' });
  });
});

describe('invalid configurations fail at load with a message naming the field', () => {
  const bad: [string, unknown, NodeJS.ProcessEnv, RegExp][] = [
    ['format', { providers: { a: { format: 'cohere', base_url: 'https://a.example.test' } } }, {}, /providers\.a\.format/],
    ['deployments', { providers: { a: { format: 'azure', base_url: 'https://a.example.test', deployments: { d: '' } } } }, {}, /providers\.a\.deployments\.d/],
    ['base_url', { providers: { a: { base_url: 'ftp://a.example.test' } } }, {}, /providers\.a\.base_url: must be an http/],
    ['missing base_url', { providers: { a: {} } }, {}, /providers\.a has no base_url .*A_BASE_URL/],
    ['both key kinds', { providers: { a: { base_url: 'https://a.example.test', api_keys: ['k'], api_key_env: 'K' } } }, {}, /not both/],
    ['unset key env', { providers: { a: { base_url: 'https://a.example.test', api_key_env: 'NOT_SET_ANYWHERE' } } }, {}, /NOT_SET_ANYWHERE, which is not set/],
    ['unknown field', { providers: { a: { base_url: 'https://a.example.test', apikey: 'x' } } }, {}, /providers\.a.*apikey/],
    ['provider name', { providers: { 'Bad Name': { base_url: 'https://a.example.test' } } }, {}, /provider names are lower-case/],
    ['alias to nowhere', { model_aliases: { fast: 'nope:gpt' } }, {}, /model_aliases\.fast -> "nope:gpt" names no provider/],
    ['alias cycle', { providers: { a: { base_url: 'https://a.example.test' } }, model_aliases: { x: 'y', y: 'x' } }, {}, /cycle: x -> y -> x/],
    ['fallback to nowhere', { fallbacks: { 'openai:gpt-4o': ['nope:x'] } }, {}, /fallbacks\.openai:gpt-4o entry "nope:x"/],
    ['bad env format', { providers: { a: { base_url: 'https://a.example.test' } } }, { A_API_FORMAT: 'cohere' }, /A_API_FORMAT/],
    ['default with the wrong format', { providers: { openai: { format: 'anthropic', base_url: 'https://a.example.test' } } }, {}, /providers\.openai must have format openai/],
  ];
  for (const [name, file, env, message] of bad) {
    it(name, () => {
      let err: unknown;
      try {
        buildRegistry({ file, env, defaults: DEFAULTS });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RoutingConfigError);
      expect((err as Error).message).toMatch(message);
    });
  }

  it('never puts a key in an error message', () => {
    const file = { providers: { a: { base_url: 'nope', api_keys: ['sk-test-fake-secret-123'] } } };
    expect(() => buildRegistry({ file, defaults: DEFAULTS })).toThrow(RoutingConfigError);
    try {
      buildRegistry({ file, defaults: DEFAULTS });
    } catch (e) {
      expect((e as Error).message).not.toContain('sk-test-fake-secret-123');
    }
  });
});
