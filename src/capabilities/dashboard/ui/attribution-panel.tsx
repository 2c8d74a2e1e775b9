/**
 * Who spent what: per Claude Code session and per user (hashed ids), from `attribution` of
 * `/stats` (this process) or `/stats-history` (the durable store's range). The server caps
 * each table at 32 rows (the rest under `(other)`); requests without an id are the last row.
 */
import { Card, Table } from './components.js';
import { fmtDateTime, fmtInt, fmtUsd } from './format.js';
import type { Attribution, AttributionTable } from './types.js';

type AttributionRow = AttributionTable['rows'][number];

const NONE = '(none)';

function IdTable({ title, table, testid, source, hash }: { title: string; table: AttributionTable; testid: string; source: string; hash: string }) {
  const rows: AttributionRow[] = table.unattributed.requests > 0 ? [...table.rows, { id: NONE, ...table.unattributed }] : table.rows;
  return (
    <div data-testid={`${testid}-wrap`}>
      <h3 title={source}>
        {title} <span class="muted small">· {fmtInt(table.distinct)} seen{table.distinct > table.rows.length ? `, top ${table.rows.length - 1} shown` : ''}</span>
      </h3>
      <Table<AttributionRow>
        testid={testid} rows={table.total.requests > 0 ? rows : []} rowKey={(r) => r.id}
        rowClass={(r) => (r.id === NONE || r.id === '(other)' ? 'muted' : '')}
        empty={`No request yet. ${source}.`}
        columns={[
          { label: title.replace(/s$/, ''), title: hash, cell: (r) => (r.id === NONE ? <span title="requests without an id">{NONE}</span> : <span class="mono" title={r.last_seen_at ? `last request ${fmtDateTime(r.last_seen_at)}` : undefined}>{r.id}</span>) },
          { label: 'Requests', num: true, cell: (r) => fmtInt(r.requests) },
          { label: 'Input tokens', num: true, cell: (r) => fmtInt(r.input_tokens) },
          { label: 'Output tokens', num: true, cell: (r) => fmtInt(r.output_tokens) },
          { label: 'Spend', num: true, title: 'input + output at list prices', cell: (r) => fmtUsd(r.spend_usd) },
          { label: 'USD saved', num: true, title: 'net compression savings', cell: (r) => <span class="tone-accent">{fmtUsd(r.saved_usd)}</span> },
        ]}
      />
    </div>
  );
}

export function AttributionPanel({ a, note, testid = 'attribution' }: { a: Attribution | undefined; note: string; testid?: string }) {
  if (!a) return null;
  return (
    <Card title="Sessions and users" note={`${note}; ids are hashed`} testid={testid}>
      <div class="grid-2">
        <IdTable title="Sessions" table={a.sessions} testid={`${testid}-sessions`} source={`Sessions come from ${a.sources.session}`} hash={a.sources.id_hash} />
        <IdTable title="Users" table={a.users} testid={`${testid}-users`} source={`Users come from ${a.sources.user}`} hash={a.sources.id_hash} />
      </div>
    </Card>
  );
}
