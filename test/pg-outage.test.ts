/**
 * Postgres down or unresponsive never takes the proxy down (a private server the test stops
 * and starts): requests keep answering 200, `/health` names the degraded stores, the store
 * failures are counted in `/metrics`, and what was recorded meanwhile is written once when
 * the database is back. A database that accepts connections but never answers (a black hole)
 * costs each request at most its deadlines; `--budget-on-store-failure closed` refuses with 503.
 */
import { createServer, type Server, type Socket } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startControlsHarness } from './helpers/controls.js';
import { FAKE_ANTHROPIC_KEY, type Harness } from './helpers/harness.js';
import { freshDatabase, HAVE_PG_BINARIES, type PrivatePostgres, privatePostgres, type TestDatabase } from './helpers/postgres.js';

type Json = Record<string, any>;
const FAST = { databaseStatementTimeoutMs: 400, databaseConnectTimeoutMs: 300, statsFlushMs: 20, skipUpstreamCheck: true, logLevel: 'warn' } as const;

async function send(h: Harness, n: number, tag: string): Promise<number[]> {
  const client = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0 });
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await client.messages.create({ model: 'claude-haiku-4-5', max_tokens: 8, messages: [{ role: 'user', content: `${tag} ${i}` }] }).withResponse().then((x) => x.response.status, (e: { status?: number }) => e.status ?? 0);
    statuses.push(r);
  }
  return statuses;
}

async function until(fn: () => Promise<boolean>, what: string, maxMs = 20_000): Promise<void> {
  const end = Date.now() + maxMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const get = async (h: Harness, path: string): Promise<{ status: number; json: Json; text: string }> => {
  const r = await fetch(`${h.url}${path}`);
  const text = await r.text();
  let json: Json = {};
  try {
    json = JSON.parse(text) as Json;
  } catch {
    json = {};
  }
  return { status: r.status, json, text };
};

describe.skipIf(!HAVE_PG_BINARIES)('Postgres outages (a private server stopped and started)', () => {
  let server: PrivatePostgres;
  const dbs: TestDatabase[] = [];
  const open: Harness[] = [];
  beforeAll(async () => {
    server = await privatePostgres();
  }, 60_000);
  afterEach(async () => {
    for (const h of open.splice(0)) await h.close();
    try {
      server.start();
    } catch {
      // running already
    }
    for (const d of dbs.splice(0)) await d.drop();
  });
  afterAll(() => server?.destroy());

  it('stopped for a while: every request still 200, /health names the stores, buffered records written once on recovery', async () => {
    const d = await freshDatabase(server.url);
    dbs.push(d);
    const h = await startControlsHarness({ config: { ...FAST, databaseUrl: d.url, budgetPerKey: 100 } });
    open.push(h);
    expect(await send(h, 5, 'before')).toEqual(Array(5).fill(200));
    await until(async () => (await d.query<{ n: number }>('SELECT count(*)::int AS n FROM stats_events'))[0]!.n === 5, 'the first 5 events');

    server.stop();
    const during = await send(h, 10, 'during');
    expect(during).toEqual(Array(10).fill(200));
    await until(async () => (await get(h, '/health')).json.checks?.database?.degraded_stores?.length >= 2, 'the database check to name the failing stores');
    const health = (await get(h, '/health')).json;
    expect(health.status).toBe('degraded');
    expect(health.degraded_checks).toEqual(expect.arrayContaining(['database', 'store']));
    expect(health.checks.database.degraded_stores).toEqual(expect.arrayContaining(['stats store', 'budget store']));
    expect(health.checks.store).toMatchObject({ backend: 'postgres', degraded: true });
    expect(health.checks.store.pending_events).toBeGreaterThan(0);
    expect((await get(h, '/readyz')).status).toBe(200);
    const stats = await get(h, '/stats');
    expect(stats.status).toBe(200);
    const metrics = (await get(h, '/metrics')).text;
    const failures = /headroom_store_failures_total\{store="stats store"\} (\d+)/.exec(metrics);
    expect(Number(failures?.[1] ?? 0)).toBeGreaterThan(0);
    expect(metrics).toMatch(/headroom_store_degraded\{store="stats store"\} 1/);

    server.start();
    await until(async () => {
      try {
        return (await d.query<{ n: number }>('SELECT count(*)::int AS n FROM stats_events'))[0]!.n >= 15;
      } catch {
        return false;
      }
    }, 'the buffered events to be written');
    // written once: 15 requests, 15 events, lifetime 15, budget requests 15
    await until(async () => Number((await d.query<{ requests: string }>("SELECT requests FROM budget_period WHERE scope LIKE 'key:%'"))[0]?.requests ?? 0) >= 15, 'the buffered settlements');
    await new Promise((r) => setTimeout(r, 300));
    expect(await d.query('SELECT count(*)::int AS n, count(DISTINCT uid)::int AS uids FROM stats_events')).toEqual([{ n: 15, uids: 15 }]);
    expect(await d.query("SELECT requests::int AS requests FROM stats_totals WHERE scope = 'lifetime'")).toEqual([{ requests: 15 }]);
    expect(await d.query("SELECT requests::int AS requests FROM budget_period WHERE scope LIKE 'key:%'")).toEqual([{ requests: 15 }]);
    await until(async () => (await get(h, '/health')).json.checks?.database?.degraded === false, 'the database check to recover');
    const after = (await get(h, '/stats-history')).json;
    expect(after.lifetime.requests).toBe(15);
  }, 60_000);

  it('--budget-on-store-failure closed: metered requests get 503 while the store is down, 200 again after', async () => {
    const d = await freshDatabase(server.url);
    dbs.push(d);
    const h = await startControlsHarness({ config: { ...FAST, databaseUrl: d.url, budgetPerKey: 100, budgetOnStoreFailure: 'closed' } });
    open.push(h);
    expect(await send(h, 2, 'before')).toEqual([200, 200]);
    server.stop();
    // a request larger than anything the instance may still hold in a lease (a lease taken before
    // the outage keeps admitting what fits in it: its dollars are held for this instance)
    const r = await fetch(`${h.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': FAKE_ANTHROPIC_KEY, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 4096, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('1');
    const err = (await r.json()) as Json;
    expect(err).toMatchObject({ type: 'error', error: { type: 'budget_exceeded' } });
    expect(err.error.message).toMatch(/budget cannot be checked now .*--budget-on-store-failure closed/);
    server.start();
    await until(async () => (await send(h, 1, 'after'))[0] === 200, 'requests to be admitted again');
  }, 60_000);
});

describe('a database that accepts connections but never answers', () => {
  let hole: Server;
  const sockets = new Set<Socket>();
  let port = 0;
  const open: Harness[] = [];
  beforeAll(async () => {
    hole = createServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => hole.listen(0, '127.0.0.1', r));
    port = (hole.address() as { port: number }).port;
  });
  afterEach(async () => {
    for (const h of open.splice(0)) await h.close();
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => hole.close(r));
  });

  it('the proxy starts, serves 200s with a budget (open) and reports the database degraded', async () => {
    const h = await startControlsHarness({ config: { ...FAST, databaseUrl: `postgres://postgres@127.0.0.1:${port}/none`, budgetPerKey: 100 } });
    open.push(h);
    expect(await send(h, 3, 'hole')).toEqual([200, 200, 200]);
    const health = (await get(h, '/health')).json;
    expect(health.checks.database).toMatchObject({ degraded: true, migrated: false });
    expect((await get(h, '/stats')).status).toBe(200);
  }, 30_000);
});
