/**
 * An unreachable, hanging or failing collector never fails a request: exports run on the
 * SDK's timers, their failures are counted (/stats, health) and logged once, and shutdown is
 * bounded by the export timeout.
 */
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';
import { anthropicHeaders, openaiHeaders, send } from './helpers/http.js';
import { OtlpReceiver } from './helpers/otlp-receiver.js';

let h: Harness | null = null;
let rx: OtlpReceiver | null = null;

afterEach(async () => {
  await h?.close();
  await rx?.close();
  h = null;
  rx = null;
});

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function exportingTo(base: string, extra: Record<string, unknown> = {}) {
  return {
    otelMetricsEnabled: true,
    otelMetricsEndpoint: `${base}/v1/metrics`,
    otelMetricsExportIntervalMs: 50,
    otelTracesEnabled: true,
    otelTracesEndpoint: `${base}/v1/traces`,
    otelTracesExportIntervalMs: 50,
    langfuseEnabled: true,
    langfusePublicKey: 'pk-lf-fake',
    langfuseSecretKey: 'sk-lf-fake-secret',
    langfuseBaseUrl: base,
    otelExportTimeoutMs: 300,
    ...extra,
  };
}

/** A mixed batch of requests: Anthropic and OpenAI, streaming and not. */
async function traffic(url: string, n: number): Promise<number[]> {
  const statuses = await Promise.all(Array.from({ length: n }, async (_, i) => {
    const stream = i % 2 === 0;
    const res = i % 3 === 0
      ? await send(`${url}/v1/chat/completions`, { headers: openaiHeaders(FAKE_OPENAI_KEY), body: JSON.stringify({ model: 'gpt-failing-collector', stream, messages: [{ role: 'user', content: `q${i}` }] }) })
      : await send(`${url}/v1/messages`, { headers: anthropicHeaders(FAKE_ANTHROPIC_KEY), body: JSON.stringify({ model: 'claude-failing-collector', stream, max_tokens: 16, messages: [{ role: 'user', content: `q${i}` }] }) });
    if (stream) expect(res.text).toMatch(/\[DONE\]|message_stop/);
    return res.status;
  }));
  return statuses;
}

