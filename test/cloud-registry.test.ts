/**
 * Every cloud platform on the one provider registry file (`--routing-config`) and its reload:
 * a Bedrock entry signs calls (the mock recomputes SigV4) and a changed region and secret take
 * effect on `POST /admin/reload` and on SIGHUP of the CLI, without a restart; an Azure entry
 * with `deployments` serves the official AzureOpenAI client with the proxy's keys (rotating
 * past a refused one); a Gemini entry serves generateContent with its key.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AzureOpenAI } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockAzureOpenAI } from '../src/mock/azure.js';
import { MockBedrock } from '../src/mock/bedrock.js';
import { MockGemini } from '../src/mock/gemini.js';
import { post } from './helpers/cloud.js';
import { startChildProxy } from './helpers/child-proxy.js';
import { type Harness, startHarness } from './helpers/harness.js';
import { getJson, send } from './helpers/http.js';

const AKID = 'AKIDTESTFAKE0000000';
const SECRET = 'test-fake-secret-key-not-real-0000000000';
const WRONG_SECRET = 'test-fake-secret-key-wrong-111111111111';
const INVOKE = '/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke';
const BODY = { anthropic_version: 'bedrock-2023-05-31', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] };

let dir: string;
let bedrock: MockBedrock;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'headroom-cloud-registry-'));
  // the mock accepts only this key pair, signed for eu-west-1
  bedrock = new MockBedrock({ accessKeyId: AKID, secretAccessKey: SECRET, region: 'eu-west-1' });
  await bedrock.start();
});
afterAll(async () => {
  await bedrock.close();
  rmSync(dir, { recursive: true, force: true });
});

const lastBedrock = () => bedrock.requests[bedrock.requests.length - 1]!;

const bedrockFile = (region: string, secret: string) =>
  `providers:\n  aws: { format: bedrock, region: ${region}, base_url: "${bedrock.url}", access_key_id: ${AKID}, secret_access_key: ${secret} }\n`;

describe('a Bedrock entry of the --routing-config file', () => {
  let h: Harness;
  let file: string;
  beforeAll(async () => {
    file = join(dir, 'bedrock.yaml');
    writeFileSync(file, bedrockFile('us-west-2', WRONG_SECRET));
    h = await startHarness({ config: { routingConfig: file } });
  });
  afterAll(() => h.close());

  it('signs the calls; a new region and secret apply after POST /admin/reload', async () => {
    bedrock.requests.length = 0;
    const before = await post(`${h.url}${INVOKE}`, BODY);
    // signed by the proxy with the file's (wrong) secret and region: Bedrock's own refusal
    expect(before.status).toBe(403);
    expect(String(lastBedrock().headers.authorization)).toMatch(new RegExp(`^AWS4-HMAC-SHA256 Credential=${AKID}/\\d{8}/us-west-2/bedrock/aws4_request`));

    writeFileSync(file, bedrockFile('eu-west-1', SECRET));
    const reloaded = await send(`${h.url}/admin/reload`, { method: 'POST' });
    expect(reloaded.status).toBe(200);
    const after = await post(`${h.url}${INVOKE}`, BODY, { 'x-headroom-provider': 'aws' });
    expect(after.status, after.body.toString()).toBe(200);
    expect(lastBedrock().auth).toBe('sigv4');
    expect(String(lastBedrock().headers.authorization)).toContain('/eu-west-1/bedrock/aws4_request');
    expect(lastBedrock().headers['x-headroom-provider']).toBeUndefined();
    expect(h.logs.join('')).toContain('cloud providers reloaded');
    expect(h.logs.join('')).not.toContain(SECRET);
  });
});

describe('SIGHUP on the CLI with --routing-config', () => {
  it('re-reads the Bedrock entry without a restart', async () => {
    const file = join(dir, 'hup.yaml');
    writeFileSync(file, bedrockFile('eu-west-1', WRONG_SECRET));
    const p = await startChildProxy(['--routing-config', file]);
    try {
      expect((await post(`${p.url}${INVOKE}`, BODY)).status).toBe(403);
      writeFileSync(file, bedrockFile('eu-west-1', SECRET));
      p.child.kill('SIGHUP');
      const deadline = Date.now() + 10_000;
      while (!p.output().includes('cloud providers reloaded') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const r = await post(`${p.url}${INVOKE}`, BODY);
      expect(r.status, r.body.toString()).toBe(200);
      expect(lastBedrock().auth).toBe('sigv4');
      expect(p.child.exitCode).toBeNull();
    } finally {
      await p.close();
    }
  });
});

describe('Azure OpenAI and Gemini entries of the registry', () => {
  const CLIENT_KEY = 'azure-test-fake-client-key-0000000000';
  const REFUSED_KEY = 'azure-test-fake-revoked-key-22222222';
  const REFUSED_KEY_2 = 'azure-test-fake-revoked-key-44444444';
  const PROXY_KEY = 'azure-test-fake-proxy-key-11111111111';
  const BAD_GEMINI_KEY = 'gemini-test-fake-invalid-key-5555555';
  const GEMINI_KEY = 'gemini-test-fake-proxy-key-1111111111';
  const FLAG_GEMINI_KEY = 'gemini-test-fake-flag-key-3333333333';
  let azure: MockAzureOpenAI;
  let gemini: MockGemini;
  let flagGemini: MockGemini;
  let h: Harness;

  beforeAll(async () => {
    azure = new MockAzureOpenAI({ apiKeys: [PROXY_KEY], deployments: { 'prod-chat': 'gpt-4o-2024-11-20' } });
    gemini = new MockGemini({ apiKeys: [GEMINI_KEY] });
    flagGemini = new MockGemini({ apiKeys: [FLAG_GEMINI_KEY] });
    await Promise.all([azure.start(), gemini.start(), flagGemini.start()]);
    const file = join(dir, 'azgem.yaml');
    writeFileSync(
      file,
      [
        'providers:',
        `  az: { format: azure, base_url: "${azure.url}", api_keys: [${REFUSED_KEY}, ${PROXY_KEY}], deployments: { prod-chat: gpt-4o } }`,
        `  az2: { format: azure, base_url: "${azure.url}", api_keys: [${REFUSED_KEY}, ${REFUSED_KEY_2}] }`,
        `  gem: { format: gemini, base_url: "${gemini.url}", api_key_env: TEST_GEMINI_KEYS }`,
        // a catch-all route for Anthropic/OpenAI clients: a platform's own paths are not routed by it
        'model_aliases:',
        '  "*": gem:gemini-2.5-flash',
        '',
      ].join('\n'),
    );
    // two keys in one variable: the first is not valid (Gemini answers 400 API_KEY_INVALID)
    process.env.TEST_GEMINI_KEYS = `${BAD_GEMINI_KEY} ${GEMINI_KEY}`;
    // the flags point elsewhere: the registry entries win
    h = await startHarness({ config: { routingConfig: file, geminiApiUrl: flagGemini.url, geminiApiKey: FLAG_GEMINI_KEY } });
  });
  afterAll(async () => {
    delete process.env.TEST_GEMINI_KEYS;
    await h.close();
    await Promise.all([azure.close(), gemini.close(), flagGemini.close()]);
  });

  it('the AzureOpenAI client is served with the proxy\'s key (past a refused one), priced by the entry\'s deployments', async () => {
    await h.reset();
    const client = new AzureOpenAI({ endpoint: h.url, apiVersion: '2024-10-21', apiKey: CLIENT_KEY, maxRetries: 0 });
    const res = await client.chat.completions.create({ model: 'prod-chat', messages: [{ role: 'user', content: 'hello azure' }] });
    expect(res.choices[0]!.message.content).toContain('mock reply');
    // first key of the pool: refused with 401, then the next key
    expect(azure.requests.map((r) => r.headers['api-key'])).toEqual([REFUSED_KEY, PROXY_KEY]);
    expect(azure.last!.path).toBe('/openai/deployments/prod-chat/chat/completions');
    const [o] = await h.waitForOutcomes(1);
    expect(o!.provider).toBe('azure.ai.openai');
    expect(o!.ok).toBe(true);
    expect(o!.model).toBe('gpt-4o');
    const stats = await getJson(`${h.url}/stats`);
    expect(stats.cost.per_model['gpt-4o'].provider).toBe('azure.ai.openai');
    // the next request starts at the next key (round robin): no refusal
    azure.requests.length = 0;
    await client.chat.completions.create({ model: 'prod-chat', messages: [{ role: 'user', content: 'again' }] });
    expect(azure.requests.map((r) => r.headers['api-key'])).toEqual([PROXY_KEY]);
    expect(h.logs.join('')).not.toContain(PROXY_KEY);
  });

  it('x-headroom-provider picks another entry; when every key is refused the client gets Azure\'s 401', async () => {
    azure.requests.length = 0;
    const client = new AzureOpenAI({ endpoint: h.url, apiVersion: '2024-10-21', apiKey: CLIENT_KEY, maxRetries: 0, defaultHeaders: { 'x-headroom-provider': 'az2' } });
    const err = (await client.chat.completions.create({ model: 'prod-chat', messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e)) as any;
    expect(err.status).toBe(401);
    expect(err.error.code).toBe('401');
    expect(azure.requests.map((r) => r.headers['api-key']).sort()).toEqual([REFUSED_KEY, REFUSED_KEY_2].sort());
    expect(azure.requests.every((r) => r.headers['x-headroom-provider'] === undefined)).toBe(true);
    expect(h.logs.join('')).not.toContain(REFUSED_KEY_2);
  });

  it('generateContent goes to the Gemini entry with its key, not to the flags\' endpoint', async () => {
    const res = await fetch(`${h.url}/v1beta/models/gemini-2.5-flash:generateContent?key=client-fake-key`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hello gemini' }] }] }),
    });
    const body = (await res.json()) as any;
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.candidates[0].content.parts[0].text).toContain('mock reply');
    // the first key of the variable is refused (400 API_KEY_INVALID): the next one answers
    expect(gemini.requests.map((r) => r.headers['x-goog-api-key'])).toEqual([BAD_GEMINI_KEY, GEMINI_KEY]);
    expect(gemini.last!.headers['x-goog-api-key']).toBe(GEMINI_KEY);
    expect(gemini.last!.search).not.toContain('key=');
    expect(flagGemini.requests).toHaveLength(0);
  });
});
