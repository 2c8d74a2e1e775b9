/**
 * Amazon Bedrock through the proxy against a mock that recomputes every SigV4 signature:
 * invoke and invoke-with-response-stream signed by the proxy (on the compressed body),
 * Bedrock's error shapes (a bad signature, throttling before and inside a stream), Converse,
 * usage, cost and cache tokens in the outcome and in /stats, and a client's own signature
 * passed through untouched when the proxy has no credentials.
 */
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EventStreamSplitter, type EventFrame } from '../src/providers/eventstream.js';
import { costOf, priceFor } from '../src/providers/pricing.js';
import { Sha256 } from '../src/providers/sigv4.js';
import { MockBedrock } from '../src/mock/bedrock.js';
import { planSpans } from '../src/capabilities/otel/span-plan.js';
import { accountingOf } from '../src/capabilities/stats/accounting.js';
import type { Harness } from './helpers/harness.js';
import { bigJsonListing, post, startCloudHarness } from './helpers/cloud.js';

const AKID = 'AKIDTESTFAKE0000000';
const SECRET = 'test-fake-secret-key-not-real-0000000000';
const MODEL = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
interface CloudStats {
  requests: { by_provider: Record<string, number> };
  tokens: { input: number; saved: number; cache_read_tokens: number; cache_write_tokens: number };
  display_session: { total_input_cost_usd: number; total_output_cost_usd: number };
}
const modelPath = (op: string) => `/model/${encodeURIComponent(MODEL)}/${op}`;

let mock: MockBedrock;
let h: Harness;
let bad: Harness;
let open: Harness;

const body = (extra: Record<string, unknown> = {}) => ({
  anthropic_version: 'bedrock-2023-05-31',
  max_tokens: 64,
  system: [{ type: 'text', text: 'You are a careful coding agent. '.repeat(100), cache_control: { type: 'ephemeral' } }],
  messages: [{ role: 'user', content: 'What is the build status?' }],
  ...extra,
});

function frames(buf: Buffer): EventFrame[] {
  const out: EventFrame[] = [];
  const s = new EventStreamSplitter((f) => out.push(f));
  s.push(buf);
  expect(s.broken).toBeNull();
  expect(s.leftover).toBe(0);
  return out;
}

const anthropicEvents = (fs: EventFrame[]) =>
  fs.filter((f) => f.eventType === 'chunk').map((f) => JSON.parse(Buffer.from((JSON.parse(f.payload) as { bytes: string }).bytes, 'base64').toString('utf8')) as Record<string, unknown>);

beforeAll(async () => {
  mock = new MockBedrock({ accessKeyId: AKID, secretAccessKey: SECRET, region: 'us-east-1' });
  await mock.start();
  h = await startCloudHarness([{ name: 'aws', format: 'bedrock', baseUrl: mock.url, region: 'us-east-1', project: null, auth: { kind: 'aws-static', accessKeyId: AKID, secretAccessKey: SECRET } }]);
  bad = await startCloudHarness([{ name: 'aws', format: 'bedrock', baseUrl: mock.url, region: 'us-east-1', project: null, auth: { kind: 'aws-static', accessKeyId: AKID, secretAccessKey: 'wrong-secret-fake' } }]);
  open = await startCloudHarness([{ name: 'aws', format: 'bedrock', baseUrl: mock.url, region: 'us-east-1', project: null, auth: { kind: 'client' } }]);
});
afterAll(async () => {
  await Promise.all([h.close(), bad.close(), open.close()]);
  await mock.close();
});
beforeEach(async () => {
  await Promise.all([h.reset(), bad.reset(), open.reset()]);
  mock.requests.length = 0;
});

