/**
 * Private PostgreSQL 15 and Redis servers for the tests: each on a free loopback port, its data in
 * a temporary folder, nothing persisted (`fsync=off`, no RDB/AOF), stopped and removed at the end.
 * The global setup (test/setup/servers.ts) starts one of each for the whole run and exports their
 * URLs (`HEADROOM_TEST_DATABASE_URL`, `HEADROOM_TEST_REDIS_URL`); outage tests start their own
 * with these functions so that stopping one never disturbs the other test files.
 *
 * PostgreSQL refuses to run as root: as root the server runs as the `postgres` user (runuser).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PG_BIN = process.env.HEADROOM_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';
export const REDIS_SERVER = process.env.HEADROOM_TEST_REDIS_SERVER ?? 'redis-server';

export interface TestServer {
  /** `postgres://...` or `redis://...` on 127.0.0.1. */
  url: string;
  port: number;
  /** Stops the server (its data folder stays, so `start()` brings it back with the same data). */
  stop(): Promise<void>;
  /** Starts it again on the same port after `stop()`. */
  start(): Promise<void>;
  /** Stops it and removes its folder. */
  close(): Promise<void>;
}

/** Why the servers cannot run here (a missing binary), or null when they can. */
export function serversUnavailable(): string | null {
  const missing: string[] = [];
  if (!existsSync(join(PG_BIN, 'initdb')) || !existsSync(join(PG_BIN, 'postgres'))) missing.push(`PostgreSQL 15 (${PG_BIN}/initdb; Debian package "postgresql")`);
  if (spawnSync(REDIS_SERVER, ['--version']).status !== 0) missing.push(`${REDIS_SERVER} (Debian package "redis-server")`);
  return missing.length ? `missing ${missing.join(' and ')}` : null;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs `cmd args` as the postgres user when we are root. */
function asPostgres(cmd: string, args: string[]): { cmd: string; args: string[] } {
  return isRoot ? { cmd: 'runuser', args: ['-u', 'postgres', '--', cmd, ...args] } : { cmd, args };
}

/** Spawns a server and resolves once a line of its output matches `ready`. */
function spawnUntil(cmd: string, args: string[], ready: RegExp, what: string, timeoutMs = 15_000): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} did not start within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        child.stdout!.removeAllListeners('data');
        child.stderr!.removeAllListeners('data');
        // keep draining so a chatty server never blocks on a full pipe
        child.stdout!.resume();
        child.stderr!.resume();
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${what}: ${e.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code ?? signal}) before it was ready:\n${out}`));
    });
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function killAndWait(pid: number, signal: NodeJS.Signals, maxMs = 10_000): Promise<void> {
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  const end = Date.now() + maxMs;
  while (pidAlive(pid)) {
    if (Date.now() > end) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A private PostgreSQL 15: `initdb` (trust auth) in a temp folder, then `postgres` on a free port. */
export async function startPostgres(): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'headroom-pg-'));
  const data = join(dir, 'data');
  if (isRoot) {
    const u = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    chownSync(dir, Number(u.stdout.trim()), Number(g.stdout.trim()));
  }
  const init = asPostgres(join(PG_BIN, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  const r = spawnSync(init.cmd, init.args, { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${r.stderr || r.stdout || r.error?.message}`);
  }
  const port = await freePort();
  const args = [
    '-D', data, '-p', String(port), '-k', dir,
    '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
    '-c', 'max_connections=200', '-c', 'shared_buffers=32MB', '-c', 'logging_collector=off',
  ];
  let child: ChildProcess | null = null;
  const pidOf = (): number | null => {
    try {
      return Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    } catch {
      return null;
    }
  };
  const start = async () => {
    const p = asPostgres(join(PG_BIN, 'postgres'), args);
    child = await spawnUntil(p.cmd, p.args, /database system is ready to accept connections/, 'postgres');
  };
  const stop = async () => {
    const pid = pidOf();
    if (pid) await killAndWait(pid, 'SIGINT'); // fast shutdown
    if (child && child.exitCode === null && child.signalCode === null) await new Promise((r) => child!.once('exit', r));
    child = null;
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start,
    stop,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A private redis-server on a free port: no RDB, no AOF, its folder in tmp. */
export async function startRedis(): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'headroom-redis-'));
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'no', '--loglevel', 'notice', '--enable-debug-command', 'local'];
  let child: ChildProcess | null = null;
  const start = async () => {
    child = await spawnUntil(REDIS_SERVER, args, /Ready to accept connections/, 'redis-server');
  };
  const stop = async () => {
    if (!child) return;
    const c = child;
    child = null;
    if (c.exitCode === null && c.signalCode === null) {
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      const t = setTimeout(() => c.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    stop,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
