/**
 * The first minutes with headroom-ts, through what a user touches: `GET /` and `HEAD /` (Claude
 * Code's preflight), the start-up line in a terminal (a real pseudo-terminal from `script`) and
 * in a pipe, `--version` on every command, boolean flags in `--help`, and `stats` with a
 * workspace that does not exist.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { configWith } from '../src/config/index.js';
import { firstContactLine, startFacts } from '../src/cli/first-contact.js';
import { VERSION } from '../src/version.js';
import { startHarness } from './helpers/harness.js';

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'headroom-first-contact-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('GET / and HEAD /', () => {
  it('GET / redirects to the dashboard; HEAD / answers 200', async () => {
    const h = await startHarness();
    try {
      const get = await fetch(`${h.url}/`, { redirect: 'manual' });
      expect(get.status).toBe(302);
      expect(get.headers.get('location')).toBe('/dashboard');
      const head = await fetch(`${h.url}/`, { method: 'HEAD' });
      expect(head.status).toBe(200);
    } finally {
      await h.close();
    }
  });

  it('with the dashboard off, GET / answers 200 with a small description', async () => {
    const h = await startHarness({ config: { dashboard: false } });
    try {
      const get = await fetch(`${h.url}/`, { redirect: 'manual' });
      expect(get.status).toBe(200);
      expect(await get.json()).toMatchObject({ name: 'headroom-ts', version: VERSION, status: 'ok', dashboard: null });
      expect((await fetch(`${h.url}/`, { method: 'HEAD' })).status).toBe(200);
    } finally {
      await h.close();
    }
  });
});

describe('the start-up line', () => {
  it('names the URL, the dashboard, the workspace and the base URLs to export', () => {
    const config = configWith({ workspaceDir: '/srv/headroom' });
    const line = firstContactLine(startFacts({ host: '0.0.0.0', port: 8787, url: 'http://0.0.0.0:8787' }, config, '9.9.9'));
    expect(line).toBe('headroom-ts 9.9.9 listening on http://0.0.0.0:8787 · dashboard http://127.0.0.1:8787/dashboard · workspace /srv/headroom'
      + ' · export ANTHROPIC_BASE_URL=http://127.0.0.1:8787 OPENAI_BASE_URL=http://127.0.0.1:8787/v1');
    const off = firstContactLine(startFacts({ host: '127.0.0.1', port: 9000, url: 'http://127.0.0.1:9000' }, configWith({ dashboard: false }), '9.9.9'));
    expect(off).toContain(' · dashboard off · ');
  });

  const hasScript = spawnSync('script', ['--version']).status === 0;
  it.runIf(hasScript)('in a terminal (a pseudo-terminal from `script`) the proxy prints the human line', async () => {
    const ws = join(dir, 'tty');
    // `script` gives the command a terminal as stdout; its own stdout is our pipe
    const cmd = `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} proxy --port 0 --log-level warn`;
    const child = spawn('script', ['-qfec', cmd, '/dev/null'], { env: { ...process.env, HEADROOM_WORKSPACE_DIR: ws }, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    try {
      const line = await firstLine(child, /listening on [^\n]*\n/);
      expect(line).toMatch(new RegExp(`^headroom-ts ${VERSION.replace(/\./g, '\\.')} listening on http://127\\.0\\.0\\.1:(\\d+) · dashboard http://127\\.0\\.0\\.1:\\1/dashboard · workspace ${ws} · export ANTHROPIC_BASE_URL=http://127\\.0\\.0\\.1:\\1 OPENAI_BASE_URL=http://127\\.0\\.0\\.1:\\1/v1\\r?$`));
      expect(line).not.toContain('{');
    } finally {
      stopGroup(child);
    }
  });

  it('in a pipe it is the JSON log line, with the same facts', async () => {
    const child = spawn(process.execPath, [CLI, 'proxy', '--port', '0'], { env: { ...process.env, HEADROOM_WORKSPACE_DIR: join(dir, 'pipe'), HEADROOM_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const line = JSON.parse(await firstLine(child, /"msg":"headroom-ts proxy listening on [^\n]*\n/)) as Record<string, unknown>;
      const url = String(line.url);
      expect(line).toMatchObject({ workspace: join(dir, 'pipe'), version: VERSION, dashboard: `${url}/dashboard`, export: { ANTHROPIC_BASE_URL: url, OPENAI_BASE_URL: `${url}/v1` } });
    } finally {
      child.kill('SIGTERM');
    }
  });
});

function firstLine(child: ChildProcess, re: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no start-up line:\n${out}`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = re.exec(out);
      if (!m) return;
      clearTimeout(timer);
      const start = out.lastIndexOf('\n', m.index) + 1;
      resolve(out.slice(start, m.index + m[0].length).replace(/\r?\n$/, ''));
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}:\n${out}`)));
  });
}

/** Ends `script` and the proxy under it (their own process group, started above). */
function stopGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGTERM');
  } catch {
    // already gone
  }
}

describe('every command', () => {
  it('answers --version', () => {
    for (const cmd of ['proxy', 'wrap', 'stats', 'compress', 'demo', 'hook']) {
      const r = spawnSync(process.execPath, [CLI, cmd, '--version'], { encoding: 'utf8' });
      expect([cmd, r.status, r.stdout.trim()]).toEqual([cmd, 0, VERSION]);
    }
  });

  it('--help shows each boolean\'s default and its --no- form', () => {
    const help = spawnSync(process.execPath, [CLI, 'proxy', '--help'], { encoding: 'utf8', env: { ...process.env, COLUMNS: '400' } }).stdout;
    expect(help).toMatch(/--optimize .*\(env HEADROOM_OPTIMIZE\) Default: on; --no-optimize turns it off\./);
    expect(help).toMatch(/--cache .*\(env HEADROOM_CACHE\) Default: off; --no-cache turns it off\./);
  });
});

describe('headroom-ts stats --workspace-dir', () => {
  it('a directory that does not exist, or holds no stats store, is an error that says so', () => {
    const missing = join(dir, 'no-such-workspace');
    const r = spawnSync(process.execPath, [CLI, 'stats', '--workspace-dir', missing], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`headroom-ts: --workspace-dir ${missing}: no such directory (${missing}); nothing was read\n`);
    const empty = join(dir, 'empty-workspace');
    mkdirSync(empty);
    const e = spawnSync(process.execPath, [CLI, 'stats', '--workspace-dir', empty], { encoding: 'utf8' });
    expect(e.status).toBe(1);
    expect(e.stderr).toContain('no stats store there');
    // and nothing was created in its place
    expect(spawnSync('ls', [empty], { encoding: 'utf8' }).stdout).toBe('');
  });
});
