/**
 * Spend by virtual key: one row per key of the `keys:` section (by name; the key and its hash
 * are never in `/stats`), from `/stats.by_virtual_key` (this process). Absent when the proxy
 * has no `keys:` section.
 */
import { Card, Table } from './components.js';
import { fmtDateTime, fmtInt, fmtUsd } from './format.js';
import type { Stats, VirtualKeyFigures } from './types.js';

type Row = VirtualKeyFigures & { name: string };

const budgetText = (r: Row) => (r.budget_usd === null ? '-' : `${fmtUsd(r.budget_spent_usd ?? 0)} / ${fmtUsd(r.budget_usd)}`);

export function VirtualKeysPanel({ s }: { s: Stats }) {
  const keys = s.by_virtual_key;
  if (!keys) return null;
  const rows: Row[] = Object.entries(keys).map(([name, f]) => ({ name, ...f }));
  return (
    <Card title="Spend by virtual key" note="this process; keys are shown by name" testid="virtual-keys">
      <Table<Row>
        testid="virtual-keys-table" rows={rows} rowKey={(r) => r.name}
        rowClass={(r) => (r.requests === 0 && r.refused === 0 ? 'muted' : '')}
        empty="No virtual key is configured."
        columns={[
          { label: 'Key', cell: (r) => <span class="mono" title={r.last_used_at ? `last request ${fmtDateTime(r.last_used_at)}` : 'not used yet'}>{r.name}</span> },
          { label: 'Requests', num: true, cell: (r) => fmtInt(r.requests) },
          { label: 'Refused', num: true, title: 'by its rate limit or budget, or a model or provider it may not use', cell: (r) => fmtInt(r.refused) },
          { label: 'Input tokens', num: true, cell: (r) => fmtInt(r.input_tokens) },
          { label: 'Output tokens', num: true, cell: (r) => fmtInt(r.output_tokens) },
          { label: 'Spend', num: true, title: 'provider-billed cost', cell: (r) => fmtUsd(r.cost_usd) },
          { label: 'USD saved', num: true, title: 'net compression savings', cell: (r) => <span class="tone-accent">{fmtUsd(r.savings_usd)}</span> },
          { label: 'Budget', num: true, title: 'spent this budget period / budget', cell: budgetText },
        ]}
      />
    </Card>
  );
}
