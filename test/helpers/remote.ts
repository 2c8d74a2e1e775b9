/**
 * A caller on another machine, for tests of what the proxy allows non-loopback callers.
 *
 * Preferred: a network namespace joined to this one by a veth pair (needs root and iproute2,
 * as on CI). The proxy listens on 0.0.0.0; clients run inside the namespace and dial the
 * host end of the pair, so the proxy sees a genuine foreign address on a separate network
 * stack. Node clients get there through `netns-forwarder.mjs` (an undici dispatcher whose
 * connections start inside the namespace); Chromium runs inside it through a wrapper script.
 *
 * Fallback: a non-loopback address of this machine; connections to it from here arrive from
 * that address, which is not loopback either.
 *
 * Each process claims a slot that gives it unique namespace and interface names and its own
 * /30 in 198.18.0.0/15 (reserved for network tests), so parallel workers never collide; a
 * slot whose owner died is free again, and whatever that owner left behind is deleted before
 * reuse. `HEADROOM_TEST_REMOTE=netns|interface` forces one kind.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Agent, type Dispatcher, fetch as undiciFetch } from 'undici';
import { afterAll, it } from 'vitest';
import { CHROMIUM } from './browser.js';

export interface RemoteRoute {
  kind: 'netns' | 'interface';
  /** The address the proxy sees this caller at: never loopback. */
  callerAddress: string;
  /** Where the caller reaches a server of this machine that listens on 0.0.0.0 (`http://0.0.0.0:port` -> remote base URL). */
  url(localUrl: string): string;
  /** An undici dispatcher whose connections come from the caller's side. */
  dispatcher: Dispatcher;
  /** `fetch` from the caller's side (also what EventSource and the SDKs accept as `fetch`). */
  fetch: typeof fetch;
  /** A Chromium executable that browses from the caller's side. */
  chromium: string;
  close(): Promise<void>;
}

const FORWARDER = join(import.meta.dirname, '..', 'fixtures', 'netns-forwarder.mjs');
const SLOTS = 256;

const ip = (args: string[]) => spawnSync('ip', args, { encoding: 'utf8' });
function ipOrThrow(args: string[]): void {
  const r = ip(args);
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}`);
}

const names = (slot: number) => ({
  ns: `headroom-test-${slot}`,
  hostIf: `hrt${slot}h`,
  nsIf: `hrt${slot}n`,
  hostAddr: `198.18.${slot}.1`,
  nsAddr: `198.18.${slot}.2`,
  /** The forwarder's socket and the Chromium wrapper. */
  dir: join(tmpdir(), `headroom-test-remote-${slot}`),
});

/** Deletes what a slot's owner created (the veth pair first: deleting it is synchronous, a namespace's is not). */
function teardown(slot: number): void {
  const n = names(slot);
  ip(['link', 'del', n.hostIf]);
  ip(['netns', 'del', n.ns]);
  rmSync(n.dir, { recursive: true, force: true });
}

/**
 * Claims a free slot: the slot's owner is whoever listens on its abstract Unix socket, which
 * the kernel releases when that process dies however it dies, so a slot is never held by a
 * dead run and two live ones never share one. What a dead owner left is deleted first.
 */
async function claimSlot(): Promise<{ slot: number; lock: Server }> {
  // addresses this machine already has on interfaces that are not ours: those /30s are taken
  const taken = new Set<string>();
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    if (!/^hrt\d+h$/.test(name)) for (const a of addrs ?? []) taken.add(a.address);
  }
  for (let slot = 0; slot < SLOTS; slot++) {
    if (taken.has(names(slot).hostAddr) || taken.has(names(slot).nsAddr)) continue;
    const lock = createServer();
    const got = await new Promise<boolean>((resolve, reject) => {
      lock.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(false) : reject(err)));
      lock.listen(`\0headroom-test-remote-slot-${slot}`, () => resolve(true));
    });
    if (!got) continue;
    lock.unref();
    teardown(slot);
    return { slot, lock };
  }
  throw new Error(`all ${SLOTS} network-namespace slots are in use`);
}

function netnsPossible(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not running as root';
  const v = ip(['-V']);
  if (v.status !== 0) return '`ip` (iproute2) is not installed';
  return null;
}

function viaDispatcher(dispatcher: Dispatcher): typeof fetch {
  return ((input: Parameters<typeof undiciFetch>[0], init?: Parameters<typeof undiciFetch>[1]) => undiciFetch(input, { ...init, dispatcher })) as unknown as typeof fetch;
}

async function openNetns(): Promise<RemoteRoute> {
  const { slot, lock } = await claimSlot();
  const n = names(slot);
  const dir = n.dir;
  mkdirSync(dir, { recursive: true });
  const socketPath = join(dir, 'forward.sock');
  let forwarder: ChildProcess | null = null;
  let closed = false;
  const cleanupSync = () => {
    if (closed) return;
    closed = true;
    forwarder?.kill('SIGKILL');
    teardown(slot);
    lock.close();
  };
  process.once('exit', cleanupSync);
  try {
    ipOrThrow(['netns', 'add', n.ns]);
    ipOrThrow(['link', 'add', n.hostIf, 'type', 'veth', 'peer', 'name', n.nsIf, 'netns', n.ns]);
    ipOrThrow(['addr', 'add', `${n.hostAddr}/30`, 'dev', n.hostIf]);
    ipOrThrow(['link', 'set', n.hostIf, 'up']);
    ipOrThrow(['-n', n.ns, 'addr', 'add', `${n.nsAddr}/30`, 'dev', n.nsIf]);
    ipOrThrow(['-n', n.ns, 'link', 'set', n.nsIf, 'up']);
    ipOrThrow(['-n', n.ns, 'link', 'set', 'lo', 'up']);

    const child = spawn('ip', ['netns', 'exec', n.ns, process.execPath, FORWARDER, socketPath], { stdio: ['pipe', 'pipe', 'inherit'] });
    forwarder = child;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the namespace forwarder did not start within 20 s')), 20_000);
      createInterface({ input: child.stdout! }).once('line', (line) => {
        clearTimeout(timer);
        if (line === 'ready') resolve();
        else reject(new Error(`the namespace forwarder said ${JSON.stringify(line)}`));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the namespace forwarder exited (${code})`));
      });
    });

    const dispatcher = new Agent({
      connect: (opts, cb) => {
        const sock: Socket = connect(socketPath);
        sock.once('error', (err) => cb(err, null));
        sock.once('connect', () => {
          sock.write(`${opts.hostname}:${opts.port || 80}\n`);
          cb(null, sock);
        });
      },
    });

    const chromium = join(dir, 'chromium');
    writeFileSync(chromium, `#!/bin/sh\nexec ip netns exec ${n.ns} ${JSON.stringify(CHROMIUM)} "$@"\n`);
    chmodSync(chromium, 0o755);

    return {
      kind: 'netns',
      callerAddress: n.nsAddr,
      url: (local) => withHost(local, n.hostAddr),
      dispatcher,
      fetch: viaDispatcher(dispatcher),
      chromium,
      async close() {
        await dispatcher.destroy().catch(() => undefined);
        if (forwarder && forwarder.exitCode === null) {
          const exited = new Promise<void>((resolve) => forwarder!.once('exit', () => resolve()));
          forwarder.stdin!.end();
          const timer = setTimeout(() => forwarder!.kill('SIGKILL'), 5_000);
          await exited;
          clearTimeout(timer);
        }
        cleanupSync();
        process.off('exit', cleanupSync);
      },
    };
  } catch (err) {
    cleanupSync();
    process.off('exit', cleanupSync);
    throw err;
  }
}

