/**
 * Renders the configuration reference from the field declarations: the README table and
 * `examples/config.yaml`.
 */
import { stringify } from 'yaml';
import type { Field } from './field.js';
import { allFields } from './fields/index.js';

const escapeCell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function configTableMarkdown(): string {
  const rows = ['| Flag | Environment | Default | Accepted | Description |', '|---|---|---|---|---|'];
  for (const f of Object.values(allFields) as Field<unknown>[]) {
    const flag = f.isBool ? `\`--${f.flag}\` / \`--no-${f.flag}\`` : `\`--${f.flag}\``;
    const names = [...f.env.map((e) => `\`${e}\``), ...f.negatedEnv.map((e) => `\`${e}\` (inverted)`)];
    const env = names.length ? names.join(', ') : '-';
    rows.push(`| ${flag} | ${env} | \`${escapeCell(f.defaultText)}\` | ${escapeCell(f.accepted)} | ${escapeCell(f.doc)} |`);
  }
  return rows.join('\n');
}

const GROUP_TITLES: Record<string, string> = {
  server: 'Server: listening, request limits, access, workspace',
  upstream: 'Upstreams, retries and timeouts',
  live: 'Live monitoring (/metrics/active-requests, running totals, recent logs)',
  observability: 'Stats store, request log file, metrics, health',
  otel: 'OpenTelemetry and Langfuse (nothing is sent unless enabled)',
  compression: 'Compression',
  ccr: 'CCR: originals of lossy cuts and the headroom_retrieve tool',
  dashboard: 'Dashboard',
  controls: 'Controls: budgets, rate limits, response cache (all off by default)',
  hook: 'The Aperture pre_request hook',
  routing: 'Routing: the provider registry file and circuit breakers (docs/routing.md)',
  keys: 'Virtual keys: client keys issued by the proxy (stored as hashes)',
  fleet: 'Fleet: several instances sharing Redis',
  storage: 'Shared storage for a fleet of instances (Postgres)',
};

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** The value shown for a field: its documented default when it reads back the same (`32MiB`), else the default itself. */
function exampleValue(f: Field<unknown>): unknown {
  try {
    if (f.defaultText !== String(f.default) && JSON.stringify(f.parse(f.defaultText)) === JSON.stringify(f.default)) return f.defaultText;
  } catch {
    // the documented default is prose (`0 (auto: ...)`): show the value
  }
  return f.default;
}

/**
 * `examples/config.yaml`: every option, grouped as in the README table, with its default, its
 * description, its environment variable and what it accepts. Loading it gives the defaults.
 */
export function exampleConfigYaml(): string {
  const out = [
    '# headroom-ts configuration file: every option with its default value.',
    '# Generated from the option declarations by `npm run docs:config`; a test keeps it in sync.',
    '#',
    '# Use it with `headroom-ts proxy --config config.yaml` (or HEADROOM_CONFIG=config.yaml).',
    '# Precedence: defaults < this file < environment variables < command-line flags.',
    '# Keys may be written snake_case (as here), kebab-case or camelCase; an unknown key is an',
    '# error. Delete what you do not change: the defaults apply without it.',
  ];
  let group = '';
  for (const f of Object.values(allFields) as Field<unknown>[]) {
    if (f.group !== group) {
      group = f.group;
      out.push('', `# ${'='.repeat(94)}`, `# ${GROUP_TITLES[group] ?? group}`, `# ${'='.repeat(94)}`);
    }
    const names = [...f.env, ...f.negatedEnv.map((e) => `${e} (inverted)`)];
    out.push('');
    for (const l of wrap(f.doc, 94)) out.push(`# ${l}`);
    for (const l of wrap(`Accepts ${f.accepted}.${names.length ? ` Environment: ${names.join(', ')}.` : ''}`, 94)) out.push(`# ${l}`);
    out.push(stringify({ [f.flag.replace(/-/g, '_')]: exampleValue(f) }, { lineWidth: 0 }).trimEnd());
  }
  return `${out.join('\n')}\n`;
}
