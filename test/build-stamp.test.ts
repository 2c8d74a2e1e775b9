/**
 * `npm start` builds only when dist/ is not current: `scripts/build-stamp.mjs ensure` (its
 * `prestart`) run through npm in a small project of its own, whose build counts its runs.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../scripts/build-stamp.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'headroom-build-stamp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm start and the build stamp', () => {
  it('builds when dist/ is missing or a source changed, and not when dist/ is current', () => {
    mkdirSync(join(dir, 'scripts'));
    mkdirSync(join(dir, 'src'));
    copyFileSync(SCRIPT, join(dir, 'scripts', 'build-stamp.mjs'));
    writeFileSync(join(dir, 'src', 'a.ts'), 'export const a = 1;\n');
    writeFileSync(join(dir, 'tsconfig.json'), '{}\n');
    // the "build": count the run, produce dist/cli/main.js, then stamp like the real build does
    writeFileSync(join(dir, 'build.mjs'), `import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
appendFileSync('builds.txt', 'x');
mkdirSync('dist/cli', { recursive: true });
writeFileSync('dist/cli/main.js', 'console.log("started")');
`);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({
      name: 'stamp-fixture', private: true, type: 'module',
      scripts: { build: 'node build.mjs && node scripts/build-stamp.mjs write', prestart: 'node scripts/build-stamp.mjs ensure', start: 'node dist/cli/main.js' },
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
    expect(spawnSync(process.execPath, [SCRIPT, 'check'], { cwd: ROOT }).status).toBe(0);
  });
});