describe('Bedrock invoke', () => {
  it('is signed by the proxy (verified by the mock) and its usage, cost and cache tokens are recorded', async () => {
    const r1 = await post(`${h.url}${modelPath('invoke')}`, body());
    expect(r1.status, r1.body.toString()).toBe(200);
    const m1 = JSON.parse(r1.body.toString()) as { content: { text: string }[]; usage: Record<string, number> };
    expect(m1.content[0]!.text).toContain('mock reply');
    expect(mock.requests[0]!.auth).toBe('sigv4');
    expect(mock.requests[0]!.headers['x-amz-date']).toBeTruthy();
    // the second identical call reads the cached system prompt
    const r2 = await post(`${h.url}${modelPath('invoke')}`, body());
    const m2 = JSON.parse(r2.body.toString()) as { usage: Record<string, number> };
    expect(m2.usage.cache_read_input_tokens).toBeGreaterThan(0);
    const [o1, o2] = await h.waitForOutcomes(2);
    expect(o1!.provider).toBe('aws.bedrock');
    expect(o1!.api).toBe('messages');
    expect(o1!.requestedModel).toBe(MODEL);
    expect(o1!.model).toBe(MODEL);
    expect(o1!.usage!.cacheWrite).toBe(m1.usage.cache_creation_input_tokens);
    expect(o2!.usage!.cacheRead).toBe(m2.usage.cache_read_input_tokens);
    expect(o2!.usage!.uncached).toBe(m2.usage.input_tokens);
    expect(o1!.ext.cloud).toMatchObject({ platform: 'bedrock', provider: 'aws', auth: 'signed', region: 'us-east-1' });
    // priced at Bedrock's own (cross-region profile) price, not the Anthropic API's
    const price = priceFor('aws.bedrock', MODEL);
    expect(price.fallback).toBe(false);
    expect(price.matchedModel).toContain('claude-sonnet-4-5');
    const stats = (await (await fetch(`${h.url}/stats`)).json()) as CloudStats;
    expect(stats.requests.by_provider['aws.bedrock']).toBe(2);
    expect(stats.tokens.input).toBe(o1!.usage!.input + o2!.usage!.input);
    expect(stats.tokens.cache_read_tokens).toBe(o2!.usage!.cacheRead);
    expect(stats.tokens.cache_write_tokens).toBe(o1!.usage!.cacheWrite);
    const c1 = costOf(o1!.usage!, price);
    const c2 = costOf(o2!.usage!, price);
    expect(stats.display_session.total_input_cost_usd).toBeCloseTo(c1.inputUsd + c2.inputUsd, 6);
    expect(stats.display_session.total_output_cost_usd).toBeCloseTo(c1.outputUsd + c2.outputUsd, 6);
    // Bedrock's price, which differs from the Anthropic API's for this cross-region profile
    expect(price.input).not.toBe(priceFor('anthropic', 'claude-sonnet-4-5-20250929').input);
    // the OTEL GenAI provider name on metrics and spans
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toMatch(/provider="aws\.bedrock"/);
    const span = planSpans(o2!, accountingOf(o2!), () => null);
    expect(span.attributes['gen_ai.provider.name']).toBe('aws.bedrock');
    expect(span.attributes['gen_ai.request.model']).toBe(MODEL);
    expect(span.attributes['gen_ai.usage.cache_read.input_tokens']).toBe(o2!.usage!.cacheRead);
  });

  it('invoke-with-response-stream: the client gets the event stream byte for byte, usage read on the side', async () => {
    const r = await post(`${h.url}${modelPath('invoke-with-response-stream')}`, body());
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/vnd.amazon.eventstream');
    const events = anthropicEvents(frames(r.body));
    expect(events[0]!.type).toBe('message_start');
    expect(events[events.length - 1]!.type).toBe('message_stop');
    const [o] = await h.waitForOutcomes(1);
    expect(o!.ok).toBe(true);
    expect(o!.usage!.source).toBe('sse');
    const start = events[0]!.message as { usage: Record<string, number> };
    expect(o!.usage!.uncached).toBe(start.usage.input_tokens);
    expect(o!.usage!.cacheWrite + o!.usage!.cacheRead).toBe(start.usage.cache_creation_input_tokens! + start.usage.cache_read_input_tokens!);
    expect(o!.usage!.output).toBe((events.find((e) => e.type === 'message_delta')!.usage as Record<string, number>).output_tokens);
    expect(o!.bytesOut).toBe(r.body.length);
    // the live view saw the stream's usage as it arrived
    const live = h.progress.filter((p) => p.requestId === o!.requestId);
    expect(live.length).toBeGreaterThan(0);
    expect(live[live.length - 1]!.model).toBe(MODEL);
    expect(live[live.length - 1]!.inputTokens).toBe(o!.usage!.input);
  });

  it('compresses a large tool output inside the invoke body and signs the compressed body', async () => {
    const listing = bigJsonListing();
    const b = body({
      tools: [{ name: 'Bash', description: 'Run a command', input_schema: { type: 'object', properties: { command: { type: 'string' } } } }],
      messages: [
        { role: 'user', content: 'Read the listing.' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'cat /tmp/app.log' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: listing }] },
      ],
    });
    const sent = JSON.stringify(b);
    const r = await post(`${h.url}${modelPath('invoke')}`, sent);
    expect(r.status, r.body.toString()).toBe(200);
    const upstream = mock.requests[0]!;
    expect(upstream.auth).toBe('sigv4');
    expect(upstream.body.length).toBeLessThan(sent.length * 0.7);
    expect(upstream.json!.anthropic_version).toBe('bedrock-2023-05-31');
    expect('model' in upstream.json!).toBe(false);
    const [o] = await h.waitForOutcomes(1);
    expect(o!.compression?.tokensSaved ?? 0).toBeGreaterThan(0);
    expect(o!.modified).toBe(true);
  });

  it('a bad signature gets Bedrock 403 InvalidSignatureException, as Bedrock answers it', async () => {
    const r = await post(`${bad.url}${modelPath('invoke')}`, body());
    expect(r.status).toBe(403);
    expect(r.headers.get('x-amzn-errortype')).toMatch(/^InvalidSignatureException/);
    expect(JSON.parse(r.body.toString())).toEqual({ message: expect.stringContaining('signature we calculated does not match') });
    const [o] = await bad.waitForOutcomes(1);
    expect(o!.status).toBe(403);
    expect(o!.ok).toBe(false);
  });

  it('throttling: 429 ThrottlingException passes through (after the proxy retries it)', async () => {
    const r = await post(`${h.url}${modelPath('invoke')}`, body(), { 'x-mock-scenario': 'throttle' });
    expect(r.status).toBe(429);
    expect(r.headers.get('x-amzn-errortype')).toMatch(/^ThrottlingException/);
    expect(JSON.parse(r.body.toString()).message).toMatch(/Too many requests/);
    // each retry was signed afresh and verified
    expect(mock.requests.every((q) => q.auth === 'sigv4')).toBe(true);
    const [o] = await h.waitForOutcomes(1);
    expect(o!.errorType).toBe('upstream_rate_limited');
  });

  it('a throttling exception frame mid-stream reaches the client and fails the outcome', async () => {
    const r = await post(`${h.url}${modelPath('invoke-with-response-stream')}`, body(), { 'x-mock-scenario': 'throttle-mid-stream:3' });
    expect(r.status).toBe(200);
    const fs = frames(r.body);
    expect(fs.filter((f) => f.eventType === 'chunk')).toHaveLength(3);
    const last = fs[fs.length - 1]!;
    expect(last.messageType).toBe('exception');
    expect(last.eventType).toBe('throttlingException');
    const [o] = await h.waitForOutcomes(1);
    expect(o!.ok).toBe(false);
    expect(o!.errorType).toBe('upstream_stream');
    expect(o!.errorMessage).toContain('throttlingException');
    expect(o!.usage!.uncached).toBeGreaterThan(0);
  });

  it('errors of the proxy itself are in Bedrock shape (invalid JSON)', async () => {
    const r = await post(`${h.url}${modelPath('invoke')}`, '{not json');
    expect(r.status).toBe(400);
    expect(r.headers.get('x-amzn-errortype')).toBe('ValidationException');
    expect(JSON.parse(r.body.toString())).toEqual({ message: expect.stringContaining('Invalid JSON') });
    expect(mock.requests).toHaveLength(0);
  });
});

