/**
 * The most recent requests with expandable details (`/stats` `request_logs`: the last 10,
 * served to loopback callers only, as Headroom does).
 */
import { useState } from 'preact/hooks';
import { Card, Empty } from './components.js';
import { fmtClock, fmtInt, fmtMs, fmtPct, fmtUsd, zoneShort } from './format.js';
import type { RequestLog, Stats } from './types.js';

function Details({ r }: { r: RequestLog }) {
  const timings = Object.entries(r.transform_timings_ms ?? {});
  const stages = Object.entries(r.stage_timings_ms ?? {});
  const tags = Object.entries(r.tags);
  return (
    <div class="details" data-testid="request-details">
      <dl>
        <dt>Request id</dt><dd class="mono">{r.request_id}</dd>
        <dt>Route</dt><dd>{r.kind} · {r.api}{r.stream ? ' · streaming' : ''} · HTTP {r.status}</dd>
        <dt>Tokens</dt><dd>{fmtInt(r.input_tokens_original)} before → {fmtInt(r.input_tokens_optimized)} after · {fmtInt(r.tokens_saved)} saved ({fmtPct(r.savings_percent)}) · {fmtInt(r.output_tokens)} output</dd>
        <dt>Prompt cache</dt><dd>{fmtInt(r.cache_read_tokens)} read · {fmtInt(r.cache_write_tokens)} written</dd>
        <dt>Transforms</dt>
        <dd data-testid="request-transforms">
          {r.transforms_applied.length === 0 ? <span class="muted">none</span> : r.transforms_applied.map((t) => <span class="chip mono">{t}</span>)}
        </dd>
        <dt>Timings</dt>
        <dd>
          total {fmtMs(r.total_latency_ms)} · overhead {fmtMs(r.optimization_latency_ms)} · first byte {fmtMs(r.ttfb_ms)}
          {r.upstream_ms !== undefined && <> · upstream {fmtMs(r.upstream_ms)}</>}
          {stages.length > 0 && <div class="muted">stages: {stages.map(([k, v]) => `${k} ${fmtMs(v)}`).join(' · ')}</div>}
          {timings.length > 0 && <div class="muted">transforms: {timings.map(([k, v]) => `${k} ${fmtMs(v)}`).join(' · ')}</div>}
        </dd>
        <dt>Cost</dt>
        <dd>input {fmtUsd(r.input_cost_usd)} · output {fmtUsd(r.output_cost_usd)} · saved {fmtUsd(r.compression_savings_usd)}{r.price_fallback && <span class="badge warn">fallback price</span>}</dd>
        {tags.length > 0 && <><dt>Tags</dt><dd>{tags.map(([k, v]) => <span class="chip">{k}={v}</span>)}</dd></>}
        {r.error && <><dt>Error</dt><dd class="tone-bad">{r.error}</dd></>}
      </dl>
    </div>
  );
}

export function RecentRequests({ s }: { s: Stats }) {
  const [open, setOpen] = useState<string | null>(null);
  const logs = s.request_logs;
  const rows = logs ? [...logs].reverse() : [];
  return (
    <Card title="Recent requests" note="newest first, last 10; click a row for details" testid="recent-card">
      {!logs ? (
        <Empty testid="recent-loopback-only">Per-request details are served to loopback callers only. The Live view lists recent traces for everyone.</Empty>
      ) : rows.length === 0 ? (
        <Empty testid="recent-empty">No request yet.</Empty>
      ) : (
        <div class="table-wrap">
          <table data-testid="recent-table" class="clickable">
            <thead>
              <tr>
                <th data-testid="recent-time-head">Time ({zoneShort()})</th><th>Model</th><th>Status</th><th class="num">Before</th><th class="num">After</th>
                <th class="num">Saved</th><th class="num">Latency</th><th class="num">Cost</th><th>Transforms</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => {
                const isOpen = open === r.request_id;
                const toggle = () => setOpen(isOpen ? null : r.request_id);
                return [
                  <tr key={r.request_id} data-key={r.request_id} class={isOpen ? 'open' : ''} tabIndex={0} aria-expanded={isOpen}
                    onClick={toggle} onKeyDown={(e) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), toggle())}>
                    <td class="mono">{fmtClock(r.timestamp_utc ?? r.timestamp)}</td>
                    <td><span class="caret">{isOpen ? '▾' : '▸'}</span> <span class="mono">{r.model ?? '—'}</span> <span class="muted">{r.provider}</span></td>
                    <td class={r.error ? 'tone-bad' : ''}>{r.error ? `error ${r.status}` : r.status}</td>
                    <td class="num">{fmtInt(r.input_tokens_original)}</td>
                    <td class="num">{fmtInt(r.input_tokens_optimized)}</td>
                    <td class="num">{r.tokens_saved > 0 ? <span class="tone-accent">{fmtInt(r.tokens_saved)} ({fmtPct(r.savings_percent, 0)})</span> : '0'}</td>
                    <td class="num">{fmtMs(r.total_latency_ms)}</td>
                    <td class="num">{fmtUsd(r.input_cost_usd + r.output_cost_usd)}</td>
                    <td>{r.transforms_applied.length > 0 ? r.transforms_applied.join(', ') : <span class="muted">none</span>}</td>
                  </tr>,
                  isOpen && (
                    <tr key={`${r.request_id}-d`} class="detail-row">
                      <td colSpan={9}><Details r={r} /></td>
                    </tr>
                  ),
                ];
              })}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}
