/**
 * `headroom-ts keys`: virtual keys for the `keys:` config section.
 *   keys create <name> [--models a,b] [--providers x,y] [--budget-usd n] [--rpm n] [--tpm n]
 *     prints a fresh random key once (first line) and the YAML entry, with its hash, to add
 *     under `keys:`; the key itself is stored nowhere.
 *   keys hash   reads a key from stdin and prints its `sha256:<hex>` (to re-issue an entry).
 */
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { generateKey, hashKey } from '../capabilities/controls/keys/secret.js';
import { virtualKeySchema } from '../config/fields/keys.js';

const list = (v: string | undefined) => (v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter(Boolean));
const number = (v: string | undefined) => (v === undefined ? undefined : Number(v));

function fail(message: string): never {
  process.stderr.write(`headroom-ts keys: ${message}\n`);
  process.exit(2);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function registerKeysCommand(program: Command): void {
  const keys = program.command('keys').description('Issue virtual keys for the `keys:` config section (stored as hashes).');
  keys
    .command('create <name>')
    .description('Print a new random key (once) and its `keys:` entry.')
    .option('--models <globs>', 'comma-separated model globs the key may use (e.g. "claude-*,gpt-4o*")')
    .option('--providers <names>', 'comma-separated providers the key may use (e.g. "anthropic,local")')
    .option('--budget-usd <usd>', 'spend limit per --budget-period')
    .option('--rpm <n>', 'requests per minute')
    .option('--tpm <n>', 'tokens per minute')
    .action((name: string, o: { models?: string; providers?: string; budgetUsd?: string; rpm?: string; tpm?: string }) => {
      const key = generateKey();
      const raw = {
        name, hash: hashKey(key), models: list(o.models), providers: list(o.providers),
        budget_usd: number(o.budgetUsd), rpm: number(o.rpm), tpm: number(o.tpm),
      };
      const parsed = virtualKeySchema.safeParse(Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)));
      if (!parsed.success) fail(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      process.stdout.write(`${key}\n\n`);
      process.stdout.write('# The key above is shown once: give it to its user; headroom-ts keeps only the hash.\n');
      process.stdout.write('# Add this entry to the `keys:` list of the config file:\n');
      process.stdout.write(stringify([parsed.data], { lineWidth: 0 }));
    });
  keys
    .command('hash')
    .description('Read a key from stdin and print its hash (sha256:<hex>).')
    .action(async () => {
      const key = (await readStdin()).trim();
      if (!key) fail('no key on stdin (e.g. `printf %s "$KEY" | headroom-ts keys hash`)');
      if (/\s/.test(key)) fail('the key on stdin contains whitespace; give exactly one key');
      process.stdout.write(`${hashKey(key)}\n`);
    });
}
