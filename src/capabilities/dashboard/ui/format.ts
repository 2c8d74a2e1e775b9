/**
 * Number, money, duration and time formatting for the dashboard (pure; unit-tested). Numbers
 * and dates follow one locale and times one time zone, both set once by the page
 * (`setDisplay`: the browser's locale, and UTC or the browser's zone as the user chose);
 * the defaults (en-US, UTC) are what tests and a page without a choice get.
 */

export interface Display {
  /** A BCP 47 locale, e.g. `de-DE`. */
  locale: string;
  /** An IANA time zone, e.g. `Europe/Berlin`, or `UTC`. */
  timeZone: string;
}

interface Formatters {
  d: Display;
  grouped: Intl.NumberFormat;
  compact: Intl.NumberFormat;
  usd2: Intl.NumberFormat;
  usd4: Intl.NumberFormat;
  usdCompact: Intl.NumberFormat;
  clock: Intl.DateTimeFormat;
  dateTime: Intl.DateTimeFormat;
  /** Calendar dates of UTC days (the server's day, week and month buckets). */
  utcDate: Intl.DateTimeFormat;
  utcMonth: Intl.DateTimeFormat;
  decimals: Map<number, Intl.NumberFormat>;
  percents: Map<number, Intl.NumberFormat>;
}

