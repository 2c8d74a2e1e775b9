/** Small presentational pieces shared by the views. */
import type { ComponentChildren, JSX } from 'preact';
import { fmtPct } from './format.js';

export function Card(props: { title?: string; note?: ComponentChildren; class?: string; children: ComponentChildren; testid?: string; actions?: ComponentChildren }) {
  return (
    <section class={`card ${props.class ?? ''}`} data-testid={props.testid}>
      {(props.title || props.actions) && (
        <header class="card-head">
          {props.title && <h2>{props.title}</h2>}
          {props.note && <span class="card-note">{props.note}</span>}
          {props.actions && <div class="card-actions">{props.actions}</div>}
        </header>
      )}
      {props.children}
    </section>
  );
}

/**
 * A headline figure. `value` is the raw number (kept in `data-value` so tests compare it
 * with the API exactly); `text` is how it is shown.
 */
export function Stat(props: { label: string; text: string; value?: number | null; sub?: ComponentChildren; tone?: string; testid: string; title?: string }) {
  return (
    <div class={`stat ${props.tone ? `stat--${props.tone}` : ''}`} data-testid={props.testid} title={props.title}>
      <div class="stat-label">{props.label}</div>
      <div class="stat-value" data-value={props.value === undefined || props.value === null ? '' : String(props.value)}>
        {props.text}
      </div>
      {props.sub && <div class="stat-sub">{props.sub}</div>}
    </div>
  );
}

/** A small labelled figure inside a card. */
export function Figure(props: { label: string; text: string; value?: number | null; testid?: string; title?: string; tone?: string }) {
  return (
    <div class={`figure ${props.tone ? `figure--${props.tone}` : ''}`} data-testid={props.testid} title={props.title}>
      <span class="figure-label">{props.label}</span>
      <span class="figure-value" data-value={props.value === undefined || props.value === null ? '' : String(props.value)}>{props.text}</span>
    </div>
  );
}

export function Empty(props: { children: ComponentChildren; testid?: string }) {
  return <div class="empty" data-testid={props.testid}>{props.children}</div>;
}

export interface Column<R> {
  label: string;
  /** Right-aligned, tabular figures. */
  num?: boolean;
  /** Extra class for the cells, e.g. `fill` (takes the spare width, cuts long text). */
  class?: string;
  title?: string;
  cell(row: R): ComponentChildren;
}

export function Table<R>(props: { columns: Column<R>[]; rows: R[]; rowKey(row: R): string; testid?: string; empty?: ComponentChildren; rowClass?(row: R): string }) {
  if (props.rows.length === 0 && props.empty) return <Empty testid={props.testid ? `${props.testid}-empty` : undefined}>{props.empty}</Empty>;
  return (
    <div class="table-wrap">
      <table data-testid={props.testid}>
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th class={c.num ? 'num' : ''} title={c.title}>{c.label}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr key={props.rowKey(r)} data-key={props.rowKey(r)} class={props.rowClass?.(r)}>
              {props.columns.map((c) => (
                <td class={`${c.num ? 'num' : ''} ${c.class ?? ''}`}>{c.cell(r)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A horizontal share bar: parts in proportion, each with a label. */
export function ShareBar(props: { parts: { label: string; value: number; tone: string }[]; testid?: string }) {
  const total = props.parts.reduce((a, p) => a + p.value, 0);
  return (
    <div class="share" data-testid={props.testid}>
      <div class="share-bar">
        {total > 0 ? (
          props.parts.map((p) => p.value > 0 && <span class={`share-part bg-${p.tone}`} style={{ width: `${(p.value / total) * 100}%` }} title={`${p.label}: ${fmtPct((p.value / total) * 100)}`} />)
        ) : (
          <span class="share-part share-none" style={{ width: '100%' }} />
        )}
      </div>
      <div class="share-legend">
        {props.parts.map((p) => (
          <span>
            <i class={`dot bg-${p.tone}`} />
            {p.label} {total > 0 ? fmtPct((p.value / total) * 100) : ''}
          </span>
        ))}
      </div>
    </div>
  );
}

export const Muted = (props: { children: ComponentChildren }): JSX.Element => <span class="muted">{props.children}</span>;

export function ErrorNote(props: { error: string | null }) {
  return props.error ? <div class="error-note" role="alert">Could not load: {props.error}</div> : null;
}
