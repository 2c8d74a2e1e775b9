/**
 * A workspace directory the tests can make unusable for real, and usable again:
 * - as root (where permissions do not deny anything): a tiny tmpfs that `block()` fills to
 *   the last byte, so SQLite gets a genuine full disk (SQLITE_FULL / disk I/O errors);
 * - otherwise: `block()` removes every permission from the directory (EACCES).
 * `unblock()` frees the disk / restores the permissions. When neither can be arranged the
 * helper says why: the test is skipped, except under CI=1 where it fails instead.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BlockableDir {
  dir: string;
  /** `full disk` or `permission denied`. */
  kind: string;
  block(): void;
  unblock(): void;
  cleanup(): void;
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function tmpfsDir(sizeKiB: number): BlockableDir | string {
  const dir = mkdtempSync(join(tmpdir(), 'headroom-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    return `cannot mount a tmpfs: ${(err as Error).message.split('\n')[0]}`;
  }
  const filler = join(dir, '.filler');
  return {
    dir,
    kind: 'full disk',
    block() {
      // one large write, then small ones until not a byte is left
      for (const size of [sizeKiB * 1024, 65536, 4096, 512, 1]) {
        for (;;) {
          try {
            writeFileSync(filler, Buffer.alloc(size), { flag: 'a' });
          } catch {
            break;
          }
        }
      }
    },
    unblock() {
      rmSync(filler, { force: true });
    },
    cleanup() {
      try {
        execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      } catch {
        // already gone
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function chmodDir(): BlockableDir {
  const parent = mkdtempSync(join(tmpdir(), 'headroom-denied-'));
  const dir = join(parent, 'workspace');
  mkdirSync(dir);
  return {
    dir,
    kind: 'permission denied',
    block: () => chmodSync(dir, 0o000),
    unblock: () => chmodSync(dir, 0o755),
    cleanup() {
      chmodSync(dir, 0o755);
      rmSync(parent, { recursive: true, force: true });
    },
  };
}

/** A blockable workspace, or the reason none can be made here. */
export function blockableDir(sizeKiB = 4096): BlockableDir | string {
  return isRoot ? tmpfsDir(sizeKiB) : chmodDir();
}

/** Skip only outside CI: under CI=1 a missing capability is a failure, never a silent skip. */
export function requireBlockable(d: BlockableDir | string): BlockableDir | null {
  if (typeof d !== 'string') return d;
  if (process.env.CI) throw new Error(`CI=1 and this test cannot run: ${d}`);
  process.stderr.write(`skipping: ${d}\n`);
  return null;
}
