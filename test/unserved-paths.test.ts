/**
 * The `/v1/*` catch-all forwards only paths of the Anthropic and OpenAI APIs, each to its own
 * upstream: the headroom-ai SDK's telemetry, feedback and TOIN endpoints are answered locally
 * in Headroom's shapes (feature off), and any other path is a 404 with no upstream call, so a
 * caller's credentials never reach an upstream they were not meant for.
 */
import { HeadroomClient } from 'headroom-ai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MockUpstream } from '../src/mock/upstream.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';
import { anthropicHeaders, openaiHeaders, send } from './helpers/http.js';

const CLOUD_KEY = 'hr-test-cloud-key-0000000000';

let h: Harness;
const anthropicMock = new MockUpstream();
beforeAll(async () => {
  await anthropicMock.start();
  // h.mock is the OpenAI upstream; Anthropic gets its own
  h = await startHarness({ config: { anthropicApiUrl: anthropicMock.url } });
});
afterAll(async () => {
  await h.close();
  await anthropicMock.close();
});
beforeEach(async () => {
  await h.reset();
  anthropicMock.reset();
});

const upstreamCalls = () => h.mock.requests.length + anthropicMock.requests.length;

describe('headroom-ai SDK endpoints of features headroom-ts does not have', () => {
  it('are answered locally with nothing collected, and never forwarded with the SDK key', async () => {
    const hr = new HeadroomClient({ baseUrl: h.url, apiKey: CLOUD_KEY, retries: 0, fallback: false });
    expect(await hr.telemetry.getStats()).toEqual({
      enabled: false, totalCompressions: 0, totalRetrievals: 0, totalTokensSaved: 0, globalRetrievalRate: 0,
      toolSignaturesTracked: 0, eventsInMemory: 0, avgCompressionRatio: 0, avgTokenReduction: 0,
    });
    expect(await hr.telemetry.export()).toMatchObject({ enabled: false, tool_stats: {} });
    expect(await hr.telemetry.import({ tool_stats: { abc: {} } })).toMatchObject({ status: 'ignored' });
    expect(await hr.telemetry.getTools()).toEqual({ toolCount: 0, tools: {} });
    await expect(hr.telemetry.getTool('abc123')).rejects.toThrow();
    expect(await hr.feedback.getStats()).toEqual({
      feedback: { totalCompressions: 0, totalRetrievals: 0, globalRetrievalRate: 0, toolsTracked: 0, toolPatterns: {} },
      hintsExample: {},
    });
    const hints = await hr.feedback.getHints('Read');
    expect(hints).toMatchObject({ toolName: 'Read', hints: { maxItems: 15, skipCompression: true }, pattern: null });
    expect(await hr.toin.getStats()).toEqual({ enabled: false, patternsTracked: 0, totalCompressions: 0, totalRetrievals: 0, globalRetrievalRate: 0, patternsWithRecommendations: 0 });
    expect(await hr.toin.getPatterns(5)).toEqual([]);
    await expect(hr.toin.getPattern('abcd')).rejects.toThrow();
    expect(upstreamCalls()).toBe(0);
  });

  it('404 bodies have Headroom\'s `detail` shape', async () => {
    const r = await send(`${h.url}/v1/toin/pattern/abcd`);
    expect(r.status).toBe(404);
    expect(r.json()).toEqual({ detail: 'No TOIN pattern found with hash starting with: abcd' });
    const t = await send(`${h.url}/v1/telemetry/tools/feed42`);
    expect(t.json()).toEqual({ detail: 'No telemetry found for signature: feed42' });
  });
});

describe('paths of neither provider API', () => {
  it('get 404 in a clear shape and reach no upstream, whatever credentials they carry', async () => {
    const cases: [string, string, Record<string, string>][] = [
      ['GET', '/v1/toin/other', { authorization: `Bearer ${CLOUD_KEY}` }],
      ['POST', '/v1/feedback/x/y', { authorization: `Bearer ${CLOUD_KEY}` }],
      ['GET', '/v1/something-else', openaiHeaders(FAKE_OPENAI_KEY)],
      ['POST', '/v1/unknown/thing', anthropicHeaders(FAKE_ANTHROPIC_KEY)],
      ['DELETE', '/v1/organizations-typo/x', anthropicHeaders(FAKE_ANTHROPIC_KEY)],
    ];
    for (const [method, path, headers] of cases) {
      const r = await send(`${h.url}${path}`, { method, headers, ...(method === 'POST' ? { body: '{}' } : {}) });
      expect(r.status, path).toBe(404);
      expect(r.json<{ error: { type: string; message: string } }>().error.type, path).toBe('not_found');
      expect(r.json<{ error: { message: string } }>().error.message, path).toMatch(/forwards only paths of the Anthropic and OpenAI APIs, and no upstream was called/);
    }
    expect(upstreamCalls()).toBe(0);
  });

  it('provider API paths still go through, each to its own provider', async () => {
    expect((await send(`${h.url}/v1/embeddings`, { body: JSON.stringify({ model: 'text-embedding-3-small', input: 'x' }), headers: openaiHeaders(FAKE_OPENAI_KEY) })).status).toBe(200);
    expect(h.mock.last!.path).toBe('/v1/embeddings');
    expect(h.mock.last!.headers.authorization).toBe(`Bearer ${FAKE_OPENAI_KEY}`);
    await send(`${h.url}/v1/models`, { headers: anthropicHeaders(FAKE_ANTHROPIC_KEY) });
    await send(`${h.url}/v1/messages/batches/msgbatch_1`, { headers: anthropicHeaders(FAKE_ANTHROPIC_KEY) });
    expect(anthropicMock.requests.map((q) => q.path)).toEqual(['/v1/models', '/v1/messages/batches/msgbatch_1']);
    expect(anthropicMock.requests.every((q) => q.headers['x-api-key'] === FAKE_ANTHROPIC_KEY)).toBe(true);
    expect(h.mock.requests).toHaveLength(1);
  });
});
