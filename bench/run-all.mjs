// npm run bench: every bench:* script in package.json, one after the other.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const { scripts } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const names = Object.keys(scripts).filter((n) => n.startsWith('bench:'));
let failed = 0;
for (const name of names) {
  console.log(`\n=== npm run ${name} ===`);
  const r = spawnSync('npm', ['run', '--silent', name], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
