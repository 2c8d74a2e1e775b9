/**
 * The layering rules (`.dependency-cruiser.cjs`): the sources break none of them, and each
 * rule catches the import it forbids (added to a copy of the sources).
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

function cruise(dir: string): Violation[] {
  let out: string;
  try {
    out = execFileSync(process.execPath, [CLI, 'src', '--config', '.dependency-cruiser.cjs', '--output-type', 'json'], { cwd: dir, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    // exit code = number of errors; the report is still on stdout
    out = (err as { stdout?: string }).stdout ?? '';
    if (!out) throw err;
  }
  return (JSON.parse(out) as { summary: { violations: Violation[] } }).summary.violations;
}

const show = (vs: Violation[]) => vs.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).join('\n');

describe('layering', () => {
  it('the sources break no rule: no cycles, the core imports no capability, libraries import no app, capabilities meet through api.ts types', () => {
    const vs = cruise(ROOT);
    expect(show(vs)).toBe('');
  });

  describe('each rule catches what it forbids', () => {
    let dir: string;
    let found: Violation[];
    const add = (file: string, line: string) => appendFileSync(join(dir, file), `\n${line}\n`);

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'headroom-layering-'));
      cpSync(join(ROOT, 'src'), join(dir, 'src'), { recursive: true });
      cpSync(join(ROOT, '.dependency-cruiser.cjs'), join(dir, '.dependency-cruiser.cjs'));
      cpSync(join(ROOT, 'tsconfig.json'), join(dir, 'tsconfig.json'));
      add('src/core/funnel.ts', "import type {} from '../capabilities/stats/api.js';");
      add('src/compress/hash.ts', "import type {} from '../core/outcome.js';");
      add('src/capabilities/metrics/native.ts', "import { accountingOf as directAccounting } from '../stats/accounting.js';\nvoid directAccounting;");
      add('src/capabilities/otel/plugin.ts', "import '../stats/api.js';");
      add('src/capabilities/stats/service.ts', "import type {} from '../metrics/api.js';");
      add('src/core/http.ts', "import './app.js';");
      found = cruise(dir);
    }, 60_000);
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    const caught = (rule: string, from: string, to?: string) =>
      found.some((v) => v.rule.name === rule && v.from.includes(from) && (to === undefined || v.to.includes(to)));

    it('a core module importing a capability (even a type)', () => {
      expect(caught('core-imports-no-capability', 'src/core/funnel.ts', 'src/capabilities/stats/api.ts')).toBe(true);
    });
    it('a library importing the core', () => {
      expect(caught('libraries-import-no-app', 'src/compress/hash.ts', 'src/core/outcome.ts')).toBe(true);
    });
    it("a capability importing another capability's implementation", () => {
      expect(caught('capabilities-use-each-other-through-api', 'src/capabilities/metrics/native.ts', 'src/capabilities/stats/accounting.ts')).toBe(true);
    });
    it("a capability importing another's api.ts for more than its types", () => {
      expect(caught('capability-api-imports-are-type-only', 'src/capabilities/otel/plugin.ts', 'src/capabilities/stats/api.ts')).toBe(true);
    });
    it('two capabilities importing each other (a folder cycle)', () => {
      expect(caught('no-folder-cycles', 'src/capabilities/stats')).toBe(true);
    });
    it('a module loading itself through others', () => {
      expect(caught('no-circular', 'src/core/')).toBe(true);
    });
    it('and nothing else', () => {
      const expected = new Set(['core-imports-no-capability', 'libraries-import-no-app', 'capabilities-use-each-other-through-api', 'capability-api-imports-are-type-only', 'no-folder-cycles', 'no-circular']);
      expect(show(found.filter((v) => !expected.has(v.rule.name)))).toBe('');
    });
  });
});
