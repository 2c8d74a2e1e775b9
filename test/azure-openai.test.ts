/**
 * Azure OpenAI through the proxy: the official `AzureOpenAI` client (chat, streaming,
 * responses; `api-key` and Entra ID bearer) against a mock Azure resource that checks the
 * key and `api-version`; usage, the mapped deployment's model and Azure prices in /stats;
 * compression of a tool output; the proxy's own key; Azure-shaped errors.
 */
import { AzureOpenAI } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AZURE_BAD_KEY_MESSAGE, MockAzureOpenAI } from '../src/mock/azure.js';
import { generateOutput } from '../src/mock/agent-outputs.js';
import { priceFor } from '../src/providers/pricing.js';
import { type Harness, startHarness } from './helpers/harness.js';
import { getJson } from './helpers/http.js';

const CLIENT_KEY = 'azure-test-fake-key-0000000000000000';
const ENTRA_TOKEN = 'entra-test-fake-token-000000000000';
const PROXY_KEY = 'azure-test-fake-proxy-key-11111111111';
const API_VERSION = '2024-10-21';

let azure: MockAzureOpenAI;
let h: Harness;

beforeAll(async () => {
  azure = new MockAzureOpenAI({
    apiKeys: [CLIENT_KEY],
    bearerTokens: [ENTRA_TOKEN],
    // what the resource reports for each deployment
    deployments: { 'prod-chat': 'gpt-4o-2024-11-20', mini: 'gpt-4o-mini' },
  });
  await azure.start();
  h = await startHarness({ config: { azureOpenaiApiUrl: azure.url, azureDeployments: 'prod-chat=gpt-4o' } });
});
afterAll(async () => {
  await h.close();
  await azure.close();
});
beforeEach(async () => {
  await h.reset();
  azure.requests.length = 0;
});

const client = (opts: { apiKey?: string; token?: string } = { apiKey: CLIENT_KEY }) =>
  new AzureOpenAI({
    endpoint: h.url,
    apiVersion: API_VERSION,
    maxRetries: 0,
    ...(opts.token ? { azureADTokenProvider: async () => opts.token! } : { apiKey: opts.apiKey! }),
  });

const cost = (s: any, model: string) => s.cost.per_model[model];