async function until(test: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('collector failures never reach requests', () => {
  it('closed port: every request succeeds, failures are counted per destination, health stays ready', async () => {
    const port = await closedPort();
    h = await startHarness({ config: exportingTo(`http://127.0.0.1:${port}`) });
    const rt = h.app.service('otel')!;
    const statuses = await traffic(h.url, 24);
    expect(statuses.every((s) => s === 200)).toBe(true);
    await h.waitForOutcomes(24);
    await until(() => rt.managedMetrics!.stats.failed > 0 && rt.managedTraces!.stats.failed > 0 && rt.langfuseStats!.failed > 0, 'failed exports');
    // more traffic while exports keep failing
    expect((await traffic(h.url, 12)).every((s) => s === 200)).toBe(true);

    const stats = (await send(`${h.url}/stats`)).json<{ otel: Record<string, any>; langfuse: Record<string, any> }>();
    expect(stats.otel.exports.failed).toBeGreaterThan(0);
    expect(stats.otel.exports.failing).toBe(true);
    expect(stats.otel.exports.last_error).toMatch(/ECONNREFUSED|connect/i);
    expect(stats.otel.traces.exports.failed).toBeGreaterThan(0);
    expect(stats.otel.traces.exports.items_failed).toBeGreaterThan(0);
    expect(stats.langfuse.exports.failed).toBeGreaterThan(0);
    expect(stats.otel.record_errors).toBe(0);
    const health = await send(`${h.url}/readyz`);
    expect(health.status).toBe(200);
    const checks = health.json<{ checks: Record<string, Record<string, unknown>> }>().checks;
    expect(checks.otel).toMatchObject({ enabled: true, ready: true, status: 'degraded', degraded: true, failing: ['metrics', 'traces', 'langfuse'] });
    // one warning per destination when it starts failing, not one per export
    const warnings = h.logs.filter((l) => l.includes('OTEL export failed'));
    expect(warnings).toHaveLength(3);
    expect(h.logs.join('')).not.toContain('sk-lf-fake-secret');
    await h.close(); // bounded: does not wait on the dead collector beyond the export timeout
    h = null;
  });

  it('hanging collector: requests complete while exports are stuck; the stuck exports time out and are counted', async () => {
    rx = new OtlpReceiver();
    rx.mode = 'hang';
    await rx.start();
    h = await startHarness({ config: exportingTo(rx.url, { langfuseEnabled: false }) });
    const rt = h.app.service('otel')!;
    expect((await traffic(h.url, 4)).every((s) => s === 200)).toBe(true);
    // an export is now in flight and will never be answered
    await rx.waitFor(() => rx!.received.length > 0, 10_000, 'an export to reach the hanging collector');
    const statuses = await traffic(h.url, 24);
    expect(statuses.every((s) => s === 200)).toBe(true);
    const outcomes = await h.waitForOutcomes(28);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    await until(() => rt.managedMetrics!.stats.failed > 0 && rt.managedTraces!.stats.failed > 0, 'timed-out exports');
    expect(rt.managedTraces!.stats.lastError).toMatch(/timeout|timed out|abort/i);
    await rt.flush(); // resolves although the collector never answers
    await h.close();
    h = null;
  });

  it('a collector answering 503 then recovering: failures counted, recovery logged, figures exported again', async () => {
    rx = new OtlpReceiver();
    rx.mode = 'status:503';
    await rx.start();
    h = await startHarness({ config: exportingTo(rx.url, { langfuseEnabled: false, otelTracesEnabled: false }) });
    const rt = h.app.service('otel')!;
    expect((await traffic(h.url, 4)).every((s) => s === 200)).toBe(true);
    await until(() => rt.managedMetrics!.stats.failed > 0, 'a failed export');
    rx.mode = 'ok';
    await until(() => !rt.managedMetrics!.stats.failing, 'recovery');
    expect(h.logs.some((l) => l.includes('OTEL export recovered'))).toBe(true);
    const stats = (await send(`${h.url}/stats`)).json<{ otel: Record<string, any> }>();
    expect(stats.otel.exports.succeeded).toBeGreaterThan(0);
    expect(stats.otel.exports.failing).toBe(false);
    expect(stats.otel.exports.last_error).toBeTruthy();
  });

  it('a broken outcome is counted as a recording error, never thrown; the proxy keeps working', async () => {
    rx = new OtlpReceiver();
    await rx.start();
    h = await startHarness({ config: { otelTracesEnabled: true, otelTracesEndpoint: `${rx.url}/v1/traces`, otelTracesExportIntervalMs: 3_600_000 } });
    const rt = h.app.service('otel')!;
    const ask = () => send(`${h!.url}/v1/messages`, { headers: anthropicHeaders(FAKE_ANTHROPIC_KEY), body: JSON.stringify({ model: 'claude-x', max_tokens: 4, messages: [{ role: 'user', content: 'x' }] }) });
    expect((await ask()).status).toBe(200);
    await h.waitForOutcomes(1);
    await new Promise((r) => setImmediate(r));
    expect(rt.recordErrors).toBe(0);
    expect(rt.recorded).toBe(1);
    // an outcome a buggy producer could emit
    const broken = { ...h.outcomes[0]!, timing: { ...h.outcomes[0]!.timing, upstreamCalls: null as never } };
    expect(() => rt.record(broken, h!.app.service('stats')!.accountingOf(broken))).not.toThrow();
    expect(rt.recordErrors).toBe(1);
    expect(h.logs.some((l) => l.includes('OTEL recording failed'))).toBe(true);
    expect((await ask()).status).toBe(200);
    await h.waitForOutcomes(2);
    await new Promise((r) => setImmediate(r));
    expect(rt.recordErrors).toBe(1);
    const stats = (await send(`${h.url}/stats`)).json<{ otel: Record<string, unknown> }>();
    expect(stats.otel.record_errors).toBe(1);
  });
});
