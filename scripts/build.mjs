#!/usr/bin/env node
/**
 * Builds dist/ (TypeScript, then the dashboard bundle) and records a hash of every input in
 * dist/.build-inputs, so anything that runs dist/ can tell whether it is current.
 * `--check` builds nothing: it exits 0 when dist/ matches the inputs and 1 when it does not.
 * `--if-stale` builds only when dist/ does not match them (`npm start`, `npm run demo`).
 *
 * The hash is taken before the build starts: a file edited while the build runs makes the
 * recorded hash differ from the next check's, so the next check rebuilds.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const STAMP = join(root, 'dist', '.build-inputs');
const INPUTS = ['src', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts/build.mjs', 'scripts/build-dashboard.mjs'];

/** Every input file, relative to the root, sorted. */
function inputFiles() {
  const out = [];
  for (const p of INPUTS) {
    const abs = join(root, p);
    if (!existsSync(abs)) continue;
    if (!statSync(abs).isDirectory()) out.push(p);
    else for (const e of readdirSync(abs, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(relative(root, join(e.parentPath, e.name)));
  }
  return out.sort();
}

function inputsHash() {
  const h = createHash('sha256');
  for (const p of inputFiles()) h.update(`${p}\0`).update(readFileSync(join(root, p))).update('\0');
  return h.digest('hex');
}

const current = inputsHash();
const recorded = existsSync(STAMP) ? readFileSync(STAMP, 'utf8').trim() : null;

const isCurrent = recorded === current && existsSync(join(root, 'dist', 'cli', 'main.js'));
if (process.argv.includes('--check')) process.exit(isCurrent ? 0 : 1);
if (process.argv.includes('--if-stale')) {
  if (isCurrent) {
    process.stderr.write('dist/ is current: not rebuilding\n');
    process.exit(0);
  }
  process.stderr.write('dist/ is missing or older than the sources: building\n');
}

const run = (args) => {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
run([join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json']);
run([join(root, 'scripts', 'build-dashboard.mjs')]);
writeFileSync(STAMP, `${current}\n`);