describe('AzureOpenAI client through the proxy', () => {
  it('chat: the deployment path with api-version reaches the resource; usage and the mapped model are priced', async () => {
    const res = await client().chat.completions.create({ model: 'prod-chat', messages: [{ role: 'user', content: 'hello azure' }] });
    expect(res.choices[0]!.message.content).toContain('mock reply');
    expect(res.model).toBe('gpt-4o-2024-11-20');
    const seen = azure.last!;
    expect(seen.path).toBe('/openai/deployments/prod-chat/chat/completions');
    expect(seen.search).toBe(`?api-version=${API_VERSION}`);
    expect(seen.headers['api-key']).toBe(CLIENT_KEY);
    const [o] = await h.waitForOutcomes(1);
    expect(o!.provider).toBe('azure.ai.openai');
    expect(o!.api).toBe('chat');
    expect(o!.ok).toBe(true);
    // the deployment map names the model (the response's dated name is not what the map says)
    expect(o!.model).toBe('gpt-4o');
    expect(o!.usage!.input).toBe(res.usage!.prompt_tokens);
    expect(o!.usage!.output).toBe(res.usage!.completion_tokens);
    const stats = await getJson(`${h.url}/stats`);
    const m = cost(stats, 'gpt-4o');
    expect(m.provider).toBe('azure.ai.openai');
    expect(m.price_fallback).toBe(false);
    const price = priceFor('azure.ai.openai', 'gpt-4o');
    expect(m.input_cost_usd).toBeCloseTo((res.usage!.prompt_tokens * price.input) / 1e6, 6);
    expect(m.output_cost_usd).toBeCloseTo((res.usage!.completion_tokens * price.output) / 1e6, 6);
    expect(stats.requests.by_provider['azure.ai.openai']).toBe(1);
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toMatch(/headroom_requests_by_provider\{provider="azure\.ai\.openai"\} 1/);
  });

  it('chat streaming with include_usage, Entra ID bearer passed through; an unmapped deployment is priced as the model the response reports', async () => {
    const stream = await client({ token: ENTRA_TOKEN }).chat.completions.create({
      model: 'mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'stream please' }],
    });
    let text = '';
    let usage: any;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toContain('mock reply');
    expect(azure.last!.headers.authorization).toBe(`Bearer ${ENTRA_TOKEN}`);
    expect(azure.last!.headers['api-key']).toBeUndefined();
    const [o] = await h.waitForOutcomes(1);
    expect(o!.stream).toBe(true);
    expect(o!.usage!.source).toBe('sse');
    expect(o!.usage!.input).toBe(usage.prompt_tokens);
    expect(o!.model).toBe('gpt-4o-mini');
    expect(o!.requestedModel).toBe('mini');
    const stats = await getJson(`${h.url}/stats`);
    expect(cost(stats, 'gpt-4o-mini').provider).toBe('azure.ai.openai');
    expect(cost(stats, 'gpt-4o-mini').input_cost_usd).toBeGreaterThan(0);
  });

  it('responses, streamed and not (the body names the deployment)', async () => {
    const c = client();
    const r = await c.responses.create({ model: 'prod-chat', input: 'summarise the build' });
    expect(r.output_text).toContain('mock reply');
    expect(azure.last!.path).toBe('/openai/responses');
    expect(azure.last!.search).toBe(`?api-version=${API_VERSION}`);
    const s = await c.responses.create({ model: 'mini', input: 'and stream it', stream: true });
    let done: any = null;
    for await (const ev of s) if (ev.type === 'response.completed') done = ev.response;
    expect(done).not.toBeNull();
    const [o1, o2] = await h.waitForOutcomes(2);
    expect(o1!.api).toBe('responses');
    expect(o1!.provider).toBe('azure.ai.openai');
    expect(o1!.model).toBe('gpt-4o');
    expect(o1!.usage!.input).toBe(r.usage!.input_tokens);
    expect(o2!.usage!.output).toBe(done.usage.output_tokens);
    expect(o2!.model).toBe('gpt-4o-mini');
  });

  it('a large tool output is compressed before it reaches Azure', async () => {
    const log = generateOutput('build_log', 40_000, 3).text;
    const res = await client().chat.completions.create({
      model: 'prod-chat',
      tools: [{ type: 'function', function: { name: 'run_build', parameters: { type: 'object', properties: {} } } }],
      messages: [
        { role: 'user', content: 'why did the build fail?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'run_build', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: log },
      ],
    });
    expect(res.choices[0]!.message.content).toContain('mock reply');
    const [o] = await h.waitForOutcomes(1);
    expect(o!.compression.tokensSaved).toBeGreaterThan(0);
    expect(o!.modified).toBe(true);
    const sent = azure.last!.json!.messages as { content: string }[];
    expect(sent[2]!.content.length).toBeLessThan(log.length);
  });

  it('a bad key gets Azure\'s own 401 and the SDK raises AuthenticationError', async () => {
    const err = await client({ apiKey: 'azure-test-fake-wrong-key' }).chat.completions.create({ model: 'prod-chat', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
    expect(err).toBeInstanceOf(AzureOpenAI.AuthenticationError);
    expect(err.status).toBe(401);
    expect(err.error).toEqual({ code: '401', message: AZURE_BAD_KEY_MESSAGE });
    const [o] = await h.waitForOutcomes(1);
    expect(o!.ok).toBe(false);
    expect(o!.status).toBe(401);
    expect(h.logs.join('')).not.toContain('azure-test-fake-wrong-key');
  });

  it('an unknown deployment and a missing api-version are answered by the resource in its shape', async () => {
    const err = await client().chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
    expect(err.status).toBe(404);
    expect(err.error.code).toBe('DeploymentNotFound');
    const raw = await fetch(`${h.url}/openai/deployments/prod-chat/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'api-key': CLIENT_KEY }, body: JSON.stringify({ messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as any).error.code).toBe('MissingApiVersionParameter');
  });

  it('a body that is not JSON gets a 400 in Azure\'s shape from the proxy, without an upstream call', async () => {
    const raw = await fetch(`${h.url}/openai/deployments/prod-chat/chat/completions?api-version=${API_VERSION}`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'api-key': CLIENT_KEY }, body: '{not json',
    });
    expect(raw.status).toBe(400);
    const body = (await raw.json()) as any;
    expect(body.error.code).toBe('BadRequest');
    expect(body.error.message).toMatch(/Invalid JSON/);
    expect(azure.requests).toHaveLength(0);
  });
});

describe('Azure with the proxy\'s own key, and without an endpoint', () => {
  it('sends its own api-key instead of the client\'s credentials', async () => {
    const own = new MockAzureOpenAI({ apiKeys: [PROXY_KEY], deployments: { 'prod-chat': 'gpt-4o' } });
    await own.start();
    const h2 = await startHarness({ config: { azureOpenaiApiUrl: own.url, azureOpenaiApiKey: PROXY_KEY } });
    try {
      const c = new AzureOpenAI({ endpoint: h2.url, apiVersion: API_VERSION, apiKey: 'azure-test-fake-client-placeholder', maxRetries: 0 });
      const res = await c.chat.completions.create({ model: 'prod-chat', messages: [{ role: 'user', content: 'hi' }] });
      expect(res.choices[0]!.message.content).toContain('mock reply');
      expect(own.last!.headers['api-key']).toBe(PROXY_KEY);
      expect(JSON.stringify(own.last!.headers)).not.toContain('placeholder');
      await h2.waitForOutcomes(1);
      expect(h2.logs.join('')).not.toContain(PROXY_KEY);
    } finally {
      await h2.close();
      await own.close();
    }
  });

  it('no endpoint configured: 404 in Azure\'s shape, no upstream called', async () => {
    const h3 = await startHarness();
    try {
      const err = await new AzureOpenAI({ endpoint: h3.url, apiVersion: API_VERSION, apiKey: CLIENT_KEY, maxRetries: 0 })
        .chat.completions.create({ model: 'prod-chat', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
      expect(err.status).toBe(404);
      expect(err.error.code).toBe('DeploymentNotFound');
      expect(err.error.message).toMatch(/azure-openai-api-url/);
      expect(h3.mock.requests).toHaveLength(0);
    } finally {
      await h3.close();
    }
  });
});
