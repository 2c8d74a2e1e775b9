/**
 * Real Postgres for the shared-storage tests.
 *
 * - `HEADROOM_TEST_DATABASE_URL` names a server the tests may create databases on (CI's
 *   global setup starts a private one and sets it; for development, any local server). Each
 *   test gets a fresh database of its own (`freshDatabase`), dropped afterwards. When the
 *   variable is unset the tests are skipped with {@link PG_SKIP_REASON}.
 * - `privatePostgres()` starts a server of the test's own in a temporary folder (initdb and
 *   pg_ctl; as the `postgres` user when running as root, since Postgres refuses root), so an
 *   outage test can stop and start it.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const TEST_PG_URL = process.env.HEADROOM_TEST_DATABASE_URL?.trim() || null;
export const PG_SKIP_REASON = 'HEADROOM_TEST_DATABASE_URL is not set: the Postgres storage tests need a real server (set it to a postgres:// URL whose user may CREATE DATABASE)';

if (!TEST_PG_URL) process.stderr.write(`skipping the Postgres storage tests: ${PG_SKIP_REASON}\n`);

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

export interface TestDatabase {
  url: string;
  name: string;
  query<T extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

/** A new empty database on `server` (default: HEADROOM_TEST_DATABASE_URL). */
export async function freshDatabase(server = TEST_PG_URL): Promise<TestDatabase> {
  if (!server) throw new Error(PG_SKIP_REASON);
  const name = `store_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: withDatabase(server, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(server, name);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => undefined);
  return {
    url,
    name,
    async query(sql, params) {
      return (await pool.query(sql, params)).rows;
    },
    async drop() {
      await pool.end().catch(() => undefined);
      const a = new pg.Client({ connectionString: withDatabase(server, 'postgres') });
      await a.connect();
      try {
        await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.end();
      }
    },
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const BIN_DIRS = ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin', '/usr/local/bin', '/usr/bin'];

function pgBin(name: string): string | null {
  for (const d of BIN_DIRS) if (existsSync(join(d, name))) return join(d, name);
  return null;
}

export const HAVE_PG_BINARIES = pgBin('initdb') !== null && pgBin('pg_ctl') !== null;

export interface PrivatePostgres {
  /** The server's `postgres` database URL. */
  url: string;
  port: number;
  stop(): void;
  start(): void;
  destroy(): void;
}

/** Starts a private server on a free loopback port in a temporary folder. */
export async function privatePostgres(): Promise<PrivatePostgres> {
  const initdb = pgBin('initdb');
  const pgCtl = pgBin('pg_ctl');
  if (!initdb || !pgCtl) throw new Error('initdb/pg_ctl not found');
  const root = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'headroom-pg-'));
  const data = join(dir, 'data');
  if (root) chmodSync(dir, 0o777);
  const run = (bin: string, args: string[]) =>
    root ? execFileSync('runuser', ['-u', 'postgres', '--', bin, ...args], { stdio: 'pipe' }) : execFileSync(bin, args, { stdio: 'pipe' });
  run(initdb, ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
  const start = () => void run(pgCtl, ['-D', data, '-o', opts, '-w', '-t', '30', '-l', join(dir, 'log'), 'start']);
  const stop = () => void run(pgCtl, ['-D', data, '-m', 'fast', '-w', 'stop']);
  start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start,
    stop,
    destroy() {
      try {
        stop();
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
