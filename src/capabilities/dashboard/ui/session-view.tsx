/**
 * Session view: what this proxy process did since it started (or since `/stats/reset`), from
 * `GET /stats?cached=1` (a snapshot at most 5 s old). Each dollar figure is read from one
 * place: spend and compression savings from `cost`, prompt-cache dollars from `prefix_cache`,
 * session and lifetime totals from `persistent_savings`.
 */
import { AttributionPanel } from './attribution-panel.js';
import { BreakdownTables } from './breakdowns.js';
import { CachePanel } from './cache-panel.js';
import { Card, ErrorNote, Stat, Table } from './components.js';
import { fmtClock, fmtInt, fmtMs, fmtPct, fmtUsd } from './format.js';
import { usePoll } from './hooks.js';
import { PipelinePanel } from './pipeline-panel.js';
import { RecentRequests } from './recent-requests.js';
import type { Attribution, LifetimeTotals, Stats } from './types.js';
import { VirtualKeysPanel } from './virtual-keys-panel.js';

export const STATS_PATH = '/stats?cached=1';

function Hero({ s }: { s: Stats }) {
  const c = s.cost;
  const t = s.tokens;
  const r = s.requests;
  const ww = t.savings_bases.whole_wire;
  const ni = t.savings_bases.new_input;
  // a percentage of nothing is not a measurement
  const wwPct = ww.denominator > 0 ? ww.percent : null;
  const timed = s.overhead.samples > 0;
  const savedPct = c.cost_without_headroom_usd > 0 ? s.summary.cost.savings_pct : null;
  const errorRate = r.total > 0 ? (r.errors / r.total) * 100 : null;
  return (
    <div class="hero">
      <Stat
        testid="hero-usd-saved" label="USD saved" tone="accent" value={c.total_savings_usd} text={fmtUsd(c.total_savings_usd)}
        title="Compression savings: tokens removed × the input price of each request's model. Provider prompt caching is shown separately."
        sub={<>
          <div>{savedPct === null ? 'no priced input yet' : `${fmtPct(savedPct)} of input spend`}</div>
          <div class="muted">{fmtUsd(c.cost_without_headroom_usd)} → {fmtUsd(c.cost_with_headroom_usd)} input</div>
        </>}
      />
      <Stat
        testid="hero-tokens-saved" label="Tokens saved" tone="accent" value={t.saved} text={fmtInt(t.saved)}
        sub={<>
          <div title={ww.basis} data-testid="basis-whole-wire" data-value={wwPct ?? ''}>
            <b>{fmtPct(wwPct)}</b> of all input <span class="muted">(whole wire)</span>
          </div>
          <div title={ni.basis} data-testid="basis-new-input" data-value={ni.percent ?? ''}>
            <b>{fmtPct(ni.percent)}</b> of new input <span class="muted">{ni.percent === null ? '(not reported yet)' : '(this turn)'}</span>
          </div>
        </>}
      />
      <Stat
        testid="hero-spend" label="Spend" value={c.total_cost_usd} text={fmtUsd(c.total_cost_usd)}
        title="Provider spend at list prices: uncached input, cache reads and writes, and output."
        sub={<>
          <div>input {fmtUsd(c.total_input_cost_usd)} · output {fmtUsd(c.output_cost_usd)}</div>
          {c.price_fallback_models.length > 0 && <div class="tone-warn" title={c.price_fallback_models.join(', ')}>{c.price_fallback_models.length} model(s) at fallback prices</div>}
        </>}
      />
      <Stat
        testid="hero-requests" label="Requests" value={r.total} text={fmtInt(r.total)}
        sub={<>
          <div>{Object.entries(r.by_kind).map(([k, n]) => `${k} ${fmtInt(n)}`).join(' · ') || 'none yet'}</div>
          <div class="muted">{fmtInt(r.cached)} with cache hits</div>
        </>}
      />
      <Stat
        testid="hero-errors" label="Errors" value={r.errors} text={fmtInt(r.errors)} tone={r.errors > 0 ? 'bad' : undefined}
        title="Requests that did not succeed: upstream errors, proxy failures (no answer from the upstream) and rejected requests; client aborts and rate limits are counted apart."
        sub={<>
          <div>{errorRate === null ? 'no requests yet' : `${fmtPct(errorRate)} of requests`} · {fmtInt(r.failed)} without an upstream answer</div>
          <div class="muted">{fmtInt(r.aborted)} aborted by clients · {fmtInt(r.rate_limited)} rate-limited</div>
        </>}
      />
      <Stat
        testid="hero-overhead" label="Overhead p50" value={timed ? s.overhead.p50_ms : null} text={timed ? fmtMs(s.overhead.p50_ms) : '—'}
        title="Time spent inside headroom-ts per proxied request (parsing, compression, stages), excluding upstream time."
        sub={timed ? <>
          <div data-testid="hero-overhead-p99" data-value={s.overhead.p99_ms}>p99 {fmtMs(s.overhead.p99_ms)} · {fmtInt(s.overhead.samples)} samples</div>
          <div class="muted">latency p50 {fmtMs(s.latency.p50_ms)} · p99 {fmtMs(s.latency.p99_ms)}</div>
        </> : <div class="muted">no proxied request yet</div>}
      />
    </div>
  );
}

