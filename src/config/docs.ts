/** Renders the configuration reference (a Markdown table) from the field declarations. */
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
