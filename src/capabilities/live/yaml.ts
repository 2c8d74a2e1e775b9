/**
 * YAML rendering of the running totals (the `yaml` package), with an explanatory header. It is
 * written for YAML 1.1 readers too (PyYAML, which Vandamme's dashboard uses): every string a
 * 1.1 parser would read as something else (timestamps, `yes`/`no`/`on`/`off`, `1:30`) is quoted,
 * so times stay strings and model names stay names.
 */
import { Document } from 'yaml';
import type { RunningTotals } from './totals.js';
import { DISABLED_MESSAGE, DISABLED_SUGGESTION } from './views.js';

export function totalsYaml(t: RunningTotals): string {
  const doc = new Document(t, { version: '1.1' });
  const f = t.filters;
  const filter = [f.provider !== null ? `provider=${f.provider}` : null, f.model !== null ? `model=${f.model}` : null]
    .filter(Boolean)
    .join(' & ');
  doc.commentBefore = [
    ' headroom-ts running totals (cumulative since process start)',
    ` Generated: ${t.summary.generated_at}`,
    ` Since: ${t.summary.since}`,
    ` Filter: ${filter || 'none'}; include_active=${f.include_active}`,
    ' input_tokens = all prompt tokens (uncached + cache read + cache creation);',
    ' durations cover completed requests only.',
  ].join('\n');
  return doc.toString({ lineWidth: 0 });
}

export function disabledYaml(): string {
  const doc = new Document({ disabled: true, message: DISABLED_MESSAGE, suggestion: DISABLED_SUGGESTION }, { version: '1.1' });
  doc.commentBefore = ' headroom-ts running totals: live monitoring is disabled';
  return doc.toString({ lineWidth: 0 });
}
