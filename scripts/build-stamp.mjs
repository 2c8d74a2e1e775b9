#!/usr/bin/env node
/**
 * Whether dist/ was built from the current sources, so `npm start` builds only when needed.
 * The stamp is a SHA-256 over the build inputs (src/, the tsconfigs, the dashboard build
 * script), written to dist/.build-stamp at the end of `npm run build`.
 *
 *   node scripts/build-stamp.mjs write    record the inputs of the build just made
 *   node scripts/build-stamp.mjs check    exit 0 when dist/ is current, 1 otherwise
 *   node scripts/build-stamp.mjs ensure   run `npm run build` unless dist/ is current
 *
 * Paths are relative to the working directory (npm runs scripts from the package root).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = process.cwd();
const STAMP = join(root, 'dist', '.build-stamp');
const INPUTS = ['src', 'tsconfig.json', 'tsconfig.build.json', 'scripts/build-dashboard.mjs'];
const OUTPUT = join(root, 'dist', 'cli', 'main.js');

function files(path) {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).sort().flatMap((name) => files(join(path, name)));
}

function inputsHash() {
  const h = createHash('sha256');
  for (const f of INPUTS.flatMap((p) => files(join(root, p)))) {
    h.update(relative(root, f)).update('\0').update(readFileSync(f)).update('\0');
  }
  return h.digest('hex');
}

const current = () => existsSync(OUTPUT) && existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === inputsHash();

const cmd = process.argv[2];
if (cmd === 'write') {
  writeFileSync(STAMP, `${inputsHash()}\n`);
} else if (cmd === 'check') {
  process.exit(current() ? 0 : 1);
} else if (cmd === 'ensure') {
  if (current()) {
    process.stderr.write('dist/ is current: not rebuilding\n');
  } else {
    process.stderr.write('dist/ is missing or older than the sources: building\n');
    const r = spawnSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit', shell: process.platform === 'win32' });
    process.exit(r.status ?? 1);
  }
} else {
  process.stderr.write('usage: build-stamp.mjs write|check|ensure\n');
  process.exit(2);
}