describe('Bedrock Converse', () => {
  const converse = { messages: [{ role: 'user', content: [{ text: 'hello' }] }], inferenceConfig: { maxTokens: 32 } };

  it('converse: forwarded signed, usage read from Bedrock format', async () => {
    const r = await post(`${h.url}${modelPath('converse')}`, converse);
    expect(r.status).toBe(200);
    const reply = JSON.parse(r.body.toString()) as { usage: { inputTokens: number; outputTokens: number } };
    const [o] = await h.waitForOutcomes(1);
    expect(o!.provider).toBe('aws.bedrock');
    expect(o!.usage!.uncached).toBe(reply.usage.inputTokens);
    expect(o!.usage!.output).toBe(reply.usage.outputTokens);
    expect(o!.model).toBe(MODEL);
  });

  it('converse-stream: events relayed, usage from the metadata event', async () => {
    const r = await post(`${h.url}${modelPath('converse-stream')}`, converse);
    expect(r.status).toBe(200);
    const fs = frames(r.body);
    expect(fs.map((f) => f.eventType)).toEqual(['messageStart', 'contentBlockDelta', 'contentBlockStop', 'messageStop', 'metadata']);
    const usage = (JSON.parse(fs[4]!.payload) as { usage: { inputTokens: number; outputTokens: number } }).usage;
    const [o] = await h.waitForOutcomes(1);
    expect(o!.ok).toBe(true);
    expect(o!.usage!.uncached).toBe(usage.inputTokens);
    expect(o!.usage!.output).toBe(usage.outputTokens);
    expect(o!.finishReason).toBe('end_turn');
  });
});

