/**
 * Starting a headroom-ts proxy as a child process (for `wrap`): `--port 0` by default, the
 * URL read from its `listening on` log line, its logs kept out of the wrapped tool's terminal.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface LaunchedProxy {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

/** Starts `headroom-ts proxy <args>` and resolves once it listens (rejects if it exits first or takes over 30 s). */
export function launchProxy(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<LaunchedProxy> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, 'proxy', ...args], {
      // the listening line is an info log: keep that level even when the caller's env says otherwise
      env: { ...env, HEADROOM_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => fail(new Error('the proxy did not start within 30 s')), 30_000);
    const fail = (e: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(e);
    };
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/[^\s"]+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.stdout!.resume(); // keep draining its logs so it never blocks on a full pipe
      child.removeListener('exit', onExit);
      resolve({ url: m[1]!, child, stop: () => stopChild(child) });
    };
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`the proxy exited with ${code} before listening: ${(err || out).trim().slice(-500)}`));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-4000);
    });
    child.once('exit', onExit);
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  });
}
