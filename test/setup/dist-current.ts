/**
 * Vitest global setup: the multi-process and CLI tests run the built dist/, so before any test
 * runs (and before each watch-mode rerun) dist/ must have been built from the current sources.
 * `scripts/build.mjs --check` compares a hash of the build inputs with the one recorded by the
 * last build (cheap when current); when they differ, dist/ is rebuilt here, and a failed build
 * stops the run. `npm test` builds first, so this finds dist/ current and builds nothing.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

const BUILD = join(import.meta.dirname, '..', '..', 'scripts', 'build.mjs');

function ensureCurrent(): void {
  if (spawnSync(process.execPath, [BUILD, '--check']).status === 0) return;
  process.stdout.write('dist/ was not built from the current sources: building it now (npm run build)\n');
  const r = spawnSync(process.execPath, [BUILD], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm run build failed; the tests that run dist/ would test stale code, so none were run');
}

export default function setup(project: TestProject): void {
  ensureCurrent();
  project.onTestsRerun(() => ensureCurrent());
}
