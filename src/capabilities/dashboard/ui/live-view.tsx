/**
 * Live view: requests in flight from the SSE stream (durations tick in the browser, from each
 * request's start time and the server clock), running totals (`/metrics/running-totals`),
 * recent errors and traces (`/metrics/logs`). Totals and logs reload shortly after a request
 * completes and every 5 s; everything stops while the tab is hidden.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { Card, Empty, Figure, Table } from './components.js';
import { durationTone, fmtClock, fmtInt, fmtMs, fmtRatio, zoneShort } from './format.js';
import { useApp, useNow, usePoll } from './hooks.js';
import { LiveStream, type StreamState } from './live.js';
import type { ActiveRequest, ActiveSnapshot, Logs, RunningTotals, TotalsSection, Trace } from './types.js';

export const TOTALS_PATH = '/metrics/running-totals?format=json';
export const LOGS_PATH = '/metrics/logs?limit_errors=20&limit_traces=50';

function streamLabel(s: StreamState): { text: string; tone: string } {
  switch (s.kind) {
    case 'live':
      return { text: 'Live', tone: 'good' };
    case 'connecting':
      return { text: 'Connecting…', tone: 'muted' };
    case 'retrying':
      return { text: `Reconnecting in ${Math.ceil(s.inMs / 1000)} s (attempt ${s.attempt})`, tone: 'warn' };
    case 'paused':
      return { text: 'Paused while the tab is hidden', tone: 'muted' };
    case 'disabled':
      return { text: 'Live monitoring is off (--no-live-metrics)', tone: 'muted' };
    case 'unauthorized':
      return { text: 'Not signed in', tone: 'bad' };
  }
}

function useLiveStream(visible: boolean, onAuth: () => void) {
  const [snap, setSnap] = useState<{ s: ActiveSnapshot; offsetMs: number } | null>(null);
  const [state, setState] = useState<StreamState>({ kind: 'connecting' });
  const [retries, setRetries] = useState(0);
  useEffect(() => {
    if (!visible) {
      setState({ kind: 'paused' });
      return;
    }
    const stream = new LiveStream(
      (s, receivedAt) => setSnap({ s, offsetMs: s.timestamp * 1000 - receivedAt }),
      (st) => {
        setState(st);
        if (st.kind === 'retrying') setRetries((n) => n + 1);
        if (st.kind === 'unauthorized') onAuth();
      },
    );
    stream.start();
    return () => stream.stop();
  }, [visible]);
  return { snap, state, retries };
}

function ActiveTable({ rows, now }: { rows: ActiveRequest[]; now: number }) {
  return (
    <Table<ActiveRequest>
      testid="active-table" rows={rows} rowKey={(r) => r.request_id}
      empty={<span data-testid="active-empty">No request in flight.</span>}
      columns={[
        { label: 'Duration', num: true, cell: (r) => { const ms = Math.max(0, now - r.start_time * 1000); return <span class={`tone-${durationTone(ms)}`} data-testid="active-duration" data-value={Math.round(ms)}>{fmtMs(ms)}</span>; } },
        { label: 'Model', cell: (r) => <span class="mono">{r.model ?? '—'}</span> },
        { label: 'Provider', cell: (r) => `${r.provider} · ${r.api}` },
        { label: 'Stream', cell: (r) => (r.is_streaming ? 'yes' : 'no') },
        { label: 'First byte', num: true, cell: (r) => fmtMs(r.ttfb_ms) },
        { label: 'In', num: true, cell: (r) => fmtInt(r.input_tokens) },
        { label: 'Out', num: true, cell: (r) => fmtInt(r.output_tokens) },
        { label: 'Cache read', num: true, cell: (r) => fmtInt(r.cache_read_tokens) },
        { label: 'Tools', num: true, title: 'tool calls / tools offered', cell: (r) => `${r.tool_calls}/${r.tool_definitions}` },
        { label: 'Client', cell: (r) => r.client ?? <span class="muted">—</span> },
        { label: 'Project', cell: (r) => r.project ?? <span class="muted">—</span> },
        { label: 'Request id', cell: (r) => <span class="mono muted">{r.request_id}</span> },
      ]}
    />
  );
}

function TotalsFigures({ t }: { t: RunningTotals['summary'] }) {
  return (
    <div class="figures" data-testid="running-totals">
      <Figure testid="rt-requests" label="Requests" value={t.total_requests} text={fmtInt(t.total_requests)} title="completed + active" />
      <Figure testid="rt-active" label="Active" value={t.active_requests} text={fmtInt(t.active_requests)} />
      <Figure testid="rt-errors" label="Errors" value={t.total_errors} text={`${fmtInt(t.total_errors)} (${fmtRatio(t.error_rate)})`} tone={t.total_errors > 0 ? 'bad' : undefined} />
      <Figure label="Input tokens" value={t.total_input_tokens} text={fmtInt(t.total_input_tokens)} />
      <Figure label="Output tokens" value={t.total_output_tokens} text={fmtInt(t.total_output_tokens)} />
      <Figure label="Cache read" value={t.total_cache_read_tokens} text={fmtInt(t.total_cache_read_tokens)} />
      <Figure label="Tokens saved" value={t.total_tokens_saved} text={fmtInt(t.total_tokens_saved)} tone="accent" />
      <Figure label="Avg duration" value={t.average_duration_ms} text={fmtMs(t.average_duration_ms)} />
    </div>
  );
}

type ModelRow = { key: string; provider: string; model: string; t: TotalsSection };

function modelRows(rt: RunningTotals): ModelRow[] {
  return Object.entries(rt.providers)
    .flatMap(([provider, p]) => Object.entries(p.models).map(([model, m]) => ({ key: `${provider}:${model}`, provider, model, t: m.total })))
    .sort((a, b) => b.t.requests - a.t.requests);
}

function TraceTable({ rows, testid, errors }: { rows: Trace[]; testid: string; errors?: boolean }) {
  return (
    <Table<Trace>
      testid={testid} rows={rows} rowKey={(r) => `${r.seq}`} empty={errors ? 'No errors recorded.' : 'No request completed yet.'}
      rowClass={(r) => (r.status === 'ok' ? '' : 'row-bad')}
      columns={[
        { label: `Time (${zoneShort()})`, cell: (r) => <span class="mono">{fmtClock(r.ts * 1000)}</span> },
        { label: 'Model', cell: (r) => <span class="mono">{r.model ?? '—'}</span> },
        { label: 'Status', class: 'nowrap', cell: (r) => (r.status === 'ok' ? <span class="tone-good">{r.http_status}</span> : <span class="tone-bad" title={`${r.error_type ?? r.status}: ${r.error ?? ''}`}>{errors ? `${r.error_type ?? r.status} ` : ''}{r.http_status}</span>) },
        ...(errors
          ? [{ label: 'Message', class: 'fill', cell: (r: Trace) => <span title={r.error ?? ''}>{r.error}</span> }]
          : [
              { label: 'Duration', num: true, cell: (r: Trace) => <span class={`tone-${durationTone(r.duration_ms)}`}>{fmtMs(r.duration_ms)}</span> },
              { label: 'In', num: true, cell: (r: Trace) => fmtInt(r.input_tokens) },
              { label: 'Out', num: true, cell: (r: Trace) => fmtInt(r.output_tokens) },
              { label: 'Saved', num: true, cell: (r: Trace) => fmtInt(r.tokens_saved) },
            ]),
      ]}
    />
  );
}

export function LiveView() {
  const app = useApp();
  const { snap, state, retries } = useLiveStream(app.visible, app.onAuth);
  const totals = usePoll<RunningTotals>(TOTALS_PATH, 5_000);
  const logs = usePoll<Logs>(LOGS_PATH, 5_000);
  const rows = snap?.s.active_requests ?? [];
  const now = useNow(250, app.visible && rows.length > 0) + (snap?.offsetMs ?? 0);

  // reload totals and logs shortly after a request starts or completes
  const completed = snap ? `${snap.s.active_total}/${snap.s.completed?.requests}/${snap.s.completed?.errors}` : '';
  const prev = useRef('');
  useEffect(() => {
    const was = prev.current;
    prev.current = completed;
    if (!was || was === completed) return;
    const t = setTimeout(() => {
      totals.reload();
      logs.reload();
    }, 300);
    return () => clearTimeout(t);
  }, [completed]);

  const label = streamLabel(state);
  const rt = totals.data;
  const disabled = state.kind === 'disabled' || rt?.disabled === true;
  return (
    <div class="view" data-testid="live-view">
      <div class="scope-line">
        <span
          class={`pill tone-${label.tone}`} data-testid="stream-state" data-state={state.kind} data-retries={retries}
          title={`Server-sent events from /metrics/active-requests/stream; ${retries} reconnection attempt(s) so far`}
        >
          <i class="dot" />
          {label.text}
        </span>
        {rt && !disabled && <span>running totals since {fmtClock(rt.summary.since)}</span>}
      </div>
      {disabled ? (
        <Empty testid="live-disabled">Live monitoring is turned off on this proxy. Start it without <code>--no-live-metrics</code> to see requests in flight.</Empty>
      ) : (
        <>
          <Card title="In flight" note={snap ? `${fmtInt(snap.s.active_total)} active${snap.s.truncated ? ' (list truncated)' : ''}` : ''} testid="active-card">
            <ActiveTable rows={rows} now={now} />
          </Card>
          <Card title="Running totals" note="live monitor, since process start" testid="totals-card">
            {rt ? <TotalsFigures t={rt.summary} /> : <div class="loading">Loading…</div>}
            {rt && (
              <Table<ModelRow>
                testid="live-models" rows={modelRows(rt)} rowKey={(r) => r.key}
                columns={[
                  { label: 'Model', cell: (r) => <span class="mono">{r.model}</span> },
                  { label: 'Provider', cell: (r) => r.provider },
                  { label: 'Requests', num: true, cell: (r) => fmtInt(r.t.requests) },
                  { label: 'Active', num: true, cell: (r) => fmtInt(r.t.active_requests) },
                  { label: 'Errors', num: true, cell: (r) => (r.t.errors > 0 ? <span class="tone-bad">{fmtInt(r.t.errors)}</span> : '0') },
                  { label: 'Avg duration', num: true, title: 'completed requests', cell: (r) => (r.t.requests > r.t.active_requests ? fmtMs(r.t.average_duration_ms) : '—') },
                  { label: 'In', num: true, cell: (r) => fmtInt(r.t.input_tokens) },
                  { label: 'Out', num: true, cell: (r) => fmtInt(r.t.output_tokens) },
                  { label: 'Saved', num: true, cell: (r) => fmtInt(r.t.tokens_saved) },
                ]}
              />
            )}
          </Card>
          <div class="grid-2">
            <Card title="Recent errors" note="newest first" testid="errors-card">
              <TraceTable rows={logs.data?.errors ?? []} testid="errors-table" errors />
            </Card>
            <Card title="Recent traces" note="newest first" testid="traces-card">
              <TraceTable rows={logs.data?.traces ?? []} testid="traces-table" />
            </Card>
          </div>
        </>
      )}
    </div>
  );
}
