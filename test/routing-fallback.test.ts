/**
 * Fallbacks, circuit breakers and server-side keys through real HTTP: a dead provider
 * (connection refused) and a failing one (503) give way to the next target and the client
 * gets its own format; an open breaker skips its provider without an upstream call; configured
 * keys replace the client's and rotate on 401/429 (the mock checks which key it got).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateOutput } from '../src/mock/agent-outputs.js';
import { MockUpstream } from '../src/mock/upstream.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const K = ['sk-test-fake-key-one', 'sk-test-fake-key-two', 'sk-test-fake-key-three'];

let h: Harness;
let good: MockUpstream;
let sick: MockUpstream;
let keyed: MockUpstream;
let goodAnth: MockUpstream;
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  good = new MockUpstream();
  sick = new MockUpstream({ defaultScenario: 'status:503' });
  keyed = new MockUpstream();
  goodAnth = new MockUpstream();
  await Promise.all([good.start(), sick.start(), keyed.start(), goodAnth.start()]);
  const dead = await closedPort();
  const deadAnth = await closedPort();
  const file = join(mkdtempSync(join(tmpdir(), 'headroom-fallback-')), 'routing.yaml');
  writeFileSync(
    file,
    [
      'providers:',
      `  dead: { format: openai, base_url: "http://127.0.0.1:${dead}/v1" }`,
      `  sick: { format: openai, base_url: "${sick.url}/v1" }`,
      `  good: { format: openai, base_url: "${good.url}/v1" }`,
      `  keyed: { format: openai, base_url: "${keyed.url}/v1", api_keys: [${K.join(', ')}] }`,
      `  deadanth: { format: anthropic, base_url: "http://127.0.0.1:${deadAnth}" }`,
      `  goodanth: { format: anthropic, base_url: "${goodAnth.url}", api_keys: [sk-ant-test-fake-server] }`,
      'model_aliases:',
      '  chain: dead:m-dead',
      'fallbacks:',
      '  dead:m-dead: [sick:m-sick, good:m-good]',
      '  sick:m-only: [good:m-good]',
      '  deadanth:claude-x: [goodanth:claude-y]',
      '',
    ].join('\n'),
  );
  // no retries of the same target (each attempt is one call), a breaker that opens after 2 failures
  h = await startHarness({ config: { routingConfig: file, retryMaxAttempts: 1, routingBreakerFailures: 2, routingBreakerCooldownSeconds: 3600 } });
  openai = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0 });
  anthropic = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0 });
});
afterAll(async () => {
  await h.close();
  await Promise.all([good.close(), sick.close(), keyed.close(), goodAnth.close()]);
});
beforeEach(async () => {
  await h.reset();
  for (const m of [good, sick, keyed, goodAnth]) m.reset();
});

describe('fallbacks and breakers', () => {
  it('connection refused, then 503, then the next target answers; every attempt is recorded', async () => {
    const r = await openai.chat.completions.create({ model: 'chain', messages: [{ role: 'user', content: 'hello' }] });
    expect(r.object).toBe('chat.completion');
    expect(r.choices[0]?.message.content).toContain('mock reply');
    expect(sick.requests.map((q) => q.json!.model)).toEqual(['m-sick']);
    expect(good.requests.map((q) => q.json!.model)).toEqual(['m-good']);
    const [o] = await h.waitForOutcomes(1);
    expect(o!.status).toBe(200);
    expect(o!.ok).toBe(true);
    expect(o!.errorMessage).toBeNull();
    expect(o!.ext.routing!.attempts.map((a) => [a.provider, a.model, a.status, a.error])).toEqual([
      ['dead', 'm-dead', null, 'connect'],
      ['sick', 'm-sick', 503, null],
      ['good', 'm-good', 200, null],
    ]);
    expect(o!.ext.routing).toMatchObject({ requestedModel: 'chain', provider: 'good', model: 'm-good', via: 'fallback' });
    expect(o!.timing.upstreamCalls.map((c) => [c.provider, c.status, c.error])).toEqual([
      ['dead', null, 'connect'],
      ['sick', 503, null],
      ['good', 200, null],
    ]);
  });

  it('streams fall back too, before the first byte', async () => {
    const stream = await openai.chat.completions.create({ model: 'sick:m-only', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
    expect(text).toContain('mock reply');
    expect(good.last!.json!.model).toBe('m-good');
  });

  it('an Anthropic client gets Anthropic format from the fallback (and the proxy\'s own key goes upstream)', async () => {
    const msg = await anthropic.messages.create({ model: 'deadanth:claude-x', max_tokens: 32, messages: [{ role: 'user', content: 'hi' }] });
    expect(msg.type).toBe('message');
    expect(msg.content[0]?.type).toBe('text');
    expect(goodAnth.last!.json!.model).toBe('claude-y');
    expect(goodAnth.last!.headers['x-api-key']).toBe('sk-ant-test-fake-server');
    expect(JSON.stringify(goodAnth.last!.headers)).not.toContain(FAKE_ANTHROPIC_KEY);
  });

  it('a CCR request that falls back is still resolved in the proxy, every round at the fallback target', async () => {
    const sample = generateOutput('search_json', 12_000, 42);
    const stream = anthropic.messages.stream(
      {
        model: 'deadanth:claude-x',
        max_tokens: 64,
        tools: [{ name: 'search', description: 'Search the docs', input_schema: { type: 'object', properties: { q: { type: 'string' } } } }],
        messages: [
          { role: 'user', content: 'Find the failing items in the search index.' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_search_1', name: 'search', input: { q: 'failing' } }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_search_1', content: sample.text }] },
        ],
      },
      { headers: { 'x-mock-scenario': 'retrieve' } },
    );
    const message = await stream.finalMessage();
    expect(message.content.some((b) => b.type === 'tool_use' && b.name === 'headroom_retrieve')).toBe(false);
    const [o] = await h.waitForOutcomes(1);
    expect(o!.ext.ccr).toMatchObject({ retrievals: 1, rounds: 1 });
    expect(o!.timing.upstreamCalls.map((c) => [c.provider, c.round ?? 0])).toEqual([
      ['deadanth', 0],
      ['goodanth', 0],
      ['goodanth', 1],
    ]);
    expect(goodAnth.requests.map((q) => q.json!.model)).toEqual(['claude-y', 'claude-y']);
    // the retrieval tool offered once, as to a first attempt (not injected again on the fallback)
    const tools = goodAnth.requests[0]!.json!.tools as { name: string }[];
    expect(tools.filter((t) => t.name === 'headroom_retrieve')).toHaveLength(1);
    expect(o!.ext.ccr!.toolInjected).not.toBeNull();
  });

  it('the last target failing is answered as it is, in the client\'s shape', async () => {
    const err = await openai.chat.completions.create({ model: 'sick:m-solo', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect((err as InstanceType<typeof OpenAI.InternalServerError>).status).toBe(503);
  });

  it('after repeated failures the breaker opens and the dead provider is skipped without a call', async () => {
    // dead has failed in the tests above (breakers outlive requests); make sure it has tripped
    for (let i = 0; i < 2; i++) await openai.chat.completions.create({ model: 'chain', messages: [{ role: 'user', content: 'x' }] });
    await h.reset();
    good.reset();
    sick.reset();
    const r = await openai.chat.completions.create({ model: 'chain', messages: [{ role: 'user', content: 'again' }] });
    expect(r.choices[0]?.message.content).toContain('mock reply');
    const [o] = await h.waitForOutcomes(1);
    const attempts = o!.ext.routing!.attempts;
    expect(attempts.map((a) => [a.provider, a.error])).toEqual([
      ['dead', 'breaker_open'],
      ['sick', 'breaker_open'],
      ['good', null],
    ]);
    // skipped providers cost no upstream call
    expect(o!.timing.upstreamCalls.map((c) => c.provider)).toEqual(['good']);
    expect(sick.requests).toHaveLength(0);
    const stats = (await (await fetch(`${h.url}/stats`)).json()) as { routing: { breakers: Record<string, { state: string }> } };
    expect(stats.routing.breakers.dead!.state).toBe('open');
    expect(stats.routing.breakers.good!.state).toBe('closed');
  });

  it('every target behind an open breaker: a fast 503 in the client\'s shape naming them', async () => {
    const err = await openai.chat.completions.create({ model: 'dead:m-dead-only', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect((err as InstanceType<typeof OpenAI.InternalServerError>).status).toBe(503);
    expect(String((err as Error).message)).toContain('circuit breaker of dead is open');
  });
});

describe('server-side keys', () => {
  it('the proxy sends its own key instead of the client\'s, round robin over the pool', async () => {
    await openai.chat.completions.create({ model: 'keyed:m', messages: [{ role: 'user', content: 'a' }] });
    await openai.chat.completions.create({ model: 'keyed:m', messages: [{ role: 'user', content: 'b' }] });
    const sent = keyed.requests.map((q) => q.headers.authorization);
    expect(new Set(sent).size).toBe(2);
    for (const s of sent) expect(K.map((k) => `Bearer ${k}`)).toContain(s);
    expect(JSON.stringify(keyed.requests.map((q) => q.headers))).not.toContain(FAKE_OPENAI_KEY);
  });

  it('401 on a key: the next untried key, the client sees only the success', async () => {
    const reject = K.slice(0, 2).join(',');
    const r = await openai.chat.completions.create(
      { model: 'keyed:m', messages: [{ role: 'user', content: 'rotate' }] },
      { headers: { 'x-mock-reject-keys': reject, 'x-mock-reject-status': '401' } },
    );
    expect(r.choices[0]?.message.content).toContain('mock reply');
    const sent = keyed.requests.map((q) => String(q.headers.authorization).replace('Bearer ', ''));
    expect(sent.at(-1)).toBe(K[2]);
    expect(new Set(sent).size).toBe(sent.length); // never the same key twice
    for (const k of sent.slice(0, -1)) expect(K.slice(0, 2)).toContain(k);
    const [o] = await h.waitForOutcomes(1);
    expect(o!.ext.routing!.attempts.at(-1)).toMatchObject({ provider: 'keyed', status: 200, key: 2 });
    expect(o!.ext.routing!.attempts.slice(0, -1).every((a) => a.status === 401)).toBe(true);
  });

  it('429 rotates too; every key refused: the last refusal is answered', async () => {
    const ok = await openai.chat.completions.create(
      { model: 'keyed:m', messages: [{ role: 'user', content: 'x' }] },
      { headers: { 'x-mock-reject-keys': `${K[0]},${K[1]}`, 'x-mock-reject-status': '429' } },
    );
    expect(ok.choices[0]?.message.content).toContain('mock reply');
    expect(keyed.last!.headers.authorization).toBe(`Bearer ${K[2]}`);
    keyed.reset();
    const err = await openai.chat.completions.create(
      { model: 'keyed:m', messages: [{ role: 'user', content: 'x' }] },
      { headers: { 'x-mock-reject-keys': K.join(','), 'x-mock-reject-status': '401' } },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(keyed.requests.map((q) => q.headers.authorization).sort()).toEqual(K.map((k) => `Bearer ${k}`).sort());
  });
});
