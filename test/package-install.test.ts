/**
 * SLOW (about 20-40 s; it runs npm): the package as users get it. `npm pack` of this checkout
 * (the `dist/` that `npm test` just built), `npm install -g` of that tarball into an empty
 * prefix (dependencies from the registry or npm's cache), then the installed `headroom-ts`:
 * `--version`, `proxy` serving a request against the mock upstream and its dashboard, a clean
 * stop, and `examples/headroom-ts.service` pointed at the installed binary passing
 * `systemd-analyze verify`.
 *
 * better-sqlite3's install step downloads a prebuilt binary from its release host, which this
 * machine cannot reach, and then compiles SQLite instead (75 s of CPU on an idle 2-core machine,
 * over 3 minutes under load). The test hands the install step the binary this checkout
 * already built, as a local prebuild (`npm_config_better_sqlite3_local_prebuilds`), which is
 * the same install path a user with network access takes. Set PACKAGE_TEST_COMPILE=1 to
 * compile from source instead.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockUpstream } from '../src/mock/upstream.js';
import { VERSION } from '../src/version.js';
import { FAKE_ANTHROPIC_KEY } from './helpers/harness.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'headroom-package-'));
const prefix = join(dir, 'prefix');
const bin = join(prefix, 'bin', 'headroom-ts');
const INSTALL_TIMEOUT = 600_000;

interface PackedFile {
  path: string;
}

let files: string[] = [];
let installMs = 0;

/** A prebuilt better-sqlite3 archive (as its release host serves them) from this checkout's build. */
function localPrebuild(): string {
  const require = createRequire(import.meta.url);
  const pkgDir = dirname(require.resolve('better-sqlite3/package.json'));
  const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string };
  const out = join(dir, 'prebuilds');
  mkdirSync(out);
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  const r = spawnSync('tar', ['czf', join(out, name), '-C', pkgDir, 'build/Release/better_sqlite3.node']);
  if (r.status !== 0) throw new Error(`tar failed: ${r.stderr}`);
  return out;
}

beforeAll(() => {
  const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' });
  if (pack.status !== 0) throw new Error(`npm pack failed:\n${pack.stderr}`);
  const info = (JSON.parse(pack.stdout) as { filename: string; files: PackedFile[] }[])[0]!;
  files = info.files.map((f) => f.path);
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (!process.env.PACKAGE_TEST_COMPILE) env.npm_config_better_sqlite3_local_prebuilds = localPrebuild();
  const t0 = Date.now();
  const install = spawnSync('npm', ['install', '-g', '--prefix', prefix, join(dir, info.filename), '--no-audit', '--no-fund', '--prefer-offline'], { env, encoding: 'utf8', timeout: INSTALL_TIMEOUT });
  installMs = Date.now() - t0;
  if (install.status !== 0) throw new Error(`npm install -g failed:\n${install.stdout}\n${install.stderr}`);
}, INSTALL_TIMEOUT + 60_000);

// Removing the installed tree (every runtime dependency) can take tens of seconds on a loaded machine.
afterAll(() => rmSync(dir, { recursive: true, force: true }), 120_000);

describe('the packed tarball, installed globally into an empty prefix (slow)', () => {
  it('ships what the CLI needs and nothing it does not', () => {
    for (const f of ['dist/cli/main.js', 'dist/index.js', 'dist/index.d.ts', 'dist/dashboard/assets/index.html', 'README.md', 'LICENSE', 'CHANGELOG.md',
      'examples/config.yaml', 'examples/headroom-ts.service', 'docs/deploy.md', 'package.json']) {
      expect(files, f).toContain(f);
    }
    expect(files.some((f) => f.startsWith('dist/dashboard/assets/app-') && f.endsWith('.js'))).toBe(true);
    expect(files.filter((f) => f.endsWith('.map') || f.startsWith('src/') || f.startsWith('test/') || f.startsWith('bench/') || f.includes('tsbuildinfo') || f.includes('.build-inputs'))).toEqual([]);
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toContain('Apache License\n                           Version 2.0, January 2004');
    expect((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { license: string }).license).toBe('Apache-2.0');
    process.stdout.write(`package test: npm install -g took ${(installMs / 1000).toFixed(1)} s\n`);
  });

  it('`headroom-ts --version` and `proxy --version`', () => {
    expect(existsSync(bin)).toBe(true);
    for (const args of [['--version'], ['proxy', '--version']]) {
      const r = spawnSync(bin, args, { encoding: 'utf8' });
      expect([r.status, r.stdout.trim()]).toEqual([0, VERSION]);
    }
  });

  it('`headroom-ts proxy` serves a request against the mock upstream, its dashboard, and stops cleanly', async () => {
    const mock = new MockUpstream();
    await mock.start();
    const ws = join(dir, 'workspace');
    const child = spawn(bin, ['proxy', '--port', '0', '--anthropic-api-url', mock.url], {
      env: { ...process.env, HEADROOM_WORKSPACE_DIR: ws, HEADROOM_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`no listening line:\n${out}`)), 20_000);
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /listening on (http:\/\/[^"\s]+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}:\n${out}`)));
      });
      const anthropic = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: url, maxRetries: 0 });
      const msg = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
      expect(msg.type).toBe('message');
      const dash = await fetch(`${url}/dashboard`);
      expect(dash.status).toBe(200);
      expect(await dash.text()).toContain('/dashboard/assets/app-');
      const health = (await (await fetch(`${url}/health`)).json()) as { checks: Record<string, { backend?: string }> };
      // the native SQLite module loaded: the stores are durable, not the in-memory fallback
      expect(health.checks.ccr?.backend).toBe('sqlite');
      const stats = (await (await fetch(`${url}/stats`)).json()) as { requests: { total: number } };
      expect(stats.requests.total).toBe(1);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await mock.close();
    }
  });

  const hasSystemd = spawnSync('systemd-analyze', ['--version']).status === 0;
  it.runIf(hasSystemd)('examples/headroom-ts.service passes `systemd-analyze verify` with the installed binary', () => {
    const unit = join(dir, 'headroom-ts.service');
    writeFileSync(unit, readFileSync(join(ROOT, 'examples', 'headroom-ts.service'), 'utf8').replace('/usr/local/bin/headroom-ts', bin));
    const r = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
    expect({ status: r.status, stderr: r.stderr.trim() }).toEqual({ status: 0, stderr: '' });
  });
});
