/**
 * History view: the durable store (`GET /stats-history`): lifetime and session figures,
 * tokens and USD saved and spend per hour / day / week / month (all models or one), CSV
 * (savings series, and the spend report per provider and model) and JSON export. Hours are
 * shown in the page's time zone; days, weeks and months are the server's UTC days.
 */
import { useMemo, useState } from 'preact/hooks';
import { AuthError, download } from './api.js';
import { AttributionPanel } from './attribution-panel.js';
import { BarChart } from './chart.js';
import { Card, ErrorNote, Figure, Table } from './components.js';
import { fmtBucket, fmtDateTime, fmtInt, fmtPct, fmtUsd, zoneLabel, zoneShort } from './format.js';
import { chartSeries, modelsIn, rangeText, spendByBucket, spendSeries, sum } from './history-data.js';
import { useApp, usePoll } from './hooks.js';
import type { Bucket, LifetimeTotals, Period, SpendReport, StatsHistory } from './types.js';

export const HISTORY_PATH = '/stats-history?history_mode=none';
export const spendPath = (period: Period): string => `/stats-history?report=spend&series=${period}`;
const MAX_ROWS = 48;

const PERIODS: { id: Period; label: string; unit: string }[] = [
  { id: 'hourly', label: 'Hourly', unit: 'hour' },
  { id: 'daily', label: 'Daily', unit: 'day' },
  { id: 'weekly', label: 'Weekly', unit: 'week' },
  { id: 'monthly', label: 'Monthly', unit: 'month' },
];

// the proxy's own figure (whole wire); a percentage of nothing is not a measurement
const wholeWire = (t: LifetimeTotals) => (t.tokens_saved + t.total_input_tokens > 0 ? t.savings_percent : null);

function Totals({ title, note, t, testid }: { title: string; note: string; t: LifetimeTotals; testid: string }) {
  return (
    <Card title={title} note={note} testid={testid}>
      <div class="figures">
        <Figure testid={`${testid}-requests`} label="Requests" value={t.requests} text={fmtInt(t.requests)} />
        <Figure testid={`${testid}-tokens-saved`} label="Tokens saved" value={t.tokens_saved} text={fmtInt(t.tokens_saved)} tone="accent" />
        <Figure testid={`${testid}-usd-saved`} label="USD saved" value={t.compression_savings_usd} text={fmtUsd(t.compression_savings_usd)} tone="accent" />
        <Figure label="Savings (whole wire)" title="saved / (input sent + saved)" value={wholeWire(t)} text={fmtPct(wholeWire(t))} />
        <Figure label="Input tokens" value={t.total_input_tokens} text={fmtInt(t.total_input_tokens)} />
        <Figure testid={`${testid}-spend`} label="Spend" title="input + output at list prices" value={t.total_input_cost_usd + t.total_output_cost_usd} text={fmtUsd(t.total_input_cost_usd + t.total_output_cost_usd)} />
      </div>
    </Card>
  );
}

