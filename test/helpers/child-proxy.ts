/**
 * The built proxy (`dist/cli/main.js proxy`) in its own process, for tests of requests that
 * could freeze or bloat a process: the test keeps its own event loop, can watch `/livez`
 * while the proxy works, read the proxy's peak RSS, and kill it if it hangs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `HEADROOM_TEST_CLI` points at another build (e.g. to check a test fails on an older one). */
const CLI = process.env.HEADROOM_TEST_CLI ?? fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface ChildProxy {
  url: string;
  pid: number;
  child: ChildProcess;
  /** Resident set size (`VmRSS`) and its peak (`VmHWM`) in bytes, or null where /proc is missing. */
  memory(): { rss: number; peak: number } | null;
  close(): Promise<void>;
}

export async function startChildProxy(args: string[], env: Record<string, string> = {}): Promise<ChildProxy> {
  const workspace = mkdtempSync(join(tmpdir(), 'headroom-child-'));
  const child = spawn(process.execPath, [CLI, 'proxy', '--port', '0', '--no-log-requests', ...args], {
    env: { ...process.env, HEADROOM_WORKSPACE_DIR: workspace, HEADROOM_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`proxy did not start:\n${out}`)), 15_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/[^"\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.resume();
    child.once('exit', (code) => reject(new Error(`proxy exited ${code}:\n${out}`)));
  });
  const pid = child.pid!;
  return {
    url,
    pid,
    child,
    memory() {
      try {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
        return { rss: kb('VmRSS'), peak: kb('VmHWM') };
      } catch {
        return null;
      }
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        // SIGKILL: a frozen event loop would never act on SIGTERM
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(workspace, { recursive: true, force: true });
    },
  };
}

/**
 * Polls `/livez` every `everyMs` until `stop` resolves; returns the longest time the proxy
 * took to answer one probe (or was left unanswered when `stop` came), in milliseconds.
 */
export async function longestLivezGap(url: string, stop: Promise<unknown>, everyMs = 20): Promise<number> {
  let done = false;
  stop.then(() => (done = true), () => (done = true));
  let longest = 0;
  while (!done) {
    const t0 = performance.now();
    const probe = fetch(`${url}/livez`).then((r) => r.arrayBuffer()).catch(() => undefined);
    await Promise.race([probe, stop.catch(() => undefined)]);
    longest = Math.max(longest, performance.now() - t0);
    if (!done) await new Promise((r) => setTimeout(r, everyMs));
  }
  return longest;
}
