/**
 * Virtual keys with the provider registry: a provider with `api_keys` gets the registry's key,
 * a provider without keys gets no credential at all (a local server), a key the routing link
 * moved to another format's header is still the client's and is dropped, and a key limited to
 * some providers is refused the others (403 in the client's shape) without an upstream call.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createControlsPlugin } from '../src/capabilities/controls/plugin.js';
import { generateKey, hashKey } from '../src/capabilities/controls/keys/secret.js';
import { defaultPlugins } from '../src/compose/proxy.js';
import type { RawValue } from '../src/config/field.js';
import { MockUpstream, type RecordedRequest } from '../src/mock/upstream.js';
import { type Harness, startHarness } from './helpers/harness.js';
import { send } from './helpers/http.js';

const REGISTRY_KEY = 'sk-proj-FAKEregistryKEY3333333333333333';
const ANY = generateKey();
const ONLY_OAI = generateKey();

let h: Harness;
let oai: MockUpstream;
let local: MockUpstream;
let anth2: MockUpstream;
let dir: string;

const headersOf = (reqs: readonly RecordedRequest[]) => reqs.map((r) => r.rawHeaders.join('\n')).join('\n');
const client = (key: string) => new OpenAI({ apiKey: key, baseURL: `${h.url}/v1`, maxRetries: 0 });
const ask = (model: string) => ({ model, messages: [{ role: 'user' as const, content: 'hello' }] });

beforeAll(async () => {
  oai = new MockUpstream();
  local = new MockUpstream();
  anth2 = new MockUpstream();
  await Promise.all([oai.start(), local.start(), anth2.start()]);
  dir = mkdtempSync(join(tmpdir(), 'headroom-vkeys-routing-'));
  const file = join(dir, 'routing.yaml');
  writeFileSync(file, [
    'providers:',
    `  oai: { format: openai, base_url: "${oai.url}/v1", api_keys: [${REGISTRY_KEY}] }`,
    `  local: { format: openai, base_url: "${local.url}/v1" }`,
    `  anth2: { format: anthropic, base_url: "${anth2.url}" }`,
    '',
  ].join('\n'));
  const keys = [{ name: 'any', hash: hashKey(ANY) }, { name: 'only-oai', hash: hashKey(ONLY_OAI), providers: ['oai'] }];
  const plugins = defaultPlugins().map((p) => (p.name === 'controls' ? createControlsPlugin({ env: {} }) : p));
  h = await startHarness({ config: { routingConfig: file, keys: keys as unknown as RawValue }, plugins });
});
afterAll(async () => {
  await h.close();
  await Promise.all([oai.close(), local.close(), anth2.close()]);
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await h.reset();
  for (const m of [oai, local, anth2]) m.reset();
});

describe('virtual keys and the provider registry', () => {
  it('a registry provider with api_keys: its key goes upstream, the virtual key does not', async () => {
    const r = await client(ANY).chat.completions.create(ask('oai:gpt-4o'));
    expect(r.choices[0]?.message.content).toContain('mock reply');
    expect(oai.requests).toHaveLength(1);
    expect(oai.requests[0]!.headers.authorization).toBe(`Bearer ${REGISTRY_KEY}`);
    expect(headersOf(oai.requests)).not.toContain(ANY);
    const [o] = await h.waitForOutcomes(1);
    expect(o!.ext.virtualKey).toBe('any');
  });

  it('a registry provider without keys (a local server): no credential at all goes upstream', async () => {
    await client(ANY).chat.completions.create(ask('local:qwen3'));
    expect(local.requests).toHaveLength(1);
    const sent = local.requests[0]!.headers;
    expect(sent.authorization).toBeUndefined();
    expect(sent['x-api-key']).toBeUndefined();
    expect(headersOf(local.requests)).not.toContain(ANY);
  });

  it('a client key the routing link moved to another format\'s header is still dropped', async () => {
    // an OpenAI client to an Anthropic-format provider without keys: routing would send the client's key as x-api-key
    await send(`${h.url}/v1/chat/completions`, { body: JSON.stringify(ask('anth2:claude-x')), headers: { authorization: `Bearer ${ANY}` } });
    expect(anth2.requests.length).toBeGreaterThanOrEqual(1);
    expect(anth2.requests[0]!.headers['x-api-key']).toBeUndefined();
    expect(headersOf(anth2.requests)).not.toContain(ANY);
  });

  it('a key limited to some providers is refused the others with 403, without an upstream call', async () => {
    const err = await client(ONLY_OAI).chat.completions.create(ask('local:qwen3')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect((err as InstanceType<typeof OpenAI.PermissionDeniedError>).message).toContain('The virtual key "only-oai" may not use provider "local" (allowed: oai).');
    expect(local.requests).toHaveLength(0);
    const [o] = await h.waitForOutcomes(1);
    expect(o!.status).toBe(403);
    expect(o!.errorType).toBe('unauthorized');
    await client(ONLY_OAI).chat.completions.create(ask('oai:gpt-4o'));
    expect(oai.requests).toHaveLength(1);
  });

  it('a bare model routed to the default openai provider without OPENAI_API_KEY is refused, naming the variable', async () => {
    const err = await client(ANY).chat.completions.create(ask('gpt-4o')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect((err as Error).message).toContain('set OPENAI_API_KEY');
    expect(h.mock.requests).toHaveLength(0);
  });
});