interface ScopeRow {
  scope: string;
  note: string;
  requests: number;
  tokensSaved: number;
  savedUsd: number;
  inputTokens: number;
  spendUsd: number;
}

const fromTotals = (scope: string, note: string, t: LifetimeTotals): ScopeRow => ({
  scope, note, requests: t.requests, tokensSaved: t.tokens_saved, savedUsd: t.compression_savings_usd,
  inputTokens: t.total_input_tokens, spendUsd: t.total_input_cost_usd + t.total_output_cost_usd,
});

function Scopes({ s }: { s: Stats }) {
  const p = s.persistent_savings;
  const rows: ScopeRow[] = [
    { scope: 'This process', note: `since ${fmtClock(s.dollar_figures.counters_reset_at)}`, requests: s.requests.total, tokensSaved: s.tokens.saved, savedUsd: s.cost.total_savings_usd, inputTokens: s.tokens.input, spendUsd: s.cost.total_cost_usd },
    fromTotals('Session', p.display_session.started_at ? `since ${fmtClock(p.display_session.started_at)}` : 'no requests yet', p.display_session),
    fromTotals('Lifetime', p.storage.stateless ? 'stateless: read-only store' : `durable ${p.storage.backend} store`, p.lifetime),
  ];
  return (
    <Card title="Scopes" note="each row counts a different period; a session ends after 60 min without requests" testid="scopes">
      <Table
        testid="scopes-table" rows={rows} rowKey={(r) => r.scope}
        columns={[
          { label: 'Scope', cell: (r) => <><div class="nowrap"><b>{r.scope}</b></div><div class="muted small">{r.note}</div></> },
          { label: 'Requests', num: true, cell: (r) => fmtInt(r.requests) },
          { label: 'Tokens saved', num: true, title: 'of input tokens sent', cell: (r) => <span title={`${fmtInt(r.inputTokens)} input tokens sent`}>{fmtInt(r.tokensSaved)}</span> },
          { label: 'USD saved', num: true, cell: (r) => fmtUsd(r.savedUsd) },
          { label: 'Spend', num: true, title: 'input + output at list prices', cell: (r) => fmtUsd(r.spendUsd) },
        ]}
      />
    </Card>
  );
}

export function SessionView() {
  const { data, error, loading } = usePoll<Stats>(STATS_PATH, 5_000);
  if (!data) return <div class="view">{loading ? <div class="loading">Loading /stats…</div> : <ErrorNote error={error} />}</div>;
  return (
    <div class="view" data-testid="session-view">
      <ErrorNote error={error} />
      <div class="scope-line">
        This process since {fmtClock(data.dollar_figures.counters_reset_at)} · refreshed every 5 s
      </div>
      <Hero s={data} />
      <div class="grid-2">
        <CachePanel s={data} />
        <Scopes s={data} />
      </div>
      <BreakdownTables s={data} />
      <AttributionPanel a={(data as { attribution?: Attribution }).attribution} note="this process" />
      <VirtualKeysPanel s={data} />
      <PipelinePanel s={data} />
      <RecentRequests s={data} />
    </div>
  );
}
