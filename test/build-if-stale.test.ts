/**
 * `npm start` builds only when dist/ is not current: `scripts/build.mjs --if-stale` (its
 * `prestart`), run through npm in a small project of its own whose compiler and dashboard
 * bundler are stand-ins that count their runs.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../scripts/build.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'headroom-build-if-stale-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm start and the build inputs hash', () => {
  it('builds when dist/ is missing or a source changed, and not when dist/ is current', () => {
    mkdirSync(join(dir, 'scripts'));
    mkdirSync(join(dir, 'src'));
    mkdirSync(join(dir, 'node_modules', 'typescript', 'bin'), { recursive: true });
    copyFileSync(SCRIPT, join(dir, 'scripts', 'build.mjs'));
    writeFileSync(join(dir, 'src', 'a.ts'), 'export const a = 1;\n');
    writeFileSync(join(dir, 'tsconfig.json'), '{}\n');
    // the compiler stand-in produces dist/cli/main.js; the bundler stand-in counts the builds
    writeFileSync(join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), `import { mkdirSync, writeFileSync } from 'node:fs';
mkdirSync('dist/cli', { recursive: true });
writeFileSync('dist/cli/main.js', 'console.log("started")');
`);
    writeFileSync(join(dir, 'scripts', 'build-dashboard.mjs'), `import { appendFileSync } from 'node:fs';
appendFileSync('builds.txt', 'x');
`);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({
      name: 'build-fixture', private: true, type: 'module',
      scripts: { build: 'node scripts/build.mjs', prestart: 'node scripts/build.mjs --if-stale', start: 'node dist/cli/main.js' },
    }));
    const start = () => spawnSync('npm', ['start', '--silent'], { cwd: dir, encoding: 'utf8' });
    const builds = () => readFileSync(join(dir, 'builds.txt'), 'utf8').length;

    const first = start();
    expect(first.status).toBe(0);
    expect(first.stdout).toContain('started');
    expect(first.stderr).toContain('building');
    expect(builds()).toBe(1);

    const second = start();
    expect(second.status).toBe(0);
    expect(second.stderr).toContain('dist/ is current: not rebuilding');
    expect(builds()).toBe(1);

    writeFileSync(join(dir, 'src', 'a.ts'), 'export const a = 2;\n');
    expect(start().status).toBe(0);
    expect(builds()).toBe(2);
  });

  it('the real dist/ (built by npm test just before) is current', () => {
    expect(spawnSync(process.execPath, [SCRIPT, '--check'], { cwd: ROOT }).status).toBe(0);
  });
});
