/**
 * The benchmark scripts run the built package: every `dist/` module they import exists after
 * the build and exports the names they take from it (a file move or a renamed export once
 * left `npm run bench:corpus` failing at its first line).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const scripts = ['bench', 'bench/lib', 'bench/servers'].flatMap((d) =>
  readdirSync(join(ROOT, d))
    .filter((f) => f.endsWith('.mjs'))
    .map((f) => join(d, f)),
);

/** `{ a, b as c }` -> ['a', 'b']. */
const names = (list: string) =>
  list
    .split(',')
    .map((s) => s.trim().split(/\s+as\s+|\s*:\s*/)[0]?.trim() ?? '')
    .filter(Boolean);

interface Use {
  module: string;
  names: string[];
}

function distImports(file: string): Use[] {
  const src = readFileSync(join(ROOT, file), 'utf8');
  const out: Use[] = [];
  // import { a, b } from '../dist/x.js'
  for (const m of src.matchAll(/import\s*\{([^}]*)\}\s*from\s*'((?:\.\.\/)+dist\/[^']+)'/g)) {
    out.push({ module: resolve(ROOT, dirname(file), m[2] as string), names: names(m[1] as string) });
  }
  // const { a, b } = await import(join(ROOT_OR_REPO, 'dist/x.js'))
  for (const m of src.matchAll(/const\s*\{([^}]*)\}\s*=\s*await import\(join\(\w+,\s*'(dist\/[^']+)'\)\)/g)) {
    out.push({ module: join(ROOT, m[2] as string), names: names(m[1] as string) });
  }
  return out;
}

describe('benchmark scripts', () => {
  it('find every dist module and export they use', () => {
    const uses = scripts.flatMap((file) => distImports(file).map((u) => ({ file, ...u })));
    expect(uses.length).toBeGreaterThan(20);
    const absent = uses.filter((u) => !existsSync(u.module)).map((u) => `${u.file}: ${u.module.slice(ROOT.length + 1)} does not exist`);
    // the modules are loaded by node itself, as the scripts load them
    const check = `const uses = ${JSON.stringify(uses.filter((u) => existsSync(u.module)).map((u) => ({ ...u, href: pathToFileURL(u.module).href })))};
      const out = [];
      for (const u of uses) { const m = await import(u.href); for (const n of u.names) if (!(n in m)) out.push(u.file + ': no export ' + n + ' in ' + u.href.split('/dist/')[1]); }
      process.stdout.write(JSON.stringify(out));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', check], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toBe('');
    expect([...absent, ...(JSON.parse(r.stdout) as string[])]).toEqual([]);
  }, 150_000);
});
