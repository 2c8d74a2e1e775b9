/** `headroom-ts hook` as users run it (built CLI): serves, prints -v lines on stdout, stops on SIGTERM. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { fileListingEnvelope } from '../src/mock/file-listing.js';
import { VERSION } from '../src/version.js';
import { postHook } from './helpers/hook.js';

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

it('`hook -v` serves the hook, logs to stderr, prints request lines on stdout and exits 0 on SIGTERM', async () => {
  const workspace = mkdtempSync(join(tmpdir(), 'headroom-hook-cli-'));
  const child = spawn(process.execPath, [CLI, 'hook', '--hook-port', '0', '--hook-pool-size', '1', '-v'], {
    env: { ...process.env, HEADROOM_WORKSPACE_DIR: workspace, HEADROOM_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => void (out += d.toString()));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`hook did not start:\n${err}`)), 15_000);
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /hook listening on (http:\/\/[^"\s]+)/.exec(err);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.once('exit', (code) => reject(new Error(`hook exited ${code}:\n${err}`)));
    });
    let r = await postHook(url, fileListingEnvelope(400));
    // the first call may find the worker still starting: it waits for it, never fails
    expect(r.status).toBe(200);
    expect(r.json?.action).toBe('modify');
    r = await postHook(url, { request_body: {} });
    expect(r.json).toEqual({ action: 'allow' });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toMatch(/^request in_msgs=3 .* -> modify\nrequest in_msgs=0 .* -> allow\(passthrough\)\n$/);
    expect(err).toContain('worker ready');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(workspace, { recursive: true, force: true });
  }
});

it('`hook --port N` binds N (the hook\'s port), and its start line names the headroom-ts version', async () => {
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const workspace = mkdtempSync(join(tmpdir(), 'headroom-hook-port-'));
  const child = spawn(process.execPath, [CLI, 'hook', '--port', String(port), '--hook-pool-size', '1'], {
    env: { ...process.env, HEADROOM_WORKSPACE_DIR: workspace, HEADROOM_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  try {
    const line = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`hook did not start:\n${err}`)), 15_000);
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        const found = err.split('\n').find((l) => l.includes('hook listening on'));
        if (found) {
          clearTimeout(timer);
          resolve(JSON.parse(found) as Record<string, unknown>);
        }
      });
      child.once('exit', (code) => reject(new Error(`hook exited ${code}:\n${err}`)));
    });
    expect(line.url).toBe(`http://127.0.0.1:${port}`);
    expect(line.version).toBe(VERSION);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(workspace, { recursive: true, force: true });
  }
});
