// Private PostgreSQL 15 and Redis servers for benchmarks (the same recipe as the tests'
// test/helpers/servers.ts): free loopback ports, temp folders, nothing persisted; as root,
// Postgres runs as the `postgres` user. Each server's processes can be found for CPU figures.
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PG_BIN = process.env.HEADROOM_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const isRoot = process.getuid?.() === 0;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function until(child, ready, what) {
  return new Promise((resolve, reject) => {
    let out = '';
    const on = (d) => {
      out += d.toString();
      if (ready.test(out)) {
        child.stdout.resume();
        child.stderr.resume();
        resolve();
      }
    };
    child.stdout.on('data', on);
    child.stderr.on('data', on);
    child.once('exit', (code) => reject(new Error(`${what} exited (${code}): ${out.slice(-500)}`)));
  });
}

/** Pids of `root` and all its descendants (Postgres forks a backend per connection). */
export function processTree(root) {
  const children = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(d));
    } catch { /* gone */ }
  }
  const out = [];
  const walk = (p) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(root);
  return out;
}

export async function startPostgres() {
  const dir = mkdtempSync(join(tmpdir(), 'headroom-bench-pg-'));
  const data = join(dir, 'data');
  if (isRoot) {
    const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    chownSync(dir, uid, gid);
  }
  const as = (cmd, args) => (isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]);
  const [ic, ia] = as(join(PG_BIN, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  const r = spawnSync(ic, ia, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`initdb failed: ${r.stderr || r.error?.message}`);
  const port = await freePort();
  const [pc, pa] = as(join(PG_BIN, 'postgres'), ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']);
  const child = spawn(pc, pa, { stdio: ['ignore', 'pipe', 'pipe'] });
  await until(child, /database system is ready to accept connections/, 'postgres');
  const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    pids: () => processTree(postmaster),
    async stop() {
      const exited = new Promise((res) => child.once('exit', res));
      try { process.kill(postmaster, 'SIGINT'); } catch { /* gone */ }
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** CREATE DATABASE through psql (no client library needed here). */
export async function createDatabase(url, name) {
  const r = spawnSync(join(PG_BIN, 'psql'), [url, '-c', `CREATE DATABASE ${name}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`psql: ${r.stderr}`);
}

export async function startRedis() {
  const dir = mkdtempSync(join(tmpdir(), 'headroom-bench-redis-'));
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  await until(child, /Ready to accept connections/, 'redis-server');
  return {
    url: `redis://127.0.0.1:${port}`,
    pids: () => [child.pid],
    async stop() {
      const exited = new Promise((res) => child.once('exit', res));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
