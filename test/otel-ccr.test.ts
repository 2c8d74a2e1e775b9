/**
 * Traces of a request the proxy resolved with a CCR round: one client span per upstream call,
 * the follow-up marked with its round (not as a retry), and the request span carrying the
 * retrieval figures.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateOutput } from '../src/mock/agent-outputs.js';
import { FAKE_ANTHROPIC_KEY, type Harness, startHarness } from './helpers/harness.js';
import { childrenOf, rootSpans } from './helpers/otlp-assert.js';
import { OtlpReceiver } from './helpers/otlp-receiver.js';

const CLIENT = 3;
let h: Harness;
let rx: OtlpReceiver;

beforeAll(async () => {
  rx = new OtlpReceiver();
  await rx.start();
  h = await startHarness({
    config: { otelTracesEnabled: true, otelTracesEndpoint: `${rx.url}/v1/traces`, otelTracesExportIntervalMs: 3_600_000 },
  });
});
afterAll(async () => {
  await h.close();
  await rx.close();
});

it('a retrieval round is a second client span with its round, not a retry', async () => {
  const sample = generateOutput('search_json', 12_000, 42);
  const client = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0 });
  const stream = client.messages.stream(
    {
      model: 'claude-otel-ccr',
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
  await new Promise((r) => setImmediate(r));
  await h.app.service('otel')!.flush();
  const spans = rx.spans();
  const [root] = rootSpans(spans);
  expect(root!.attributes).toMatchObject({ 'headroom.ccr.retrievals': 1, 'headroom.ccr.rounds': 1, 'headroom.ccr.misses': 0 });
  expect(root!.attributes['headroom.ccr.tokens_retrieved']).toBeGreaterThan(0);
  const calls = childrenOf(spans, root!).filter((s) => s.kind === CLIENT);
  expect(calls).toHaveLength(2);
  expect(calls[0]!.attributes['headroom.upstream.retried']).toBeUndefined();
  expect(calls[0]!.attributes['headroom.ccr.round']).toBeUndefined();
  expect(calls[1]!.attributes).toMatchObject({ 'headroom.ccr.round': 1, 'http.response.status_code': 200 });
  // the first round's response was relayed until the follow-up began
  expect(calls[0]!.endMs).toBeLessThanOrEqual(calls[1]!.startMs);
  expect(calls[0]!.endMs).toBeGreaterThan(calls[0]!.startMs);
});
