/**
 * The built proxy (`dist/cli/main.js proxy`) in its own process, as users run it: for tests of
 * signals, crashes and shutdown, and of requests that could freeze or bloat a process (the test
 * keeps its own event loop, can watch `/livez` while the proxy works, read the proxy's peak
 * RSS, and kill it if it hangs).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `HEADROOM_TEST_CLI` points at another build (e.g. to check a test fails on an older one). */
export const CLI = process.env.HEADROOM_TEST_CLI ?? fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface ChildProxy {
  child: ChildProcess;
  url: string;
  pid: number;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal) and the signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resident set size (`VmRSS`) and its peak (`VmHWM`) in bytes, or null where /proc is missing. */
  memory(): { rss: number; peak: number } | null;
  /** SIGKILL (a frozen event loop would never act on SIGTERM), then removes the workspace made for it. */
  close(): Promise<void>;
}

/**
 * Starts the proxy on a free port. Without `--workspace-dir` in `args` (or
 * `HEADROOM_WORKSPACE_DIR` in `env`) it gets a temporary workspace of its own.
 */
export function startChildProxy(args: string[], env: Record<string, string> = {}, timeoutMs = 20_000): Promise<ChildProxy> {
  const ownWorkspace = args.includes('--workspace-dir') || env.HEADROOM_WORKSPACE_DIR ? null : mkdtempSync(join(tmpdir(), 'headroom-child-'));
  const child = spawn(process.execPath, [CLI, 'proxy', '--port', '0', ...args], {
    env: { ...process.env, HEADROOM_LOG_LEVEL: 'info', ...(ownWorkspace ? { HEADROOM_WORKSPACE_DIR: ownWorkspace } : {}), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const pid = child.pid!;
  const handle = (url: string): ChildProxy => ({
    child,
    url,
    pid,
    output: () => out,
    exited,
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
        child.kill('SIGKILL');
        await exited;
      }
      if (ownWorkspace) rmSync(ownWorkspace, { recursive: true, force: true });
    },
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`proxy did not start:\n${out}`)), timeoutMs);
    const onData = () => {
      const m = /listening on (http:\/\/[^"\s]+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve(handle(m[1]!));
    };
    child.stdout!.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`proxy exited (${code ?? signal}) before listening:\n${out}`));
    });
  });
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