export function HistoryView({ theme }: { theme: string }) {
  const app = useApp();
  const { data, error, loading } = usePoll<StatsHistory>(HISTORY_PATH, 60_000);
  const [period, setPeriod] = useState<Period>('hourly');
  const [model, setModel] = useState<string | null>(null);
  const [exportError, setExportError] = useState<string | null>(null);
  const spend = usePoll<SpendReport>(spendPath(period), 60_000);
  const buckets: Bucket[] = data?.series[period] ?? [];
  const models = useMemo(() => modelsIn(buckets), [buckets]);
  const series = useMemo(() => chartSeries(buckets, period, model, data ? Date.parse(data.generated_at) : Date.now()), [buckets, period, model, data]);
  const spendRows = spend.data?.series === period ? spend.data.rows : [];
  const spent = useMemo(() => spendSeries(spendRows, period, model, series.x), [spendRows, period, model, series]);
  const spentAt = useMemo(() => spendByBucket(spendRows, model), [spendRows, model]);
  if (!data) return <div class="view">{loading ? <div class="loading">Loading /stats-history…</div> : <ErrorNote error={error} />}</div>;

  const unit = PERIODS.find((p) => p.id === period)!.unit;
  const zone = period === 'hourly' ? zoneLabel() : 'UTC days';
  const save = (what: 'csv' | 'spend' | 'json') => {
    setExportError(null);
    const path = what === 'csv' ? `/stats-history?format=csv&series=${period}` : what === 'spend' ? `${spendPath(period)}&format=csv` : '/stats-history?history_mode=full';
    const name = what === 'csv' ? `headroom-stats-history-${period}.csv` : what === 'spend' ? `headroom-spend-${period}.csv` : 'headroom-stats-history.json';
    download(path, name).catch((err: unknown) => (err instanceof AuthError ? app.onAuth() : setExportError((err as Error).message)));
  };
  const withRequests = [...buckets].reverse().filter((b) => (model === null ? b.requests : (b.by_model[model]?.requests ?? 0)) > 0);
  const rows = withRequests.slice(0, MAX_ROWS);
  const pick = (b: Bucket) => (model === null ? b : (b.by_model[model] ?? { tokens_saved: 0, compression_savings_usd_delta: 0, total_input_tokens_delta: 0, requests: 0 }));
  const costOf = (b: Bucket) => spentAt.get(Date.parse(b.timestamp)) ?? { input: 0, output: 0 };
  const range = rangeText(series.x.length, period);
  const span = series.x.length > 0 ? `${fmtBucket(new Date(series.x[0]! * 1000).toISOString(), period)} – ${fmtBucket(new Date(series.x.at(-1)! * 1000).toISOString(), period)}` : '';

  return (
    <div class="view" data-testid="history-view">
      <ErrorNote error={error ?? exportError} />
      <div class="grid-2">
        <Totals title="Lifetime" note="durable store, every process sharing it" t={data.lifetime} testid="lifetime" />
        <Totals title="Session" note={data.display_session.started_at ? `since ${fmtDateTime(data.display_session.started_at)}; ends after 60 min idle` : 'no requests yet'} t={data.display_session} testid="session" />
      </div>
      <Card
        title="Savings and spend over time" note={<span data-testid="history-range" data-points={series.x.length}>{range} · {zone}</span>} testid="history-card"
        actions={<>
          <div class="segmented" role="tablist" aria-label="Bucket size">
            {PERIODS.map((p) => (
              <button type="button" role="tab" aria-selected={p.id === period} class={p.id === period ? 'on' : ''} data-testid={`period-${p.id}`} onClick={() => setPeriod(p.id)}>{p.label}</button>
            ))}
          </div>
          <select aria-label="Model" data-testid="model-filter" value={model ?? ''} onChange={(e) => setModel((e.target as HTMLSelectElement).value || null)}>
            <option value="">All models</option>
            {models.map((m) => <option value={m}>{m}</option>)}
          </select>
          <button type="button" class="btn" data-testid="export-csv" onClick={() => save('csv')} title={`Download the ${period} savings series as CSV`}>CSV</button>
          <button type="button" class="btn" data-testid="export-spend-csv" onClick={() => save('spend')} title={`Download the ${period} spend report (requests, provider, model, input and output cost) as CSV`}>Spend CSV</button>
          <button type="button" class="btn" data-testid="export-json" onClick={() => save('json')} title="Download the full history as JSON">JSON</button>
        </>}
      >
        <div class="chart-summary">
          <span><b class="tone-accent">{fmtInt(sum(series.tokens))}</b> tokens and <b class="tone-accent">{fmtUsd(sum(series.usd))}</b> saved, <b data-testid="spend-total" data-value={sum(spent.total)}>{fmtUsd(sum(spent.total))}</b> spent over {fmtInt(series.x.length)} {unit}s shown</span>
          <span class="muted">{span} · {model ?? 'all models'}</span>
        </div>
        <div class="grid-2 charts">
          <div>
            <h3>Tokens saved per {unit}</h3>
            <BarChart testid="chart-tokens" period={period} x={series.x} y={series.tokens} label="Tokens saved" colorVar="--accent" format={(v) => fmtInt(v)} syncKey="history" theme={theme} />
            <h3>USD saved per {unit}</h3>
            <BarChart testid="chart-usd" period={period} x={series.x} y={series.usd} label="USD saved" colorVar="--blue" format={(v) => fmtUsd(v)} syncKey="history" theme={theme} height={180} />
          </div>
          <div>
            <h3>Spend per {unit} <span class="muted small spend-split" data-testid="spend-split">input {fmtUsd(sum(spent.input))} · output {fmtUsd(sum(spent.output))}</span></h3>
            <BarChart testid="chart-spend" period={period} x={series.x} y={spent.total} label="Spend (USD)" colorVar="--amber" format={(v) => fmtUsd(v)} syncKey="history" theme={theme} />
            <h3>Requests per {unit}</h3>
            <BarChart testid="chart-requests" period={period} x={series.x} y={series.requests} label="Requests" colorVar="--violet" format={(v) => fmtInt(v)} syncKey="history" theme={theme} height={180} />
          </div>
        </div>
      </Card>
      <Card
        title={`Per ${unit}`} testid="buckets-card"
        note={<span data-testid="buckets-note">newest first, {withRequests.length > MAX_ROWS ? `the newest ${MAX_ROWS} of ${fmtInt(withRequests.length)}` : fmtInt(withRequests.length)} {withRequests.length === 1 ? unit : `${unit}s`} with requests · {zone}</span>}
      >
        <Table<Bucket>
          testid="buckets-table" rows={rows} rowKey={(b) => b.timestamp} empty="Nothing recorded in this range yet."
          columns={[
            { label: `${unit[0]!.toUpperCase()}${unit.slice(1)} (${period === 'hourly' ? zoneShort() : 'UTC'})`, class: 'nowrap', cell: (b) => <span class="mono">{fmtBucket(b.timestamp, period)}</span> },
            { label: 'Requests', num: true, cell: (b) => fmtInt(pick(b).requests) },
            { label: 'Input tokens', num: true, cell: (b) => fmtInt(pick(b).total_input_tokens_delta) },
            { label: 'Tokens saved', num: true, cell: (b) => fmtInt(pick(b).tokens_saved) },
            { label: 'USD saved', num: true, cell: (b) => fmtUsd(pick(b).compression_savings_usd_delta) },
            { label: 'Input cost', num: true, cell: (b) => fmtUsd(costOf(b).input) },
            { label: 'Output cost', num: true, cell: (b) => fmtUsd(costOf(b).output) },
            { label: 'Spend', num: true, title: 'input + output at list prices', cell: (b) => fmtUsd(costOf(b).input + costOf(b).output) },
          ]}
        />
      </Card>
      <AttributionPanel a={data.attribution} note="durable store, every request retained" testid="history-attribution" />
    </div>
  );
}
