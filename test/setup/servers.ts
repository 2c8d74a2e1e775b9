/**
 * Vitest global setup: the real servers the fleet tests share. Unless `HEADROOM_TEST_DATABASE_URL`
 * and `HEADROOM_TEST_REDIS_URL` already point at servers, starts a private PostgreSQL 15 and a
 * private redis-server (test/helpers/servers.ts: free loopback ports, temp folders, nothing
 * persisted), exports their URLs to the test processes, and stops and removes them at teardown.
 *
 * Missing binaries: under CI=1 the run stops here, loudly (.ci/run installs the Debian packages
 * "postgresql" and "redis-server"); elsewhere the fleet tests skip and say why
 * (`HEADROOM_TEST_SERVERS_SKIP` carries the reason).
 */
import { serversUnavailable, startPostgres, startRedis, type TestServer } from '../helpers/servers.js';

export default async function setup(): Promise<() => Promise<void>> {
  const started: TestServer[] = [];
  const wantPg = !process.env.HEADROOM_TEST_DATABASE_URL;
  const wantRedis = !process.env.HEADROOM_TEST_REDIS_URL;
  const teardown = async () => {
    await Promise.allSettled(started.map((s) => s.close()));
  };
  if (!wantPg && !wantRedis) return teardown;
  const missing = serversUnavailable();
  if (missing) {
    if (process.env.CI === '1') throw new Error(`CI=1: the fleet tests need real servers, ${missing}`);
    process.env.HEADROOM_TEST_SERVERS_SKIP = missing;
    return teardown;
  }
  const [pg, redis] = await Promise.all([wantPg ? startPostgres() : null, wantRedis ? startRedis() : null]);
  if (pg) {
    started.push(pg);
    process.env.HEADROOM_TEST_DATABASE_URL = pg.url;
  }
  if (redis) {
    started.push(redis);
    process.env.HEADROOM_TEST_REDIS_URL = redis.url;
  }
  return teardown;
}