function build(d: Display): Formatters {
  const usd = (min: number, max: number) => new Intl.NumberFormat(d.locale, { style: 'currency', currency: 'USD', minimumFractionDigits: min, maximumFractionDigits: max });
  return {
    d,
    grouped: new Intl.NumberFormat(d.locale, { maximumFractionDigits: 0 }),
    compact: new Intl.NumberFormat(d.locale, { notation: 'compact', maximumFractionDigits: 1 }),
    usd2: usd(2, 2),
    usd4: usd(4, 4),
    usdCompact: new Intl.NumberFormat(d.locale, { style: 'currency', currency: 'USD', notation: 'compact', maximumFractionDigits: 1 }),
    clock: new Intl.DateTimeFormat(d.locale, { hour: '2-digit', minute: '2-digit', second: '2-digit', timeZone: d.timeZone }),
    dateTime: new Intl.DateTimeFormat(d.locale, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', timeZone: d.timeZone }),
    utcDate: new Intl.DateTimeFormat(d.locale, { year: 'numeric', month: '2-digit', day: '2-digit', timeZone: 'UTC' }),
    utcMonth: new Intl.DateTimeFormat(d.locale, { year: 'numeric', month: 'long', timeZone: 'UTC' }),
    decimals: new Map(),
    percents: new Map(),
  };
}

let f = build({ locale: 'en-US', timeZone: 'UTC' });

/** Sets the locale and time zone every figure and time is shown in (an unknown locale or zone throws). */
export function setDisplay(d: Display): void {
  f = build(d);
}

export const getDisplay = (): Display => f.d;

/** The zone's offset at `at`, `UTC+01:00` style (`UTC` for zero). */
export function zoneOffset(timeZone: string, at = Date.now()): string {
  const part = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' }).formatToParts(at).find((p) => p.type === 'timeZoneName');
  const off = (part?.value ?? 'GMT').replace(/^GMT/, '');
  return off && !/^[+-]00(:00)?$/.test(off) ? `UTC${off}` : 'UTC';
}

/** How the current zone is named on the page: `UTC`, or `Europe/Berlin (UTC+01:00)`. */
export function zoneLabel(timeZone = f.d.timeZone, at = Date.now()): string {
  return timeZone === 'UTC' || timeZone === 'Etc/UTC' ? 'UTC' : `${timeZone} (${zoneOffset(timeZone, at)})`;
}

/** The zone's short name for column headers: `UTC`, `UTC+01:00`. */
export const zoneShort = (at = Date.now()): string => zoneOffset(f.d.timeZone, at);

export const DASH = '—';

const bad = (n: number | null | undefined): n is null | undefined => n === null || n === undefined || !Number.isFinite(n);

/** A number with exactly `digits` decimals, in the locale (`1,234.5` / `1.234,5`). */
export function fmtDecimal(n: number | null | undefined, digits: number): string {
  if (bad(n)) return DASH;
  let nf = f.decimals.get(digits);
  if (!nf) f.decimals.set(digits, (nf = new Intl.NumberFormat(f.d.locale, { minimumFractionDigits: digits, maximumFractionDigits: digits })));
  return nf.format(n);
}

/** Whole numbers with separators; from 1,000,000 on, compact (1.2M). */
export function fmtInt(n: number | null | undefined): string {
  if (bad(n)) return DASH;
  return Math.abs(n) >= 1_000_000 ? f.compact.format(n) : f.grouped.format(n);
}

/** US dollars: 2 decimals from $1, 4 below (LLM costs are often fractions of a cent), `<$0.0001` for dust. */
export function fmtUsd(n: number | null | undefined): string {
  if (bad(n)) return DASH;
  const sign = n < 0 ? '−' : '';
  const a = Math.abs(n);
  if (a === 0) return f.usd2.format(0);
  if (a < 0.0001) return `${sign}<${f.usd4.format(0.0001)}`;
  if (a < 1) return `${sign}${f.usd4.format(a)}`;
  if (a < 100_000) return `${sign}${f.usd2.format(a)}`;
  return `${sign}${f.usdCompact.format(a)}`;
}

/** A percentage that is already 0-100; null (no denominator) shows a dash. */
export function fmtPct(p: number | null | undefined, digits = 1): string {
  if (bad(p)) return DASH;
  let nf = f.percents.get(digits);
  if (!nf) f.percents.set(digits, (nf = new Intl.NumberFormat(f.d.locale, { style: 'percent', minimumFractionDigits: digits, maximumFractionDigits: digits })));
  return nf.format(p / 100);
}

/** A 0-1 ratio as a percentage. */
export const fmtRatio = (r: number | null | undefined): string => (bad(r) ? DASH : fmtPct(r * 100));

/** Milliseconds: `0.46 ms`, `12 ms`, `1.5 s`, `2m 05s`. */
export function fmtMs(ms: number | null | undefined): string {
  if (bad(ms)) return DASH;
  if (ms < 10) return `${fmtDecimal(ms, 2)} ms`;
  if (ms < 1000) return `${fmtDecimal(ms, 0)} ms`;
  if (ms < 60_000) return `${fmtDecimal(ms / 1000, 1)} s`;
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
}

const toDate = (t: string | number | null | undefined): Date | null => {
  if (t === null || t === undefined) return null;
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? null : d;
};

/** Wall-clock time in the display zone and locale (`21:05:09`, `09:05:09 PM`). */
export function fmtClock(t: string | number | null | undefined): string {
  const d = toDate(t);
  return d ? f.clock.format(d) : DASH;
}

/** Date and time in the display zone and locale (`06.12.2026, 21:05`, `12/06/2026, 09:05 PM`). */
export function fmtDateTime(t: string | number | null | undefined): string {
  const d = toDate(t);
  return d ? f.dateTime.format(d) : DASH;
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

/**
 * A bucket as the server buckets it: an hour starts at an instant, shown in the display zone;
 * days, weeks (by their Monday) and months are UTC calendar days, shown as dates.
 */
export function fmtBucket(iso: string, period: 'hourly' | 'daily' | 'weekly' | 'monthly'): string {
  const d = toDate(iso);
  if (!d) return DASH;
  switch (period) {
    case 'hourly':
      return f.dateTime.format(d);
    case 'daily':
      return f.utcDate.format(d);
    case 'weekly':
      return `week of ${f.utcDate.format(d)}`;
    case 'monthly':
      return f.utcMonth.format(d);
  }
}

/** A chart's x-axis tick (unix seconds): hour and minute in the display zone for hours (the date at midnight), a short UTC date for days and weeks, month and year for months. */
export function fmtTick(sec: number, period: 'hourly' | 'daily' | 'weekly' | 'monthly'): string {
  const d = new Date(sec * 1000);
  if (Number.isNaN(d.getTime())) return '';
  const opts: Intl.DateTimeFormatOptions =
    period === 'hourly' ? { hour: 'numeric', minute: '2-digit', timeZone: f.d.timeZone }
    : period === 'monthly' ? { month: 'short', year: 'numeric', timeZone: 'UTC' }
    : { month: 'short', day: 'numeric', timeZone: 'UTC' };
  if (period === 'hourly') {
    const hm = new Intl.DateTimeFormat('en-US', { hour: 'numeric', minute: 'numeric', hourCycle: 'h23', timeZone: f.d.timeZone }).format(d);
    if (hm === '00:00' || hm === '0:00') return new Intl.DateTimeFormat(f.d.locale, { month: 'short', day: 'numeric', timeZone: f.d.timeZone }).format(d);
  }
  return new Intl.DateTimeFormat(f.d.locale, opts).format(d);
}
