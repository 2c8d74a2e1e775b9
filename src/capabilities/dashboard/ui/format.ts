/** Number, money, duration and time formatting for the dashboard (pure; unit-tested). */

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

export const DASH = '—';

const bad = (n: number | null | undefined): n is null | undefined => n === null || n === undefined || !Number.isFinite(n);

/** Whole numbers with separators; from 1,000,000 on, compact (1.2M). */
export function fmtInt(n: number | null | undefined): string {
  if (bad(n)) return DASH;
  return Math.abs(n) >= 1_000_000 ? compact.format(n) : grouped.format(n);
}

/** US dollars: 2 decimals from $1, 4 below (LLM costs are often fractions of a cent), `<$0.0001` for dust. */
export function fmtUsd(n: number | null | undefined): string {
  if (bad(n)) return DASH;
  const sign = n < 0 ? '−' : '';
  const a = Math.abs(n);
  if (a === 0) return '$0.00';
  if (a < 0.0001) return `${sign}<$0.0001`;
  if (a < 1) return `${sign}$${a.toFixed(4)}`;
  if (a < 100_000) return `${sign}$${a.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  return `${sign}$${compact.format(a)}`;
}

/** A percentage that is already 0-100; null (no denominator) shows a dash. */
export function fmtPct(p: number | null | undefined, digits = 1): string {
  if (bad(p)) return DASH;
  return `${p.toFixed(digits)}%`;
}

/** A 0-1 ratio as a percentage. */
export const fmtRatio = (r: number | null | undefined): string => (bad(r) ? DASH : fmtPct(r * 100));

/** Milliseconds: `0.46 ms`, `12 ms`, `1.5 s`, `2m 05s`. */
export function fmtMs(ms: number | null | undefined): string {
  if (bad(ms)) return DASH;
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Local wall-clock time `HH:MM:SS`. */
export function fmtClock(t: string | number | null | undefined): string {
  if (t === null || t === undefined) return DASH;
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return DASH;
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Local date and time `YYYY-MM-DD HH:MM`. */
export function fmtDateTime(t: string | number | null | undefined): string {
  if (t === null || t === undefined) return DASH;
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return DASH;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** `3h 12m`, `45s`: how long ago / how long since. */
export function fmtSpan(seconds: number | null | undefined): string {
  if (bad(seconds) || seconds < 0) return DASH;
  if (seconds < 60) return `${Math.floor(seconds)}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** Latency colour class used by the live tables (0 muted, <500 ms good, <2 s warn, else bad). */
export function durationTone(ms: number): 'muted' | 'good' | 'warn' | 'bad' {
  if (ms <= 0) return 'muted';
  if (ms < 500) return 'good';
  if (ms < 2000) return 'warn';
  return 'bad';
}

/** A UTC bucket start as the server buckets it: `2026-11-22 07:00`, `2026-11-22`, `2026-11` (weeks by their Monday). */
export function fmtBucket(iso: string, period: 'hourly' | 'daily' | 'weekly' | 'monthly'): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return DASH;
  const day = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  switch (period) {
    case 'hourly':
      return `${day} ${pad(d.getUTCHours())}:00`;
    case 'daily':
      return day;
    case 'weekly':
      return `week of ${day}`;
    case 'monthly':
      return day.slice(0, 7);
  }
}
