/**
 * Translation through the routing file: providers of the other format named by `model_aliases`
 * (wildcards included) and `fallbacks`, with the official SDKs against mocks that speak each
 * wire format. A client always gets its own format back, also from a fallback target of the
 * other format.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MockUpstream } from '../src/mock/upstream.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';
import { rawRequest } from './helpers/http.js';

type Json = Record<string, unknown>;
let h: Harness;
let local: MockUpstream;
let anth: MockUpstream;
let dir: string;
let anthropic: Anthropic;
let openai: OpenAI;

beforeAll(async () => {
  local = new MockUpstream();
  anth = new MockUpstream();
  await Promise.all([local.start(), anth.start()]);
  dir = mkdtempSync(join(tmpdir(), 'headroom-xlate-routing-'));
  const file = join(dir, 'routing.yaml');
  writeFileSync(
    file,
    [
      'providers:',
      `  local: { format: openai, base_url: "${local.url}/v1" }`,
      `  anth: { format: anthropic, base_url: "${anth.url}" }`,
      'model_aliases:',
      '  "claude-*": local:qwen3:8b',
      '  "gpt-*": anth:claude-target-4-5',
      'fallbacks:',
      '  "anth:claude-primary": [local:qwen3-fallback]',
      '',
    ].join('\n'),
  );
  h = await startHarness({ config: { routingConfig: file, retryMaxAttempts: 1 } });
  anthropic = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0 });
  openai = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0 });
});
afterAll(async () => {
  await h.close();
  await Promise.all([local.close(), anth.close()]);
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await h.reset();
  local.reset();
  anth.reset();
});

const anthTools: Anthropic.Tool[] = [{ name: 'run_tests', description: 'Run the tests', input_schema: { type: 'object', properties: { query: { type: 'string' } } } }];

describe('translation through the routing file', () => {
  it('claude-* -> an OpenAI-format provider: the Anthropic SDK streams a tool call back; the outcome shows the resolved provider and model', async () => {
    const stream = anthropic.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 2048, system: 'Be careful.', tools: anthTools, messages: [{ role: 'user', content: 'Run the tests.' }] });
    const msg = await stream.finalMessage();
    expect(msg.model).toBe('qwen3:8b');
    expect(msg.stop_reason).toBe('tool_use');
    expect(msg.content.find((b) => b.type === 'tool_use')).toMatchObject({ name: 'run_tests', input: { query: 'status of the build' } });
    expect(h.mock.requests).toHaveLength(0);
    expect(local.requests).toHaveLength(1);
    const q = local.requests[0]!;
    expect(q.path).toBe('/v1/chat/completions');
    expect(q.json).toMatchObject({ model: 'qwen3:8b', max_tokens: 2048, stream: true, stream_options: { include_usage: true } });
    expect((q.json!.messages as Json[])[0]).toEqual({ role: 'system', content: 'Be careful.' });
    expect(q.headers.authorization).toBe(`Bearer ${FAKE_ANTHROPIC_KEY}`);
    expect(q.headers['x-api-key']).toBeUndefined();

    const [o] = await h.waitForOutcomes(1);
    expect(o!.ok).toBe(true);
    expect(o!.requestedModel).toBe('claude-sonnet-4-5');
    expect(o!.model).toBe('qwen3:8b');
    expect(o!.ext.routing).toMatchObject({ provider: 'local', model: 'qwen3:8b', translated: true });
    expect(o!.ext.translation).toMatchObject({ from: 'anthropic', to: 'openai' });
    expect(o!.timing.upstreamCalls[0]).toMatchObject({ provider: 'local', model: 'qwen3:8b', status: 200 });
    expect(o!.usage!.input).toBeGreaterThan(0);
    expect(o!.usage!.output).toBe(msg.usage.output_tokens);
  });

  it('gpt-* -> an Anthropic-format provider: the OpenAI SDK gets a completion, stream and not', async () => {
    const c = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    expect(c.object).toBe('chat.completion');
    expect(c.choices[0]!.message.content).toContain('mock reply');
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const ch of stream) {
      text += ch.choices[0]?.delta.content ?? '';
      if (ch.usage) usage = ch.usage;
    }
    expect(text).toContain('mock reply');
    expect(usage!.prompt_tokens).toBeGreaterThan(0);
    expect(anth.requests.map((q) => [q.path, q.json!.model, q.headers['x-api-key'], q.headers['anthropic-version']])).toEqual([
      ['/v1/messages', 'claude-target-4-5', FAKE_OPENAI_KEY, '2023-06-01'],
      ['/v1/messages', 'claude-target-4-5', FAKE_OPENAI_KEY, '2023-06-01'],
    ]);
    const os = await h.waitForOutcomes(2);
    expect(os[1]!.usage!.input).toBe(usage!.prompt_tokens);
  });

  it('a fallback of the other format: the primary Anthropic-format provider fails 503, the OpenAI-format fallback answers in Anthropic format', async () => {
    anth.enqueue('status:503', 'status:503', 'status:503', 'status:503');
    const msg = await anthropic.messages.create({ model: 'anth:claude-primary', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
    expect(msg.type).toBe('message');
    expect((msg.content[0] as Anthropic.TextBlock).text).toContain('mock reply');
    expect(anth.requests.length).toBeGreaterThan(0);
    expect(anth.requests.every((q) => q.path === '/v1/messages')).toBe(true);
    expect(local.requests).toHaveLength(1);
    expect(local.requests[0]!.json!.model).toBe('qwen3-fallback');
    const [o] = await h.waitForOutcomes(1);
    expect(o!.ok).toBe(true);
    expect(o!.ext.routing!.attempts.map((a) => [a.provider, a.status])).toEqual([
      ['anth', 503],
      ['local', 200],
    ]);
  });

  it('upstream errors of a routed, translated model keep their status in the client shape', async () => {
    const err = await anthropic.messages
      .create({ model: 'claude-sonnet-4-5', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-mock-scenario': 'status:401' } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((err as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    const oerr = await openai.chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-mock-scenario': 'status:400' } })
      .catch((e: unknown) => e);
    expect(oerr).toBeInstanceOf(OpenAI.BadRequestError);
    expect((oerr as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ message: 'mock upstream failure (HTTP 400)', type: 'invalid_request_error' });
  });

  it('/stats counts translated requests with their usage', async () => {
    const before = (await rawRequest(`${h.url}/stats`)).json<Json>();
    const msg = await anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hello' }] });
    await h.waitForOutcomes(1);
    const after = (await rawRequest(`${h.url}/stats`)).json<Json>();
    type Counts = { total: number; by_model: Record<string, number>; by_requested_model: Record<string, number>; by_route: Record<string, number>; by_routed_provider: Record<string, number> };
    const r0 = before.requests as Counts;
    const r1 = after.requests as Counts;
    const delta = (k: Exclude<keyof Counts, 'total'>, key: string) => (r1[k][key] ?? 0) - (r0[k]?.[key] ?? 0);
    expect(r1.total - r0.total).toBe(1);
    // the model that answered, beside the one asked for and the route between them
    expect(delta('by_model', 'qwen3:8b')).toBe(1);
    expect(delta('by_requested_model', 'claude-haiku-4-5')).toBe(1);
    expect(delta('by_route', 'claude-haiku-4-5 -> local:qwen3:8b')).toBe(1);
    expect(delta('by_routed_provider', 'local')).toBe(1);
    const t0 = before.tokens as { input: number };
    const t1 = after.tokens as { input: number };
    expect(t1.input - t0.input).toBe(msg.usage.input_tokens);
  });
});
