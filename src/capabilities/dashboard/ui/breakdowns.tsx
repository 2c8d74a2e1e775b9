/** Per model, provider, project, stack and client tables (`/stats`). */
import { Card, Table } from './components.js';
import { fmtDateTime, fmtInt, fmtPct, fmtUsd } from './format.js';
import type { Agent, ModelCost, ProjectTotals, Stats } from './types.js';

const byCount = (m: Record<string, number>): [string, number][] => Object.entries(m).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));

function Models({ s }: { s: Stats }) {
  const rows = Object.entries(s.cost.per_model).sort((a, b) => b[1].requests - a[1].requests);
  return (
    <Card title="Models" note="this process" class="span-3" testid="models-card">
      <Table<[string, ModelCost]>
        testid="models-table" rows={rows} rowKey={([m]) => m} empty="No model has been priced yet."
        columns={[
          { label: 'Model', cell: ([m, c]) => <><span class="mono">{m}</span>{c.price_fallback && <span class="badge warn" title="Unknown to the price data: priced at the provider's fallback rates">fallback price</span>}</> },
          { label: 'Provider', cell: ([, c]) => c.provider },
          { label: 'Requests', num: true, cell: ([, c]) => fmtInt(c.requests) },
          { label: 'Tokens sent', num: true, cell: ([, c]) => fmtInt(c.tokens_sent) },
          { label: 'Saved', num: true, cell: ([, c]) => fmtInt(c.tokens_saved) },
          { label: 'Reduction', num: true, cell: ([, c]) => fmtPct(c.reduction_pct) },
          { label: 'Spend', num: true, title: 'input + output', cell: ([, c]) => fmtUsd(c.input_cost_usd + c.output_cost_usd) },
          { label: 'USD saved', num: true, cell: ([, c]) => <span class="tone-accent">{fmtUsd(c.compression_savings_usd)}</span> },
        ]}
      />
    </Card>
  );
}

function Counts({ title, note, rows, testid, what }: { title: string; note: string; rows: [string, number][]; testid: string; what: string }) {
  const total = rows.reduce((a, [, n]) => a + n, 0);
  return (
    <Card title={title} note={note} testid={`${testid}-card`}>
      <Table<[string, number]>
        testid={testid} rows={rows} rowKey={([k]) => k} empty={`No ${what} seen yet.`}
        columns={[
          { label: title.replace(/s$/, ''), cell: ([k]) => <span class="mono">{k}</span> },
          { label: 'Requests', num: true, cell: ([, n]) => <span data-value={n}>{fmtInt(n)}</span> },
          { label: 'Share', num: true, cell: ([, n]) => fmtPct(total > 0 ? (n / total) * 100 : null) },
        ]}
      />
    </Card>
  );
}

function Projects({ s }: { s: Stats }) {
  const rows = Object.entries(s.savings.per_project).sort((a, b) => b[1].tokens_saved - a[1].tokens_saved);
  return (
    <Card title="Projects" note="lifetime, durable store" class="span-2" testid="projects-card">
      <Table<[string, ProjectTotals]>
        testid="projects-table" rows={rows} rowKey={([p]) => p}
        empty={<>No project seen yet. Tag requests with <code>X-Headroom-Project</code> or a <code>/p/&lt;name&gt;/</code> path prefix.</>}
        columns={[
          { label: 'Project', cell: ([p]) => <span class="mono">{p}</span> },
          { label: 'Requests', num: true, cell: ([, t]) => fmtInt(t.requests) },
          { label: 'Saved', num: true, title: 'tokens saved (whole wire: saved / (sent + saved))', cell: ([, t]) => <>{fmtInt(t.tokens_saved)} <span class="muted">{fmtPct(t.savings_percent, 0)}</span></> },
          { label: 'USD saved', num: true, cell: ([, t]) => fmtUsd(t.compression_savings_usd) },
          { label: 'Last active', class: 'nowrap', cell: ([, t]) => fmtDateTime(t.last_activity_at) },
        ]}
      />
    </Card>
  );
}

function Clients({ s }: { s: Stats }) {
  return (
    <Card title="Clients" note="from User-Agent / X-Client" testid="clients-card">
      <Table<Agent>
        testid="clients-table" rows={s.agent_usage.agents} rowKey={(a) => a.agent} empty="No client identified yet."
        columns={[
          { label: 'Client', cell: (a) => <span class="nowrap">{a.agent}</span> },
          { label: 'Requests', num: true, cell: (a) => fmtInt(a.requests) },
          { label: 'Saved', num: true, title: 'tokens saved (share of the client\'s input)', cell: (a) => <span title={fmtPct(a.savings_percent)}>{fmtInt(a.tokens_saved)}</span> },
        ]}
      />
    </Card>
  );
}

export function BreakdownTables({ s }: { s: Stats }) {
  return (
    <div class="grid-4">
      <Models s={s} />
      <Counts title="Providers" note="this process" rows={byCount(s.requests.by_provider)} testid="providers-table" what="provider" />
      <Projects s={s} />
      <Counts title="Stacks" note="X-Headroom-Stack" rows={byCount(s.requests.by_stack)} testid="stacks-table" what="stack" />
      <Clients s={s} />
    </div>
  );
}
