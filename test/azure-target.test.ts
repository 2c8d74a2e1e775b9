/**
 * An Azure OpenAI provider of the routing file (`format: azure`, `deployments`) as the target of
 * OpenAI Chat clients (the same wire format: only the model is spliced) and of Anthropic
 * Messages clients (translated): the official SDKs through the proxy against the mock Azure
 * resource, which checks the deployment path, `api-version` and `api-key`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MockAzureOpenAI } from '../src/mock/azure.js';
import { priceFor } from '../src/providers/pricing.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';
import { getJson } from './helpers/http.js';

type Json = Record<string, any>;
const KEY = 'azure-test-fake-key-0000000000000000';

let h: Harness;
let azure: MockAzureOpenAI;
let dir: string;
let openai: OpenAI;

beforeAll(async () => {
  azure = new MockAzureOpenAI({ apiKeys: [KEY], deployments: { 'prod-chat': 'gpt-4o-2024-11-20', mini: 'gpt-4o-mini' } });
  await azure.start();
  dir = mkdtempSync(join(tmpdir(), 'headroom-aztarget-'));
  const file = join(dir, 'routing.yaml');
  writeFileSync(
    file,
    [
      'providers:',
      `  az: { format: azure, base_url: "${azure.url}/openai", deployments: { prod-chat: gpt-4o }, api_keys: [${KEY}] }`,
      `  azpass: { format: azure, base_url: "${azure.url}" }`,
      'model_aliases:',
      '  "gpt-4o": az:gpt-4o',
      '  "claude-*": az:prod-chat',
      '',
    ].join('\n'),
  );
  h = await startHarness({ config: { routingConfig: file, retryMaxAttempts: 1 } });
  openai = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0 });
});
afterAll(async () => {
  await h.close();
  await azure.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await h.reset();
  azure.requests.length = 0;
});

describe('Azure OpenAI as a routing target', () => {
  it('an OpenAI client: the deployment path with api-version and api-key, the body as sent but the model; stream and not; Azure prices', async () => {
    const c = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    expect(c.model).toBe('gpt-4o-2024-11-20');
    expect(c.choices[0]!.message.content).toContain('mock reply');
    const q = azure.requests[0]!;
    expect(q.path).toBe('/openai/deployments/prod-chat/chat/completions');
    expect(q.search).toBe('?api-version=2024-10-21');
    expect(q.headers['api-key']).toBe(KEY);
    expect(q.headers.authorization).toBeUndefined();
    expect(q.json).toEqual({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });

    const stream = await openai.chat.completions.create({ model: 'azpass:mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] }, { headers: { authorization: `Bearer ${KEY}` } });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const ch of stream) {
      text += ch.choices[0]?.delta.content ?? '';
      if (ch.usage) usage = ch.usage;
    }
    expect(text).toContain('mock reply');
    // no server-side key: the client's Bearer key is sent as api-key; the deployment named directly
    const q2 = azure.requests[1]!;
    expect(q2.path).toBe('/openai/deployments/mini/chat/completions');
    expect(q2.headers['api-key']).toBe(KEY);
    expect(q2.headers.authorization).toBeUndefined();
    expect(q2.json!.model).toBe('mini');

    const [o1, o2] = await h.waitForOutcomes(2);
    expect(o1!.ext.routing).toMatchObject({ provider: 'az', model: 'gpt-4o', translated: false, format: 'azure' });
    expect(o1!.ext.translation).toBeUndefined();
    expect(o1!.model).toBe('gpt-4o-2024-11-20');
    expect(o2!.usage!.input).toBe(usage!.prompt_tokens);
    const stats = (await getJson(`${h.url}/stats`)) as Json;
    const m = stats.cost.per_model['gpt-4o-2024-11-20'];
    expect(m.price_fallback).toBe(false);
    const p = priceFor('azure.ai.openai', 'gpt-4o-2024-11-20');
    expect(m.input_cost_usd).toBeCloseTo((o1!.usage!.uncached * p.input + o1!.usage!.cacheRead * p.cacheRead) / 1e6, 6);
  });

  it('errors in the OpenAI shape: a refused client key (401), an unknown deployment (404)', async () => {
    const bad = await openai.chat.completions.create({ model: 'azpass:mini', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(azure.requests[0]!.headers['api-key']).toBe(FAKE_OPENAI_KEY);
    const missing = await openai.chat.completions.create({ model: 'az:no-such-deployment', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect((missing as InstanceType<typeof OpenAI.APIError>).code).toBe('DeploymentNotFound');
  });

  it('an Anthropic client is translated and reaches the deployment path with api-key', async () => {
    const anthropic = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0 });
    const msg = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, system: 'Be brief.', messages: [{ role: 'user', content: 'hi' }] });
    expect(msg.type).toBe('message');
    expect((msg.content[0] as Anthropic.TextBlock).text).toContain('mock reply');
    const q = azure.requests[0]!;
    expect(q.path).toBe('/openai/deployments/prod-chat/chat/completions');
    expect(q.search).toBe('?api-version=2024-10-21');
    expect(q.headers['api-key']).toBe(KEY);
    expect(q.headers['x-api-key']).toBeUndefined();
    expect((q.json!.messages as Json[])[0]).toEqual({ role: 'system', content: 'Be brief.' });
    const [o] = await h.waitForOutcomes(1);
    expect(o!.ext.translation).toMatchObject({ from: 'anthropic', to: 'azure' });
  });
});
