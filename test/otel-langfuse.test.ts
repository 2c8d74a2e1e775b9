/**
 * Langfuse mode: traces go over OTLP/HTTP to `{LANGFUSE_BASE_URL}/api/public/otel/v1/traces`
 * with Basic auth and `x-langfuse-ingestion-version: 4` (a real receiver plays Langfuse).
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/index.js';
import { FAKE_ANTHROPIC_KEY, type Harness, startHarness } from './helpers/harness.js';
import { send } from './helpers/http.js';
import { childrenOf, rootSpans } from './helpers/otlp-assert.js';
import { OtlpReceiver } from './helpers/otlp-receiver.js';

const PUBLIC_KEY = 'pk-lf-00000000-fake-public';
const SECRET_KEY = 'sk-lf-00000000-fake-secret-do-not-log';
const LANGFUSE_PATH = '/api/public/otel/v1/traces';

let rx: OtlpReceiver;
let h: Harness | null = null;

beforeAll(async () => {
  rx = new OtlpReceiver();
  await rx.start();
});
afterAll(() => rx.close());
afterEach(async () => {
  await h?.close();
  h = null;
  rx.reset();
});

async function delivered(n: number) {
  await h!.waitForOutcomes(n);
  await new Promise((r) => setImmediate(r));
  await h!.app.service('otel')!.flush();
}

describe('Langfuse trace export', () => {
  it('sends the request trace to {base}/api/public/otel/v1/traces with Basic auth and ingestion version 4', async () => {
    h = await startHarness({
      config: {
        langfuseEnabled: true,
        langfusePublicKey: PUBLIC_KEY,
        langfuseSecretKey: SECRET_KEY,
        langfuseBaseUrl: `${rx.url}/`, // a trailing slash is trimmed
        langfuseResourceAttributes: 'deployment.environment=test',
        otelTracesExportIntervalMs: 3_600_000,
      },
    });
    const client = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0 });
    const msg = await client.messages.create({ model: 'claude-langfuse', max_tokens: 32, messages: [{ role: 'user', content: 'hi' }] },
      { headers: { 'x-headroom-session-id': 'session-42' } });
    await delivered(1);

    const exports = rx.exportsTo(LANGFUSE_PATH);
    expect(exports.length).toBeGreaterThan(0);
    expect(rx.received.every((r) => r.path === LANGFUSE_PATH)).toBe(true); // traces only: no metrics go to Langfuse
    const headers = exports[0]!.headers;
    expect(headers.authorization).toBe(`Basic ${Buffer.from(`${PUBLIC_KEY}:${SECRET_KEY}`).toString('base64')}`);
    expect(headers['x-langfuse-ingestion-version']).toBe('4');
    expect(exports[0]!.contentType).toMatch(/^application\/json/);

    const spans = rx.spans(LANGFUSE_PATH);
    const [root] = rootSpans(spans);
    expect(root!.resource).toMatchObject({ 'service.name': 'headroom-proxy', 'deployment.environment': 'test' });
    // the gen_ai attributes Langfuse turns into a generation
    expect(root!.attributes).toMatchObject({
      'gen_ai.request.model': 'claude-langfuse',
      'gen_ai.response.model': 'claude-langfuse',
      'gen_ai.usage.input_tokens': msg.usage.input_tokens,
      'gen_ai.usage.output_tokens': msg.usage.output_tokens,
      'session.id': 'session-42',
    });
    expect(childrenOf(spans, root!).some((s) => s.name === 'POST /v1/messages')).toBe(true);

    const r = await send(`${h.url}/stats`);
    const stats = r.json<{ langfuse: Record<string, unknown>; otel: Record<string, unknown> }>();
    expect(stats.langfuse).toMatchObject({
      configured: true,
      enabled: true,
      service_name: 'headroom-proxy',
      base_url: rx.url,
      endpoint: `${rx.url}${LANGFUSE_PATH}`,
      public_key: PUBLIC_KEY,
      error: null,
    });
    expect(Object.keys(stats.langfuse).slice(0, 5)).toEqual(['configured', 'enabled', 'service_name', 'base_url', 'endpoint']);
    expect((stats.langfuse.exports as Record<string, number>).succeeded).toBeGreaterThan(0);
    expect(stats.langfuse.spans_recorded).toBeGreaterThan(0);
    // Langfuse is a trace backend only; OTEL metrics stay off
    expect(stats.otel).toMatchObject({ enabled: false, metrics_mode: 'off' });
    expect(r.text).not.toContain(SECRET_KEY);
    expect(h.logs.join('')).not.toContain(SECRET_KEY);
    expect(h.logs.join('')).not.toContain(Buffer.from(`${PUBLIC_KEY}:${SECRET_KEY}`).toString('base64'));
    const health = (await send(`${h.url}/health`)).json<{ checks: Record<string, Record<string, unknown>> }>();
    expect(health.checks.otel).toMatchObject({ enabled: true, exporting: ['langfuse'], degraded: false });
  });

  it('Langfuse and an OTEL collector together: each receives the request trace', async () => {
    const collector = new OtlpReceiver();
    await collector.start();
    try {
      h = await startHarness({
        config: {
          langfuseEnabled: true, langfusePublicKey: PUBLIC_KEY, langfuseSecretKey: SECRET_KEY, langfuseBaseUrl: rx.url,
          otelTracesEnabled: true, otelTracesEndpoint: `${collector.url}/v1/traces`, otelServiceName: 'headroom-collector-side',
          otelTracesExportIntervalMs: 3_600_000,
        },
      });
      const traceId = '0af7651916cd43dd8448eb211c80319c';
      const res = await send(`${h.url}/v1/messages`, {
        headers: { 'x-api-key': FAKE_ANTHROPIC_KEY, 'anthropic-version': '2023-06-01', traceparent: `00-${traceId}-b7ad6b7169203331-01` },
        body: JSON.stringify({ model: 'claude-both', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }),
      });
      expect(res.status).toBe(200);
      await delivered(1);
      const lf = rootSpans(rx.spans(LANGFUSE_PATH));
      const col = rootSpans(collector.spans());
      expect(lf.map((s) => [s.name, s.traceId])).toEqual([['chat claude-both', traceId]]);
      expect(col.map((s) => [s.name, s.traceId])).toEqual([['chat claude-both', traceId]]);
      expect(col[0]!.resource['service.name']).toBe('headroom-collector-side');
      expect(collector.received.some((r) => r.headers.authorization)).toBe(false);
    } finally {
      await collector.close();
    }
  });

  it('enabled without keys: nothing is sent, /stats.langfuse says why, a warning is logged', async () => {
    h = await startHarness({ config: { langfuseEnabled: true, langfusePublicKey: PUBLIC_KEY, langfuseBaseUrl: rx.url } });
    const res = await send(`${h.url}/v1/messages`, {
      headers: { 'x-api-key': FAKE_ANTHROPIC_KEY, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'claude-nokeys', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(res.status).toBe(200);
    await delivered(1);
    expect(rx.received).toEqual([]);
    const stats = (await send(`${h.url}/stats`)).json<{ langfuse: Record<string, unknown> }>();
    expect(stats.langfuse).toMatchObject({ configured: false, enabled: true, exports: null, spans_recorded: 0 });
    expect(stats.langfuse.error).toMatch(/LANGFUSE_SECRET_KEY not set/);
    expect(h.logs.some((l) => l.includes('Langfuse is enabled but not configured'))).toBe(true);
  });

  it('not enabled: the block is all null/false and no Langfuse export exists', async () => {
    h = await startHarness({ config: { langfusePublicKey: PUBLIC_KEY, langfuseSecretKey: SECRET_KEY, langfuseBaseUrl: rx.url } });
    const stats = (await send(`${h.url}/stats`)).json<{ langfuse: Record<string, unknown> }>();
    expect(stats.langfuse).toMatchObject({ configured: false, enabled: false, service_name: null, base_url: null, endpoint: null, public_key: null, error: null });
    expect(h.app.service('otel')!.langfuseStats).toBeNull();
  });

  it('reads Headroom\'s environment variables (LANGFUSE_BASE_URL, LANGFUSE_OTEL_HOST fallback), default cloud URL', () => {
    const env = { HEADROOM_LANGFUSE_ENABLED: '1', LANGFUSE_PUBLIC_KEY: PUBLIC_KEY, LANGFUSE_SECRET_KEY: SECRET_KEY, LANGFUSE_OTEL_HOST: 'https://langfuse.internal.test' };
    const c = loadConfig({ env }).config;
    expect([c.langfuseEnabled, c.langfusePublicKey, c.langfuseSecretKey, c.langfuseBaseUrl]).toEqual([true, PUBLIC_KEY, SECRET_KEY, 'https://langfuse.internal.test']);
    expect(loadConfig({ env: { ...env, LANGFUSE_BASE_URL: 'https://eu.langfuse.test' } }).config.langfuseBaseUrl).toBe('https://eu.langfuse.test');
    expect(loadConfig({ env: {} }).config.langfuseBaseUrl).toBeNull();
    expect(() => loadConfig({ env: { LANGFUSE_BASE_URL: 'langfuse' } })).toThrow(/langfuseBaseUrl/);
  });
});
