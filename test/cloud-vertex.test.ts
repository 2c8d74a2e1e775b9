/**
 * Anthropic on Vertex AI through the proxy against a mock that checks the bearer token
 * against the tokens its own OAuth endpoint issued: rawPredict and streamRawPredict with the
 * proxy's token (google-auth-library, a credentials file whose token endpoint is the mock),
 * the token cached and refreshed, Vertex's 401 shape for a bad token, a client's bearer passed
 * through when no credentials are configured, usage and compression.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MockVertex } from '../src/mock/vertex.js';
import { priceFor } from '../src/providers/pricing.js';
import type { Harness } from './helpers/harness.js';
import { bigJsonListing, post, startCloudHarness } from './helpers/cloud.js';

const MODEL = 'claude-sonnet-4-5@20250929';
const PATH = `/v1/projects/test-project/locations/us-east5/publishers/anthropic/models/${MODEL}`;

let mock: MockVertex;
let h: Harness;
let open: Harness;
let dir: string;

const body = (extra: Record<string, unknown> = {}) => ({
  anthropic_version: 'vertex-2023-10-16',
  max_tokens: 64,
  system: [{ type: 'text', text: 'You are a careful coding agent. '.repeat(100), cache_control: { type: 'ephemeral' } }],
  messages: [{ role: 'user', content: 'What is the build status?' }],
  ...extra,
});

beforeAll(async () => {
  mock = new MockVertex({ clientId: 'test-client-id', clientSecret: 'test-fake-client-secret', refreshToken: 'test-fake-refresh-token' });
  await mock.start();
  dir = mkdtempSync(join(tmpdir(), 'headroom-vertex-'));
  const keyFile = join(dir, 'credentials.json');
  writeFileSync(keyFile, mock.credentialsJson());
  h = await startCloudHarness([{ name: 'gcp', format: 'vertex', baseUrl: mock.url, region: null, project: null, auth: { kind: 'google', keyFile } }]);
  open = await startCloudHarness([{ name: 'gcp', format: 'vertex', baseUrl: mock.url, region: null, project: null, auth: { kind: 'client' } }]);
});
afterAll(async () => {
  await Promise.all([h.close(), open.close()]);
  await mock.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await Promise.all([h.reset(), open.reset()]);
  mock.requests.length = 0;
});

describe('Vertex rawPredict / streamRawPredict', () => {
  it("rawPredict with the proxy's OAuth token (cached across calls); usage and Vertex pricing", async () => {
    const before = mock.tokenRequests;
    const r1 = await post(`${h.url}${PATH}:rawPredict`, body(), { authorization: 'Bearer client-token-not-used' });
    expect(r1.status, r1.body.toString()).toBe(200);
    const r2 = await post(`${h.url}${PATH}:rawPredict`, body());
    expect(r2.status, r2.body.toString()).toBe(200);
    // one token for both calls (the library caches it), and it is the one the mock issued
    expect(mock.tokenRequests - before).toBe(1);
    expect(mock.requests[0]!.headers.authorization).toBe(mock.requests[1]!.headers.authorization);
    expect(mock.issued.has(String(mock.requests[0]!.headers.authorization).slice(7))).toBe(true);
    const m2 = JSON.parse(r2.body.toString()) as { usage: Record<string, number> };
    const [o1, o2] = await h.waitForOutcomes(2);
    expect(o1!.provider).toBe('gcp.vertex_ai');
    expect(o1!.requestedModel).toBe(MODEL);
    expect(o2!.usage!.cacheRead).toBe(m2.usage.cache_read_input_tokens);
    expect(o2!.usage!.uncached).toBe(m2.usage.input_tokens);
    expect(o1!.ext.cloud).toMatchObject({ platform: 'vertex', auth: 'oauth', region: 'us-east5' });
    const price = priceFor('gcp.vertex_ai', MODEL);
    expect(price.fallback).toBe(false);
    const stats = (await (await fetch(`${h.url}/stats`)).json()) as { requests: { by_provider: Record<string, number> }; tokens: { cache_read_tokens: number } };
    expect(stats.requests.by_provider['gcp.vertex_ai']).toBe(2);
    expect(stats.tokens.cache_read_tokens).toBe(o2!.usage!.cacheRead);
  });

  it('streamRawPredict: SSE relayed untouched, usage read', async () => {
    const r = await post(`${h.url}${PATH}:streamRawPredict`, body({ stream: true }));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/event-stream');
    const text = r.body.toString();
    expect(text).toContain('event: message_stop');
    const [o] = await h.waitForOutcomes(1);
    expect(o!.ok).toBe(true);
    expect(o!.usage!.source).toBe('sse');
    expect(o!.usage!.input).toBeGreaterThan(0);
    expect(o!.bytesOut).toBe(r.body.length);
  });

  it('a token the platform refuses (revoked) is replaced by a fresh one, once; then the 401 reaches the client in Vertex shape', async () => {
    const dir2 = mkdtempSync(join(tmpdir(), 'headroom-vertex-'));
    const keyFile = join(dir2, 'credentials.json');
    writeFileSync(keyFile, mock.credentialsJson());
    const h2 = await startCloudHarness([{ name: 'gcp', format: 'vertex', baseUrl: mock.url, region: null, project: null, auth: { kind: 'google', keyFile } }]);
    try {
      expect((await post(`${h2.url}${PATH}:rawPredict`, body())).status).toBe(200);
      const revoked = String(mock.requests[mock.requests.length - 1]!.headers.authorization);
      mock.issued.delete(revoked.slice(7));
      const n0 = mock.tokenRequests;
      const seen0 = mock.requests.length;
      const r = await post(`${h2.url}${PATH}:rawPredict`, body());
      expect(r.status, r.body.toString()).toBe(200);
      // the mock refused the cached token, the proxy fetched a new one and called again
      expect(mock.requests.slice(seen0).map((q) => [q.status, q.headers.authorization === revoked])).toEqual([[401, true], [200, false]]);
      expect(mock.tokenRequests - n0).toBe(1);
      // a platform that refuses every token: one fresh attempt, then its 401 as it sent it
      mock.refuseTokens = true;
      const seen1 = mock.requests.length;
      const bad = await post(`${h2.url}${PATH}:rawPredict`, body());
      expect(bad.status).toBe(401);
      expect(JSON.parse(bad.body.toString())).toEqual({ error: { code: 401, message: expect.stringContaining('invalid authentication credentials'), status: 'UNAUTHENTICATED' } });
      expect(mock.requests.length - seen1).toBe(2);
      const [, , o] = await h2.waitForOutcomes(3);
      expect(o!.status).toBe(401);
      expect(o!.ok).toBe(false);
    } finally {
      mock.refuseTokens = false;
      await h2.close();
      rmSync(dir2, { recursive: true, force: true });
    }
  });

  it('a short-lived token is refreshed before each call', async () => {
    mock.setTokenLifetime(2);
    const dir2 = mkdtempSync(join(tmpdir(), 'headroom-vertex-'));
    const keyFile = join(dir2, 'credentials.json');
    writeFileSync(keyFile, mock.credentialsJson());
    const h2 = await startCloudHarness([{ name: 'gcp', format: 'vertex', baseUrl: mock.url, region: null, project: null, auth: { kind: 'google', keyFile } }]);
    try {
      const n0 = mock.tokenRequests;
      for (let i = 0; i < 3; i++) expect((await post(`${h2.url}${PATH}:rawPredict`, body())).status).toBe(200);
      expect(mock.tokenRequests - n0).toBe(3);
      const tokens = new Set(mock.requests.slice(-3).map((q) => q.headers.authorization));
      expect(tokens.size).toBe(3);
    } finally {
      mock.setTokenLifetime(3600);
      await h2.close();
      rmSync(dir2, { recursive: true, force: true });
    }
  });

  it('compresses a large tool output in the rawPredict body', async () => {
    const b = body({
      tools: [{ name: 'Bash', description: 'Run a command', input_schema: { type: 'object', properties: { command: { type: 'string' } } } }],
      messages: [
        { role: 'user', content: 'Show the log.' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'cat app.log' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: bigJsonListing() }] },
      ],
    });
    const sent = JSON.stringify(b);
    const r = await post(`${h.url}${PATH}:rawPredict`, sent);
    expect(r.status, r.body.toString()).toBe(200);
    expect(mock.requests[0]!.body.length).toBeLessThan(sent.length * 0.7);
    expect(mock.requests[0]!.json!.anthropic_version).toBe('vertex-2023-10-16');
    const [o] = await h.waitForOutcomes(1);
    expect(o!.compression.tokensSaved).toBeGreaterThan(0);
  });
});

describe('Vertex credentials that give no token', () => {
  it("the client gets a 500 in Vertex's shape saying why, and no call is made", async () => {
    const dir2 = mkdtempSync(join(tmpdir(), 'headroom-vertex-'));
    const keyFile = join(dir2, 'credentials.json');
    // the token endpoint refuses the refresh token
    writeFileSync(keyFile, mock.credentialsJson().replace('test-fake-refresh-token', 'test-fake-wrong-refresh-token'));
    const h2 = await startCloudHarness([{ name: 'gcp', format: 'vertex', baseUrl: mock.url, region: null, project: null, auth: { kind: 'google', keyFile } }]);
    try {
      const seen = mock.requests.length;
      const r = await post(`${h2.url}${PATH}:rawPredict`, body());
      expect(r.status).toBe(500);
      const err = JSON.parse(r.body.toString()).error as { code: number; status: string; message: string };
      expect(err).toMatchObject({ code: 500, status: 'INTERNAL' });
      expect(err.message).toMatch(/could not get a Google access token for Vertex: .*invalid_grant/);
      expect(mock.requests.length).toBe(seen);
    } finally {
      await h2.close();
      rmSync(dir2, { recursive: true, force: true });
    }
  });
});

describe('Vertex project override', () => {
  it("the entry's project replaces the one in the client's path (the proxy's credentials bill it)", async () => {
    const h2 = await startCloudHarness([{ name: 'gcp', format: 'vertex', baseUrl: mock.url, region: null, project: 'billing-proj', auth: { kind: 'google', keyFile: join(dir, 'credentials.json') } }]);
    try {
      const r = await post(`${h2.url}${PATH}:rawPredict`, body());
      expect(r.status, r.body.toString()).toBe(200);
      expect(mock.requests[mock.requests.length - 1]!.path).toBe(`/v1/projects/billing-proj/locations/us-east5/publishers/anthropic/models/${MODEL}:rawPredict`);
    } finally {
      await h2.close();
    }
  });
});

describe('Vertex without proxy credentials', () => {
  it("passes the client's bearer token through; a bad one gets Vertex's 401 shape", async () => {
    const bad = await post(`${open.url}${PATH}:rawPredict`, body(), { authorization: 'Bearer ya29.not-a-real-token' });
    expect(bad.status).toBe(401);
    expect(JSON.parse(bad.body.toString()).error).toMatchObject({ code: 401, status: 'UNAUTHENTICATED' });
    // a token the mock issued (as gcloud would give the client) works
    const tok = await fetch(`${mock.url}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('test-client-id:test-fake-client-secret').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=refresh_token&refresh_token=test-fake-refresh-token',
    });
    const { access_token } = (await tok.json()) as { access_token: string };
    const ok = await post(`${open.url}${PATH}:rawPredict`, body(), { authorization: `Bearer ${access_token}` });
    expect(ok.status, ok.body.toString()).toBe(200);
    const outcomes = await open.waitForOutcomes(2);
    expect(outcomes[1]!.ext.cloud).toMatchObject({ auth: 'client', provider: 'gcp' });
  });

  it('errors of the proxy itself are in Vertex shape', async () => {
    const r = await post(`${open.url}${PATH}:rawPredict`, '[1,2]');
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body.toString())).toEqual({ error: { code: 400, message: expect.stringContaining('JSON object'), status: 'INVALID_ARGUMENT' } });
  });
});
