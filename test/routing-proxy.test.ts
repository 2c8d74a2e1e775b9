/**
 * Routing through real HTTP: the official SDKs against the proxy, the proxy against mock
 * upstreams speaking the real wire formats. Aliases, `provider:model` (first colon only),
 * wildcard routes, bare models passing untouched, unknown providers refused in the client's
 * shape, and the model link's splice (only the model's bytes change).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MockUpstream } from '../src/mock/upstream.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';

let h: Harness;
let local: MockUpstream;
let anth2: MockUpstream;
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  local = new MockUpstream();
  anth2 = new MockUpstream();
  await Promise.all([local.start(), anth2.start()]);
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'headroom-routing-'));
  const file = join(dir, 'routing.yaml');
  writeFileSync(
    file,
    [
      'providers:',
      `  local: { format: openai, base_url: "${local.url}/v1" }`,
      `  anth2: { format: anthropic, base_url: "${anth2.url}" }`,
      '  envp: {}',
      'model_aliases:',
      '  fast: local:qwen3',
      '  "gpt-routed-*": local:qwen3-coder',
      '  "claude-routed-*": anth2:claude-target-1',
      '',
    ].join('\n'),
  );
  // the environment convention completes a provider the file only names
  process.env.ENVP_BASE_URL = `${local.url}/v1`;
  process.env.ENVP_API_KEY = 'sk-test-fake-env-one sk-test-fake-env-two';
  h = await startHarness({ config: { routingConfig: file } });
  delete process.env.ENVP_BASE_URL;
  delete process.env.ENVP_API_KEY;
  openai = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0 });
  anthropic = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0 });
});
afterAll(async () => {
  await h.close();
  await Promise.all([local.close(), anth2.close()]);
});
beforeEach(async () => {
  await h.reset();
  local.reset();
  anth2.reset();
});

describe('routing: the provider a model names', () => {
  it('an alias goes to its provider with the aliased model; the default upstream is not called', async () => {
    const r = await openai.chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'hello' }] });
    expect(r.choices[0]?.message.content).toContain('mock reply');
    expect(r.model).toBe('qwen3');
    expect(local.requests).toHaveLength(1);
    expect(local.last!.path).toBe('/v1/chat/completions');
    expect(local.last!.json!.model).toBe('qwen3');
    // the client's own key passes through (no server-side keys configured)
    expect(local.last!.headers.authorization).toBe(`Bearer ${FAKE_OPENAI_KEY}`);
    expect(h.mock.requests).toHaveLength(0);
    const [o] = await h.waitForOutcomes(1);
    expect(o!.requestedModel).toBe('fast');
    expect(o!.ext.routing).toMatchObject({ requestedModel: 'fast', provider: 'local', model: 'qwen3', via: 'alias', alias: 'fast' });
    expect(o!.timing.upstreamCalls).toEqual([expect.objectContaining({ provider: 'local', model: 'qwen3', status: 200 })]);
  });

  it('provider:model splits at the first colon only, streaming included', async () => {
    const stream = await openai.chat.completions.create({ model: 'local:qwen2.5:7b', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
    expect(text).toContain('mock reply');
    expect(local.last!.json!.model).toBe('qwen2.5:7b');
    expect(h.mock.requests).toHaveLength(0);
    const [o] = await h.waitForOutcomes(1);
    expect(o!.ext.routing).toMatchObject({ provider: 'local', model: 'qwen2.5:7b', via: 'explicit' });
  });

  it('a wildcard alias routes every matching name (OpenAI and Anthropic clients)', async () => {
    await openai.chat.completions.create({ model: 'gpt-routed-mini', messages: [{ role: 'user', content: 'a' }] });
    expect(local.last!.json!.model).toBe('qwen3-coder');
    const msg = await anthropic.messages.create({ model: 'claude-routed-sonnet', max_tokens: 64, messages: [{ role: 'user', content: 'b' }] });
    expect(msg.content[0]?.type).toBe('text');
    expect(anth2.requests).toHaveLength(1);
    expect(anth2.last!.path).toBe('/v1/messages');
    expect(anth2.last!.json!.model).toBe('claude-target-1');
    expect(JSON.stringify(anth2.last!.headers)).toContain(FAKE_ANTHROPIC_KEY);
    expect(h.mock.requests).toHaveLength(0);
    const os = await h.waitForOutcomes(2);
    expect(os.map((o) => o.ext.routing?.via)).toEqual(['pattern', 'pattern']);
  });

  it('<P>_BASE_URL and <P>_API_KEY complete a provider the file names; its key replaces the client\'s', async () => {
    await openai.chat.completions.create({ model: 'envp:env-model', messages: [{ role: 'user', content: 'env' }] });
    expect(local.last!.json!.model).toBe('env-model');
    expect(local.last!.headers.authorization).toBe('Bearer sk-test-fake-env-one');
    expect(JSON.stringify(local.last!.headers)).not.toContain(FAKE_OPENAI_KEY);
  });

  it('the model link changes only the bytes of the model value', async () => {
    const body = '{"messages":[{"role":"user","content":"keep \\"model\\": these bytes"}],  "model" :  "fast" ,"max_tokens":5,"temperature":0.50}';
    const res = await fetch(`${h.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${FAKE_OPENAI_KEY}` }, body });
    expect(res.status).toBe(200);
    expect(local.last!.body.toString('utf8')).toBe(body.replace('"fast"', '"qwen3"'));
  });

  it('a bare model goes to the default upstream byte for byte, with no routing recorded', async () => {
    const body = '{"model":"gpt-4o-mini", "messages":[{"role":"user","content":"plain"}]}';
    const res = await fetch(`${h.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${FAKE_OPENAI_KEY}` }, body });
    expect(res.status).toBe(200);
    expect(local.requests).toHaveLength(0);
    expect(h.mock.last!.body.toString('utf8')).toBe(body);
    const [o] = await h.waitForOutcomes(1);
    expect(o!.ext.routing).toBeUndefined();
    expect(o!.timing.upstreamCalls[0]!.provider).toBeUndefined();
  });

  it('an unknown provider is refused in the client\'s error shape, with no upstream call', async () => {
    const err = await anthropic.messages.create({ model: 'nope:claude-x', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.NotFoundError);
    expect((err as InstanceType<typeof Anthropic.NotFoundError>).error).toMatchObject({ type: 'error', error: { type: 'not_found_error', message: expect.stringContaining('Unknown provider "nope"') } });
    const err2 = await openai.chat.completions.create({ model: 'nope:gpt', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(OpenAI.NotFoundError);
    expect(h.mock.requests.length + local.requests.length + anth2.requests.length).toBe(0);
  });
});
