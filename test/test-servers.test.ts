/**
 * The real-server harness itself: the global setup's PostgreSQL and Redis answer, a test file
 * gets a database of its own, and a private server can be stopped and started again (what the
 * outage tests do) with its data kept.
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { serversUnavailable, startPostgres, startRedis } from './helpers/servers.js';
import { createTestDatabase, serversSkipReason, testRedisUrl } from './helpers/test-servers.js';

if (serversSkipReason && process.env.CI === '1') throw new Error(`CI=1: ${serversSkipReason}`);

describe.skipIf(serversSkipReason)(`real test servers${serversSkipReason ? ` (skipped: ${serversSkipReason})` : ''}`, () => {
  it('gives each test file a fresh database and drops it', async () => {
    const a = await createTestDatabase();
    const b = await createTestDatabase();
    expect(a.url).not.toBe(b.url);
    const c = new pg.Client({ connectionString: a.url });
    await c.connect();
    await c.query('CREATE TABLE t (x int)');
    await c.query('INSERT INTO t VALUES (42)');
    expect((await c.query('SELECT x FROM t')).rows).toEqual([{ x: 42 }]);
    expect((await c.query('SHOW fsync')).rows[0].fsync).toBe('off');
    await c.end();
    const d = new pg.Client({ connectionString: b.url });
    await d.connect();
    await expect(d.query('SELECT x FROM t')).rejects.toThrow(/does not exist/);
    await d.end();
    await a.drop();
    await b.drop();
    const e = new pg.Client({ connectionString: a.url });
    await expect(e.connect()).rejects.toThrow(/does not exist/);
  });

  it('serves Redis on loopback', async () => {
    const r = new Redis(testRedisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 });
    await r.connect();
    expect(await r.ping()).toBe('PONG');
    expect(await r.config('GET', 'save')).toEqual(['save', '']);
    r.disconnect();
  });
});

const missing = serversUnavailable();
describe.skipIf(missing)(`private servers stop and start for outage tests${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const closers: (() => Promise<void>)[] = [];
  afterAll(async () => {
    await Promise.all(closers.map((c) => c()));
  });

  it('postgres: down after stop(), back with its data after start()', async () => {
    const s = await startPostgres();
    closers.push(() => s.close());
    const q = async (sql: string) => {
      const c = new pg.Client({ connectionString: s.url, connectionTimeoutMillis: 2000 });
      await c.connect();
      try {
        return (await c.query(sql)).rows;
      } finally {
        await c.end();
      }
    };
    await q('CREATE TABLE kept (v text)');
    await q("INSERT INTO kept VALUES ('yes')");
    await s.stop();
    await expect(q('SELECT 1')).rejects.toThrow();
    await s.start();
    expect(await q('SELECT v FROM kept')).toEqual([{ v: 'yes' }]);
  });

  it('redis: down after stop(), back on the same port after start()', async () => {
    const s = await startRedis();
    closers.push(() => s.close());
    const r = new Redis(s.url, { maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => 50, lazyConnect: true });
    await r.connect();
    expect(await r.ping()).toBe('PONG');
    await s.stop();
    await expect(r.ping()).rejects.toThrow();
    await s.start();
    const end = Date.now() + 10_000;
    let pong = '';
    while (!pong && Date.now() < end) {
      pong = await r.ping().catch(() => '');
      if (!pong) await new Promise((res) => setTimeout(res, 50));
    }
    expect(pong).toBe('PONG');
    r.disconnect();
  });
});