function withHost(local: string, host: string): string {
  const u = new URL(local);
  u.hostname = host;
  return u.origin;
}

function openInterface(): RemoteRoute {
  // (not another test process's veth, which goes away when that process is done)
  const address = Object.entries(networkInterfaces())
    .filter(([name]) => !/^hrt\d+h$/.test(name))
    .flatMap(([, addrs]) => addrs ?? [])
    .find((a) => a.family === 'IPv4' && !a.internal)?.address;
  if (!address) throw new Error('this machine has no non-loopback IPv4 address');
  const dispatcher = new Agent();
  return {
    kind: 'interface',
    callerAddress: address,
    url: (local) => withHost(local, address),
    dispatcher,
    fetch: viaDispatcher(dispatcher),
    chromium: CHROMIUM,
    close: () => dispatcher.close(),
  };
}

/**
 * Opens a remote route for the calling test file and closes it after the file's tests. When
 * no route is possible it returns null (the caller skips its remote tests), except on CI,
 * where it adds a failing test saying why: there the remote tests must run.
 */
export async function remoteRouteForFile(): Promise<RemoteRoute | null> {
  const forced = process.env.HEADROOM_TEST_REMOTE;
  const reasons: string[] = [];
  let route: RemoteRoute | null = null;
  if (forced !== 'interface') {
    const why = netnsPossible();
    if (why) reasons.push(`network namespace: ${why}`);
    else {
      try {
        route = await openNetns();
      } catch (err) {
        reasons.push(`network namespace: ${(err as Error).message}`);
      }
    }
  }
  if (!route && forced !== 'netns') {
    try {
      route = openInterface();
    } catch (err) {
      reasons.push(`interface: ${(err as Error).message}`);
    }
  }
  if (route) {
    const r = route;
    afterAll(() => r.close());
    return r;
  }
  if (process.env.CI || forced) {
    it('reaches the proxy from a non-loopback address', () => {
      throw new Error(`no way to call the proxy from a non-loopback address (${reasons.join('; ')}); run the tests as root with iproute2 installed`);
    });
  }
  return null;
}
