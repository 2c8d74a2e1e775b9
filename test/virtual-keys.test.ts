/**
 * Virtual keys through real HTTP: the official SDKs hold keys the proxy issued (`keys:`), the
 * mock upstream records what it received. Unknown and missing keys get 401 in each provider's
 * shape with nothing forwarded; a known key goes out with the proxy's server-side key and the
 * virtual key never reaches the upstream; models and providers a key may not use get 403;
 * per-key budgets and RPM are enforced; `/stats` breaks spend down by key name; the proxy
 * token keeps working beside them; without a `keys:` section the client's key passes through.
 */
import { request as httpRequest } from 'node:http';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { estimateRequest, reservationFor } from '../src/capabilities/controls/estimate.js';
import { createControlsPlugin } from '../src/capabilities/controls/plugin.js';
import { generateKey, hashKey } from '../src/capabilities/controls/keys/secret.js';
import { accountingOf } from '../src/capabilities/stats/accounting.js';
import { remoteStatsSchema, statsSchema } from '../src/capabilities/stats/schema.js';
import { defaultPlugins } from '../src/compose/proxy.js';
import type { RawValue } from '../src/config/field.js';
import type { ConfigKey } from '../src/config/index.js';
import type { RecordedRequest } from '../src/mock/upstream.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';
import { anthropicHeaders, send } from './helpers/http.js';

type Json = Record<string, any>;

const SERVER_ANTHROPIC = 'sk-ant-api03-FAKEserverSIDEkey1111111111111111';
const SERVER_OPENAI = 'sk-proj-FAKEserverSIDEkey2222222222222222';
const CLAUDE = 'claude-sonnet-4-5';

const KEY = {
  alice: generateKey(),
  bob: generateKey(),
  carol: generateKey(),
  dave: generateKey(),
  erin: generateKey(),
};
const ALL_VIRTUAL = Object.values(KEY);

const small = { model: CLAUDE, max_tokens: 200, messages: [{ role: 'user' as const, content: 'Summarise the build log.' }] };
const smallReservation = reservationFor('anthropic', CLAUDE, estimateRequest('messages', small as Json, 4096));

const keysSection = [
  { name: 'alice', hash: hashKey(KEY.alice) },
  { name: 'bob', hash: hashKey(KEY.bob), models: ['gpt-4o*'] },
  { name: 'carol', hash: hashKey(KEY.carol), rpm: 2 },
  { name: 'dave', hash: hashKey(KEY.dave), budget_usd: smallReservation / 2 },
  { name: 'erin', hash: hashKey(KEY.erin), providers: ['anthropic'], budget_usd: 5 },
];

function startWithKeys(config: Partial<Record<ConfigKey, RawValue>>, env: NodeJS.ProcessEnv): Promise<Harness> {
  const plugins = defaultPlugins().map((p) => (p.name === 'controls' ? createControlsPlugin({ env, budgetFlushMs: 20 }) : p));
  return startHarness({ config: { keys: keysSection as unknown as RawValue, ...config }, plugins });
}

/** Every header value the upstream received, joined: no virtual key may appear in it. */
const allHeaders = (reqs: readonly RecordedRequest[]) => reqs.map((r) => r.rawHeaders.join('\n')).join('\n');

const anthropic = (h: Harness, apiKey: string) => new Anthropic({ apiKey, baseURL: h.url, maxRetries: 0 });
const openai = (h: Harness, apiKey: string) => new OpenAI({ apiKey, baseURL: `${h.url}/v1`, maxRetries: 0 });

/** A response header of an SDK error (a `Headers` object in current SDKs). */
const header = (err: any, name: string): string | null | undefined => (typeof err.headers?.get === 'function' ? err.headers.get(name) : err.headers?.[name]);