describe('Bedrock without proxy credentials', () => {
  it("a client's own SigV4 signature passes through with the body untouched (not compressed, and why)", async () => {
    const listing = bigJsonListing();
    const b = JSON.stringify(body({ messages: [
      { role: 'user', content: 'Read it.' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'cat /x' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: listing }] },
    ] }));
    // the client signs for the host it calls (here, as a gateway deployment would, the upstream's)
    const up = new URL(mock.url);
    const signer = new SignatureV4({ service: 'bedrock', region: 'us-east-1', sha256: Sha256, credentials: { accessKeyId: AKID, secretAccessKey: SECRET } });
    const signed = await signer.sign({ method: 'POST', protocol: 'http:', hostname: up.hostname, port: Number(up.port), path: modelPath('invoke'), headers: { host: up.host, 'content-type': 'application/json' }, body: b });
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(signed.headers)) if (k !== 'host') headers[k] = String(v);
    const r = await post(`${open.url}${modelPath('invoke')}`, b, headers);
    expect(r.status, r.body.toString()).toBe(200);
    expect(mock.requests[0]!.auth).toBe('sigv4');
    expect(mock.requests[0]!.body.equals(Buffer.from(b))).toBe(true);
    const [o] = await open.waitForOutcomes(1);
    expect(o!.modified).toBe(false);
    expect(o!.ext.cloud).toMatchObject({ auth: 'client-sigv4', unmodifiedBecause: expect.stringContaining('SigV4') });
    expect(o!.usage!.input).toBeGreaterThan(0);
  });

  it('a Bedrock API key (bearer) passes through, and the body can still be compressed', async () => {
    const mockWithKey = new MockBedrock({ accessKeyId: AKID, secretAccessKey: SECRET, apiKeys: ['test-fake-bedrock-api-key'] });
    await mockWithKey.start();
    const hk = await startCloudHarness([{ name: 'aws', format: 'bedrock', baseUrl: mockWithKey.url, region: 'us-east-1', project: null, auth: { kind: 'client' } }]);
    try {
      const b = body({ messages: [
        { role: 'user', content: 'Read it.' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'cat /x' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: bigJsonListing() }] },
      ] });
      const r = await post(`${hk.url}${modelPath('invoke')}`, b, { authorization: 'Bearer test-fake-bedrock-api-key' });
      expect(r.status, r.body.toString()).toBe(200);
      expect(mockWithKey.requests[0]!.auth).toBe('bearer');
      expect(mockWithKey.requests[0]!.body.length).toBeLessThan(JSON.stringify(b).length * 0.7);
      const [o] = await hk.waitForOutcomes(1);
      expect(o!.ext.cloud).toMatchObject({ auth: 'client', unmodifiedBecause: null });
    } finally {
      await hk.close();
      await mockWithKey.close();
    }
  });
});
