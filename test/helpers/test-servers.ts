/**
 * What the fleet tests use of the real servers the global setup started (or that the
 * environment named): their URLs, a fresh database per test file, and whether they are here.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Why the real servers are absent (the tests that need them skip with this), or null. */
export const serversSkipReason: string | null =
  process.env.HEADROOM_TEST_DATABASE_URL && process.env.HEADROOM_TEST_REDIS_URL
    ? null
    : `no test servers: ${process.env.HEADROOM_TEST_SERVERS_SKIP ?? 'HEADROOM_TEST_DATABASE_URL / HEADROOM_TEST_REDIS_URL not set'}`;

export function testDatabaseUrl(): string {
  const url = process.env.HEADROOM_TEST_DATABASE_URL;
  if (!url) throw new Error(serversSkipReason ?? 'HEADROOM_TEST_DATABASE_URL not set');
  return url;
}

export function testRedisUrl(): string {
  const url = process.env.HEADROOM_TEST_REDIS_URL;
  if (!url) throw new Error(serversSkipReason ?? 'HEADROOM_TEST_REDIS_URL not set');
  return url;
}

export interface TestDatabase {
  url: string;
  name: string;
  /** Drops it (connections still open to it are terminated). */
  drop(): Promise<void>;
}

/** A new, empty database on the test server, for one test file. */
export async function createTestDatabase(prefix = 'headroom_test'): Promise<TestDatabase> {
  const admin = new URL(testDatabaseUrl());
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(admin.toString());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: admin.toString() });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A key prefix of its own for one test file on the shared Redis. */
export function testRedisPrefix(name: string): string {
  return `headroom-test:${name}:${randomBytes(4).toString('hex')}:`;
}