async function caught(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

describe('virtual keys: admission and server-side keys', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startWithKeys({}, { ANTHROPIC_API_KEY: SERVER_ANTHROPIC, OPENAI_API_KEY: SERVER_OPENAI });
  });
  afterAll(() => h.close());
  beforeEach(() => h.reset());

  it('an unknown key gets 401 in the Anthropic shape and nothing is forwarded', async () => {
    const err = await caught(anthropic(h, 'hr-not-a-key-we-issued').messages.create(small));
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(err.status).toBe(401);
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    expect(err.error.error.message).toMatch(/^Invalid API key: this proxy accepts only the virtual keys it issued/);
    const [o] = await h.waitForOutcomes(1);
    expect(o!.status).toBe(401);
    expect(o!.errorType).toBe('unauthorized');
    expect(o!.ext.virtualKey).toBeUndefined();
    expect(h.mock.requests).toHaveLength(0);
  });

  it('an unknown key gets 401 in the OpenAI shape; a provider key is not a virtual key either', async () => {
    for (const key of ['hr-not-a-key-we-issued', FAKE_OPENAI_KEY]) {
      const err = await caught(openai(h, key).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }));
      expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
      expect(err.status).toBe(401);
      expect(err.error).toMatchObject({ type: 'authentication_error', code: 'invalid_api_key' });
    }
    expect(h.mock.requests).toHaveLength(0);
  });

  it('a missing key gets 401 saying how to send one', async () => {
    const r = await send(`${h.url}/v1/messages`, { body: JSON.stringify(small), headers: { 'anthropic-version': '2023-06-01' } });
    expect(r.status).toBe(401);
    expect(r.json<Json>().error.message).toMatch(/^Missing API key: .*`x-api-key`, `Authorization: Bearer` or `api-key`/);
    const passthrough = await send(`${h.url}/v1/models`);
    expect(passthrough.status).toBe(401);
    expect(h.mock.requests).toHaveLength(0);
  });

  it('Anthropic SDK with a known key: forwarded with the server-side key, the virtual key never upstream (stream and not)', async () => {
    const client = anthropic(h, KEY.alice);
    const msg = await client.messages.create(small);
    expect(msg.content[0]).toMatchObject({ type: 'text' });
    const stream = client.messages.stream({ ...small, messages: [{ role: 'user', content: 'stream it' }] });
    const final = await stream.finalMessage();
    expect(final.usage.output_tokens).toBeGreaterThan(0);
    expect(h.mock.requests).toHaveLength(2);
    for (const r of h.mock.requests) {
      expect(r.headers['x-api-key']).toBe(SERVER_ANTHROPIC);
      expect(r.headers.authorization).toBeUndefined();
    }
    expect(allHeaders(h.mock.requests)).not.toContain(KEY.alice);
    const outcomes = await h.waitForOutcomes(2);
    expect(outcomes.map((o) => o.ext.virtualKey)).toEqual(['alice', 'alice']);
    expect(JSON.stringify(outcomes)).not.toContain(KEY.alice);
    expect(JSON.stringify(outcomes)).not.toContain(hashKey(KEY.alice).slice(7));
  });

  it('OpenAI SDK with a known key (Bearer): the mock sees the proxy\'s Bearer key only', async () => {
    const res = await openai(h, KEY.alice).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] });
    expect(res.choices[0]?.message.content).toContain('mock reply');
    const [r] = h.mock.requests;
    expect(r!.headers.authorization).toBe(`Bearer ${SERVER_OPENAI}`);
    expect(r!.headers['x-api-key']).toBeUndefined();
    expect(allHeaders(h.mock.requests)).not.toContain(KEY.alice);
  });

  it('an Azure-style `api-key` header is accepted and dropped too', async () => {
    const r = await send(`${h.url}/v1/chat/completions`, { body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }), headers: { 'api-key': KEY.alice } });
    expect(r.status).toBe(200);
    const [up] = h.mock.requests;
    expect(up!.headers['api-key']).toBeUndefined();
    expect(up!.headers.authorization).toBe(`Bearer ${SERVER_OPENAI}`);
    expect(allHeaders(h.mock.requests)).not.toContain(KEY.alice);
  });

  it('GET /v1/models and count_tokens with a key: forwarded with the server-side key only', async () => {
    const models = await send(`${h.url}/v1/models`, { headers: { authorization: `Bearer ${KEY.alice}` } });
    expect(models.status).toBe(200);
    const count = await send(`${h.url}/v1/messages/count_tokens`, { body: JSON.stringify({ model: CLAUDE, messages: small.messages }), headers: anthropicHeaders(KEY.alice) });
    expect(count.status).toBe(200);
    expect(h.mock.requests.map((r) => r.path)).toEqual(['/v1/models', '/v1/messages/count_tokens']);
    expect(h.mock.requests[0]!.headers.authorization).toBe(`Bearer ${SERVER_OPENAI}`);
    expect(h.mock.requests[1]!.headers['x-api-key']).toBe(SERVER_ANTHROPIC);
    expect(allHeaders(h.mock.requests)).not.toContain(KEY.alice);
  });

  it('a Responses WebSocket upgrade is refused with 403 while keys: is set (its handshake would carry the client key)', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${h.url}/v1/responses`, {
        headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', authorization: `Bearer ${KEY.alice}` },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('upgrade', () => reject(new Error('upgraded')));
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
    expect(h.mock.ws.sessions).toHaveLength(0);
  });

  it('a model the key may not use gets 403 in the provider shape; an allowed one passes', async () => {
    const err = await caught(anthropic(h, KEY.bob).messages.create(small));
    expect(err).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'permission_error', message: `The virtual key "bob" may not use model "${CLAUDE}" (allowed: gpt-4o*).` } });
    const oerr = await caught(openai(h, KEY.bob).chat.completions.create({ model: 'o3', messages: [{ role: 'user', content: 'hi' }] }));
    expect(oerr).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(h.mock.requests).toHaveLength(0);
    await openai(h, KEY.bob).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(h.mock.requests).toHaveLength(1);
  });

  it('a provider the key may not use gets 403 before any upstream call', async () => {
    const err = await caught(openai(h, KEY.erin).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }));
    expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(err.error.message).toBe('The virtual key "erin" may not use provider "openai" (allowed: anthropic).');
    expect(h.mock.requests).toHaveLength(0);
    await anthropic(h, KEY.erin).messages.create(small);
    expect(h.mock.requests).toHaveLength(1);
  });

  it('per-key RPM: the third request of a 2/min key gets 429 in the provider shape; other keys are not limited', async () => {
    const client = anthropic(h, KEY.carol);
    await client.messages.create(small);
    await client.messages.create(small);
    const err = await caught(client.messages.create(small));
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    expect(err.error.error.message).toMatch(/^Rate limit exceeded for this API key: 2 requests per minute\./);
    expect(Number(header(err, 'retry-after'))).toBeGreaterThan(0);
    expect(header(err, 'x-ratelimit-limit-requests')).toBe('2');
    for (let i = 0; i < 3; i++) await anthropic(h, KEY.alice).messages.create(small);
    expect(h.mock.requests).toHaveLength(5);
  });

  it('per-key budget: a request that may cost more than the key\'s budget gets 429 budget_exceeded; other keys pass', async () => {
    const err = await caught(anthropic(h, KEY.dave).messages.create(small));
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expect(err.error.error.type).toBe('budget_exceeded');
    expect(err.error.error.message).toContain('the budget of virtual key "dave"');
    expect(header(err, 'x-should-retry')).toBe('false');
    expect(h.mock.requests).toHaveLength(0);
    await anthropic(h, KEY.alice).messages.create(small);
    expect(h.mock.requests).toHaveLength(1);
  });

  it('/stats breaks requests, tokens, spend and refusals down by key name, never the key or its hash', async () => {
    const before = statsSchema.parse((await send(`${h.url}/stats`)).json()).by_virtual_key!;
    await anthropic(h, KEY.erin).messages.create(small);
    await anthropic(h, KEY.erin).messages.create({ ...small, messages: [{ role: 'user', content: 'second' }] });
    await openai(h, KEY.bob).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    await caught(anthropic(h, KEY.bob).messages.create(small));
    const outcomes = await h.waitForOutcomes(4);
    const res = await send(`${h.url}/stats`);
    expect(res.text).not.toMatch(/hr-[A-Za-z0-9_-]{20,}/);
    for (const k of keysSection) expect(res.text).not.toContain(k.hash.slice(7, 23));
    const s = statsSchema.parse(res.json());
    const by = s.by_virtual_key!;
    expect(Object.keys(by)).toEqual(['alice', 'bob', 'carol', 'dave', 'erin']);
    const erinOutcomes = outcomes.filter((o) => o.ext.virtualKey === 'erin');
    const cost = erinOutcomes.reduce((a, o) => a + (accountingOf(o).cost?.totalUsd ?? 0), 0);
    const input = erinOutcomes.reduce((a, o) => a + accountingOf(o).inputTokens, 0);
    expect(by.erin!.requests - before.erin!.requests).toBe(2);
    expect(by.erin!.input_tokens - before.erin!.input_tokens).toBe(input);
    expect(by.erin!.cost_usd - before.erin!.cost_usd).toBeCloseTo(cost, 6);
    expect(cost).toBeGreaterThan(0);
    expect(by.erin!.budget_usd).toBe(5);
    expect(by.erin!.budget_spent_usd).toBeGreaterThan(0);
    expect(by.bob!.requests - before.bob!.requests).toBe(1);
    expect(by.bob!.refused - before.bob!.refused).toBe(1);
    expect(by.carol!.rate_limited).toBe(1);
    expect(by.carol!.rpm).toBe(2);
    expect(by.dave!.refused).toBeGreaterThanOrEqual(1);
    const budget = res.json<Json>().budget;
    expect(budget.rejected_requests.virtual_key).toBeGreaterThanOrEqual(1);
  });
});

describe('virtual keys: no server-side key for a default provider', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startWithKeys({}, { ANTHROPIC_API_KEY: SERVER_ANTHROPIC });
  });
  afterAll(() => h.close());

  it('is refused with a provider-shaped error naming the variable; the client key is not forwarded instead', async () => {
    const err = await caught(openai(h, KEY.alice).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }));
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect(err.status).toBe(500);
    expect(err.error.message).toMatch(/^No server-side key is configured for provider "openai": .*set OPENAI_API_KEY/);
    expect(h.mock.requests).toHaveLength(0);
    expect(h.logs.join('')).toContain('OPENAI_API_KEY is not set');
    await anthropic(h, KEY.alice).messages.create(small);
    expect(h.mock.requests[0]!.headers['x-api-key']).toBe(SERVER_ANTHROPIC);
  });
});

describe('virtual keys beside the proxy token', () => {
  let h: Harness;
  const TOKEN = 'proxy-token-FAKE-0123456789';
  const remote = { 'x-forwarded-for': '203.0.113.9' };
  beforeAll(async () => {
    h = await startWithKeys({ proxyToken: TOKEN }, { ANTHROPIC_API_KEY: SERVER_ANTHROPIC, OPENAI_API_KEY: SERVER_OPENAI });
  });
  afterAll(() => h.close());
  beforeEach(() => h.reset());

  it('a remote caller needs the token and a virtual key; neither reaches the upstream', async () => {
    const body = JSON.stringify(small);
    const noToken = await send(`${h.url}/v1/messages`, { body, headers: { ...anthropicHeaders(KEY.alice), ...remote } });
    expect(noToken.status).toBe(401);
    expect(noToken.json<Json>().error.message).toMatch(/proxy token/);
    const tokenOnly = await send(`${h.url}/v1/messages`, { body, headers: { 'anthropic-version': '2023-06-01', 'x-headroom-proxy-token': TOKEN, ...remote } });
    expect(tokenOnly.status).toBe(401);
    expect(tokenOnly.json<Json>().error.message).toMatch(/^Missing API key/);
    const viaHeader = await send(`${h.url}/v1/messages`, { body, headers: { ...anthropicHeaders(KEY.alice), 'x-headroom-proxy-token': TOKEN, ...remote } });
    expect(viaHeader.status).toBe(200);
    // the token as Bearer (OpenAI-style proxies) and the virtual key as x-api-key
    const viaBearer = await send(`${h.url}/v1/messages`, { body, headers: { ...anthropicHeaders(KEY.alice), authorization: `Bearer ${TOKEN}`, ...remote } });
    expect(viaBearer.status).toBe(200);
    expect(h.mock.requests).toHaveLength(2);
    const seen = allHeaders(h.mock.requests);
    expect(seen).not.toContain(KEY.alice);
    expect(seen).not.toContain(TOKEN);
    for (const r of h.mock.requests) expect(r.headers['x-api-key']).toBe(SERVER_ANTHROPIC);
  });

  it('admin routes still take the proxy token, not a virtual key', async () => {
    const withKey = await send(`${h.url}/cache/clear`, { method: 'POST', headers: { authorization: `Bearer ${KEY.alice}`, ...remote } });
    expect(withKey.status).toBe(404); // admin routes answer callers without the token 404
    const withToken = await send(`${h.url}/cache/clear`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, ...remote } });
    expect(withToken.status).toBe(200);
  });
});

describe('virtual keys with only a per-key rate limit', () => {
  let h: Harness;
  beforeAll(async () => {
    const plugins = defaultPlugins().map((p) => (p.name === 'controls' ? createControlsPlugin({ env: { OPENAI_API_KEY: SERVER_OPENAI } }) : p));
    h = await startHarness({ config: { keys: [{ name: 'limited', hash: hashKey(KEY.carol), rpm: 5 }] as unknown as RawValue }, plugins });
  });
  afterAll(() => h.close());

  it('a billable call no control can price (embeddings) is refused rather than run past the key\'s limit', async () => {
    const r = await send(`${h.url}/v1/embeddings`, { body: JSON.stringify({ model: 'text-embedding-3-small', input: 'x' }), headers: { authorization: `Bearer ${KEY.carol}` } });
    expect(r.status).toBe(403);
    expect(r.json<Json>().error.message).toContain('with a rate limit configured');
    expect(h.mock.requests).toHaveLength(0);
  });
});

describe('without a keys: section nothing changes', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('the client\'s own key passes through and /stats has no per-key block', async () => {
    await anthropic(h, FAKE_ANTHROPIC_KEY).messages.create(small);
    await openai(h, FAKE_OPENAI_KEY).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    // this Anthropic SDK sends its key as a Bearer token; either way it is the client's own
    const sent = h.mock.requests[0]!.headers;
    expect(sent['x-api-key'] ?? sent.authorization?.replace(/^Bearer /, '')).toBe(FAKE_ANTHROPIC_KEY);
    expect(h.mock.requests[1]!.headers.authorization).toBe(`Bearer ${FAKE_OPENAI_KEY}`);
    const s = remoteStatsSchema.parse((await send(`${h.url}/stats`)).json());
    expect(s.by_virtual_key).toBeNull();
    const outcomes = await h.waitForOutcomes(2);
    for (const o of outcomes) expect(o.ext.virtualKey).toBeUndefined();
  });
});

it('the keys: section refuses a bad entry at load, naming it', async () => {
  const { configWith } = await import('../src/config/index.js');
  expect(() => configWith({ keys: [{ name: 'x', hash: KEY.alice }] as unknown as RawValue })).toThrow(/keys\[0\]\.hash: the hash is sha256:<64 hex digits>/);
  expect(() => configWith({ keys: [{ name: 'a', hash: hashKey('k1') }, { name: 'a', hash: hashKey('k2') }] as unknown as RawValue })).toThrow(/the name "a" is used twice/);
  expect(() => configWith({ keys: [{ name: 'a', hash: hashKey('k1'), rpm: 0 }] as unknown as RawValue })).toThrow(/keys\[0\]\.rpm/);
  // the raw value of a secret is never echoed
  expect(() => configWith({ keys: [{ name: 'x', hash: KEY.alice }] as unknown as RawValue })).not.toThrow(new RegExp(KEY.alice));
  expect(ALL_VIRTUAL.every((k) => /^hr-[A-Za-z0-9_-]{43}$/.test(k))).toBe(true);
});

it('a virtual key that slips into a log line or a figure is scrubbed like a provider key', async () => {
  const { redactSecrets } = await import('../src/core/redact.js');
  const line = JSON.stringify({ msg: `unknown model ${KEY.alice}`, nested: `\n${KEY.bob}` });
  const out = redactSecrets(line);
  for (const k of [KEY.alice, KEY.bob]) expect(out).not.toContain(k.slice(3));
  expect(out).toContain('hr-***');
  expect(redactSecrets('hr-department and hr-team stay as they are')).toBe('hr-department and hr-team stay as they are');
});
