import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './helpers/harness.js';
import { getJson, rawRequest, REMOTE_HOST } from './helpers/http.js';

type Json = Record<string, any>;

let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

async function closedPortUrl(): Promise<string> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

const heads = (hh: Harness) => hh.mock.requests.filter((r) => r.method === 'HEAD').length;

describe('health endpoints', () => {
  it('/livez reports liveness', async () => {
    h = await startHarness();
    const body = await getJson<Json>(`${h.url}/livez`);
    expect(body).toMatchObject({ service: 'headroom-proxy', status: 'healthy', alive: true });
    expect(body.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(typeof body.uptime_seconds).toBe('number');
  });

  it('/health has Headroom\'s shape with store, upstream and memory checks; config for strict loopback only', async () => {
    h = await startHarness({ config: { proxyToken: 'secret-proxy-token-xyz' } });
    // the first readiness check probes the upstream; /health reports the last result without waiting
    await getJson(`${h.url}/readyz`);
    const body = await getJson<Json>(`${h.url}/health`);
    expect(body).toMatchObject({ service: 'headroom-proxy', status: 'healthy', ready: true, rust_core: 'disabled' });
    expect(Object.keys(body.checks)).toEqual(expect.arrayContaining(['startup', 'http_client', 'cache', 'rate_limiter', 'memory', 'upstream', 'store']));
    expect(body.checks.cache).toEqual({ enabled: false, ready: true, status: 'disabled' });
    expect(body.checks.memory).toMatchObject({ enabled: true, ready: true, status: 'healthy', backend: 'process' });
    expect(body.checks.memory.heap_used_bytes).toBeGreaterThan(0);
    expect(body.checks.store).toMatchObject({ enabled: true, ready: true, status: 'healthy', backend: 'sqlite', degraded: false });
    expect(body.checks.upstream).toMatchObject({ enabled: true, ready: true, status: 'healthy', url: h.mock.url });
    expect(body.config).toMatchObject({ anthropic_api_url: h.mock.url, pid: process.pid, target_ratio: null });
    expect(JSON.stringify(body)).not.toContain('secret-proxy-token-xyz');
    const remote = (await rawRequest(`${h.url}/health`, { headers: REMOTE_HOST })).json<Json>();
    expect(remote).not.toHaveProperty('config');
  });

  it('caches the upstream probe (one HEAD for several health calls)', async () => {
    h = await startHarness();
    await getJson(`${h.url}/health`);
    await getJson(`${h.url}/readyz`);
    await getJson(`${h.url}/health`);
    expect(heads(h)).toBe(1);
  });

  it('an unreachable upstream makes /readyz 503 and /health report unhealthy', async () => {
    h = await startHarness({ upstreamUrl: await closedPortUrl() });
    const ready = await fetch(`${h.url}/readyz`);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as Json;
    expect(body.checks.upstream).toMatchObject({ enabled: true, ready: false, status: 'unhealthy' });
    expect(body.checks.upstream.error).toBeTruthy();
    const health = await fetch(`${h.url}/health`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as Json).status).toBe('unhealthy');
  });

  it('HEADROOM_SKIP_UPSTREAM_CHECK disables the probe', async () => {
    h = await startHarness({ upstreamUrl: await closedPortUrl(), config: { skipUpstreamCheck: true } });
    const ready = await fetch(`${h.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as Json).checks.upstream).toMatchObject({ enabled: false, ready: true, status: 'disabled' });
  });

  it('/readyz is 503 until the app is ready', async () => {
    h = await startHarness({ config: { skipUpstreamCheck: true } });
    h.app.ready = false;
    const res = await fetch(`${h.url}/readyz`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as Json).checks.startup).toMatchObject({ ready: false, status: 'unhealthy' });
    h.app.ready = true;
    expect((await fetch(`${h.url}/readyz`)).status).toBe(200);
  });
});

describe('health under load', () => {
  it('with every pooled upstream connection held by a stream, /readyz stays 200 and /health answers (the probe has its own pool)', async () => {
    // a small pool makes "every connection busy" cheap to reach; 300 held requests exceed it
    h = await startHarness({ config: { upstreamConnections: 16, retryMaxAttempts: 1 } });
    const held: Promise<unknown>[] = [];
    const aborts: AbortController[] = [];
    for (let i = 0; i < 300; i++) {
      const ac = new AbortController();
      aborts.push(ac);
      held.push(
        fetch(`${h.url}/v1/messages`, {
          method: 'POST',
          signal: ac.signal,
          headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-test-held', 'anthropic-version': '2023-06-01', 'x-mock-scenario': 'hang' },
          body: JSON.stringify({ model: 'claude-haiku-5-5', max_tokens: 8, stream: true, messages: [{ role: 'user', content: `held ${i}` }] }),
        }).catch(() => undefined),
      );
    }
    // the pool is full: 16 requests reached the mock, the other 284 wait for a connection
    await h.mock.waitForRequests(16);
    const ready = await fetch(`${h.url}/readyz`);
    const readyBody = (await ready.json()) as Json;
    expect(readyBody.checks.upstream).toMatchObject({ ready: true, status: 'healthy' });
    expect(ready.status).toBe(200);
    const health = await fetch(`${h.url}/health`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as Json).checks.upstream.ready).toBe(true);
    expect(heads(h)).toBe(1);
    for (const ac of aborts) ac.abort();
    await Promise.all(held);
  });
});
