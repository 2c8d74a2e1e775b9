/**
 * What routing shows: the requested model beside the provider and model that answered in
 * `/stats`, the live running totals and logs, Prometheus (labels capped, overflow `other`),
 * and one OTEL client span per attempt with its provider.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { remoteStatsSchema, routingSectionSchema } from '../src/capabilities/stats/schema.js';
import { MockUpstream } from '../src/mock/upstream.js';
import { FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';
import { childrenOf, rootSpans } from './helpers/otlp-assert.js';
import { OtlpReceiver } from './helpers/otlp-receiver.js';

const CLIENT = 3; // SpanKind.CLIENT in OTLP

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

let h: Harness;
let good: MockUpstream;
let rx: OtlpReceiver;
let openai: OpenAI;

beforeAll(async () => {
  good = new MockUpstream();
  rx = new OtlpReceiver();
  await Promise.all([good.start(), rx.start()]);
  const file = join(mkdtempSync(join(tmpdir(), 'headroom-routing-obs-')), 'routing.yaml');
  writeFileSync(
    file,
    [
      'providers:',
      `  dead: { format: openai, base_url: "http://127.0.0.1:${await closedPort()}/v1" }`,
      `  good: { format: openai, base_url: "${good.url}/v1" }`,
      'model_aliases:',
      '  smart: dead:big',
      '  "many-*": good:small',
      'fallbacks:',
      '  dead:big: [good:backup]',
      '',
    ].join('\n'),
  );
  h = await startHarness({
    config: { routingConfig: file, retryMaxAttempts: 1, otelTracesEnabled: true, otelTracesEndpoint: `${rx.url}/v1/traces`, otelTracesExportIntervalMs: 3_600_000 },
  });
  openai = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0 });
});
afterAll(async () => {
  await h.close();
  await Promise.all([good.close(), rx.close()]);
});

describe('routing in every view', () => {
  it('a fallback: OTEL has one client span per attempt, each with its provider', async () => {
    await openai.chat.completions.create({ model: 'smart', messages: [{ role: 'user', content: 'hi' }] });
    await h.waitForOutcomes(1);
    await new Promise((r) => setImmediate(r));
    await h.app.service('otel')!.flush();
    const spans = rx.spans();
    const [root] = rootSpans(spans);
    expect(root!.attributes).toMatchObject({ 'gen_ai.request.model': 'smart', 'headroom.routing.provider': 'good', 'headroom.routing.model': 'backup', 'headroom.routing.via': 'fallback', 'headroom.routing.attempts': 2 });
    const calls = childrenOf(spans, root!).filter((s) => s.kind === CLIENT);
    expect(calls.map((c) => [c.attributes['headroom.upstream.provider'], c.attributes['headroom.upstream.model'], c.attributes['error.type'] ?? null, c.attributes['http.response.status_code'] ?? null])).toEqual([
      ['dead', 'big', 'connect', null],
      ['good', 'backup', null, 200],
    ]);
    expect(calls[0]!.attributes['headroom.upstream.fell_back']).toBe(true);
  });

  it('/stats, the live totals and logs show requested and resolved names; Prometheus caps its labels', async () => {
    // a bare model, then 40 distinct requested models through one wildcard route
    await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'plain' }] });
    for (let i = 0; i < 40; i++) await openai.chat.completions.create({ model: `many-${i}`, messages: [{ role: 'user', content: `n${i}` }] });
    await h.waitForOutcomes(42);

    const stats = remoteStatsSchema.passthrough().parse(await (await fetch(`${h.url}/stats`)).json());
    const req = stats.requests;
    expect(req.by_routed_provider).toMatchObject({ good: 41, openai: 1 });
    expect(req.by_requested_model).toMatchObject({ smart: 1, 'many-0': 1, 'many-39': 1, 'gpt-4o-mini': 1 });
    expect(req.by_route).toMatchObject({ 'smart -> good:backup': 1, 'many-7 -> good:small': 1 });
    expect(req.fell_back).toBe(1);
    const routing = routingSectionSchema.strict().parse(stats.routing);
    expect(routing.breakers.dead).toMatchObject({ state: 'closed', consecutive_failures: 1 });
    expect(routing.attempts).toEqual({ dead: { ok: 0, failed: 1, skipped: 0 }, good: { ok: 41, failed: 0, skipped: 0 } });

    const totals = (await (await fetch(`${h.url}/metrics/running-totals?format=json`)).json()) as { providers: Record<string, { models: Record<string, unknown> }> };
    expect(Object.keys(totals.providers).sort()).toEqual(['good', 'openai']);
    expect(Object.keys(totals.providers.good!.models).sort()).toEqual(['backup', 'small']);
    const logs = (await (await fetch(`${h.url}/metrics/logs`)).json()) as { traces: { requested_model: string; routed_provider: string | null; routed_model: string | null }[] };
    expect(logs.traces.find((t) => t.requested_model === 'smart')).toMatchObject({ routed_provider: 'good', routed_model: 'backup' });
    expect(logs.traces.find((t) => t.requested_model === 'gpt-4o-mini')).toMatchObject({ routed_provider: null, routed_model: null });

    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    const routed = metrics.split('\n').filter((l) => l.startsWith('headroom_routed_requests_total{'));
    expect(routed).toContain('headroom_routed_requests_total{requested_model="smart",provider="good",model="backup"} 1');
    expect(routed).toContain('headroom_routed_requests_total{requested_model="gpt-4o-mini",provider="openai",model="gpt-4o-mini"} 1');
    // 32 requested names are kept (smart, gpt-4o-mini, many-0..29); the later ones share `other`
    const names = new Set(routed.map((l) => /requested_model="([^"]*)"/.exec(l)![1]));
    expect(names.size).toBe(33);
    expect(names.has('other')).toBe(true);
    const otherLine = routed.find((l) => l.includes('requested_model="other"'))!;
    expect(Number(otherLine.split(' ').at(-1))).toBe(10);
    expect(routed).toContain('headroom_routed_requests_total{requested_model="many-29",provider="good",model="small"} 1');
    expect(metrics).toContain('headroom_routing_attempts_total{provider="dead",result="connect"} 1');
    expect(metrics).toContain('headroom_routing_attempts_total{provider="good",result="ok"} 41');
  });
});
