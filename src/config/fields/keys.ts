/**
 * Virtual keys: the optional `keys:` section of the config file. Each entry issues one client
 * key, stored only as its hash (`sha256:<64 hex>`, made by `headroom-ts keys create` or
 * `keys hash`), with what it may use (model globs, provider names) and its own budget and rate
 * limits. When the section is present, every proxied request must present a known key and the
 * proxy sends its own server-side provider key upstream (docs/routing.md, "Virtual keys").
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Field, RawValue } from '../field.js';

/** What a stored key hash looks like: SHA-256 of the key's UTF-8 bytes, lower-case hex. */
export const KEY_HASH = /^sha256:[0-9a-f]{64}$/;
/** Key names: what `/stats` and the dashboard show; letters, digits, `_`, `.`, `-`, `@`. */
export const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/;

const globList = z.array(z.string().trim().min(1, 'an entry must not be empty')).min(1, 'omit the list instead of leaving it empty');

export const virtualKeySchema = z
  .object({
    name: z.string().trim().regex(KEY_NAME, 'a name is 1-64 letters, digits, _ . @ -, starting with a letter or digit'),
    hash: z.string().trim().toLowerCase().regex(KEY_HASH, 'the hash is sha256:<64 hex digits> (`headroom-ts keys hash`); never the key itself'),
    models: globList.optional(),
    providers: globList.optional(),
    budget_usd: z.number().min(0).max(1e9).optional(),
    rpm: z.number().int().min(1).max(1e9).optional(),
    tpm: z.number().int().min(1).max(1e12).optional(),
  })
  .strict();

export type VirtualKeyEntry = z.infer<typeof virtualKeySchema>;

const keysSchema = z.array(virtualKeySchema).superRefine((entries, ctx) => {
  const names = new Set<string>();
  const hashes = new Set<string>();
  entries.forEach((e, i) => {
    if (names.has(e.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `the name ${JSON.stringify(e.name)} is used twice` });
    if (hashes.has(e.hash)) ctx.addIssue({ code: 'custom', path: [i, 'hash'], message: `entry ${JSON.stringify(e.name)} repeats the hash of another entry` });
    names.add(e.name);
    hashes.add(e.hash);
  });
});

/** The section from a file (a list), or from the flag / env var (its YAML or JSON text); empty text = unset. */
function parseKeys(raw: RawValue): readonly VirtualKeyEntry[] | null {
  let v: unknown = raw;
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') {
    if (v.trim() === '') return null;
    v = parseYaml(v);
  }
  const res = keysSchema.safeParse(v);
  if (res.success) return res.data;
  throw new Error(res.error.issues.map((i) => `keys${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}: ${i.message}`).join('; '));
}

const keysField: Field<readonly VirtualKeyEntry[] | null> = {
  flag: 'keys',
  env: ['HEADROOM_KEYS'],
  negatedEnv: [],
  default: null,
  accepted: 'a list of `{name, hash, models?, providers?, budget_usd?, rpm?, tpm?}` (YAML or JSON text on the command line or in the variable)',
  doc: 'Virtual keys (usually the `keys:` section of the config file). When set, every proxied request must present one of these keys (`Authorization: Bearer`, `x-api-key` or `api-key`): unknown or missing -> 401, a model or provider the key does not allow -> 403, both in the provider\'s error shape; the key is never forwarded, the proxy sends its own provider key (the registry\'s `api_keys`, else `ANTHROPIC_API_KEY` / `OPENAI_API_KEY` in its environment). `budget_usd` is per `--budget-period`; `rpm`/`tpm` per minute. `/stats` and the dashboard break spend down by key name. See docs/routing.md.',
  group: 'keys',
  isBool: false,
  parse: parseKeys,
  defaultText: 'unset',
  secret: true,
};

export const keysFields = { keys: keysField } as const;
