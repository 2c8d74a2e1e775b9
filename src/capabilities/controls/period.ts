/**
 * Budget periods on calendar boundaries in a timezone: the hour, the day (00:00), the ISO
 * week (Monday 00:00) and the month (1st 00:00). UTC is computed directly; other timezones
 * through `Intl` (DST-aware: a day can be 23 or 25 hours long, and a boundary that falls in a
 * DST gap starts at the first instant that exists).
 */
import { ConfigError } from '../../config/index.js';

export type BudgetPeriod = 'hourly' | 'daily' | 'weekly' | 'monthly';

export interface PeriodWindow {
  /** Epoch ms of the first instant of the period. */
  start: number;
  /** Epoch ms of the first instant of the next period. */
  end: number;
}

/** Resolves `UTC` / `local` / an IANA name to a timezone `Intl` accepts; throws a ConfigError when unknown. */
export function resolveTimezone(tz: string): string {
  if (tz === 'UTC') return 'UTC';
  const name = tz === 'local' ? Intl.DateTimeFormat().resolvedOptions().timeZone : tz;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    throw new ConfigError(`Invalid configuration: budgetTimezone = ${JSON.stringify(tz)}: unknown timezone. Accepted: UTC, local or an IANA timezone name such as Europe/Paris.`);
  }
}

interface Wall {
  y: number;
  m: number; // 0-11
  d: number;
  h: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** Offset of `tz` from UTC at instant `t`, in ms (local = UTC + offset). */
function offsetAt(tz: string, t: number): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(new Date(t))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const asUtc = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return asUtc - Math.floor(t / 1000) * 1000;
}

/** The instant at which the wall clock of `tz` shows the given time (the first one after a DST gap). */
function instantOf(tz: string, y: number, m: number, d: number, h: number): number {
  const wall = Date.UTC(y, m, d, h);
  let t = wall - offsetAt(tz, wall);
  const o2 = offsetAt(tz, t);
  if (wall - o2 !== t) {
    const t2 = wall - o2;
    // in a DST gap neither guess maps back to the wall time: take the later instant
    t = offsetAt(tz, t2) === o2 ? t2 : Math.max(t, t2);
  }
  return t;
}

function wallAt(tz: string, t: number): Wall {
  if (tz === 'UTC') {
    const dt = new Date(t);
    return { y: dt.getUTCFullYear(), m: dt.getUTCMonth(), d: dt.getUTCDate(), h: dt.getUTCHours() };
  }
  const local = new Date(t + offsetAt(tz, t));
  return { y: local.getUTCFullYear(), m: local.getUTCMonth(), d: local.getUTCDate(), h: local.getUTCHours() };
}

/** Wall-clock start of the period containing `w`, and of the next one (Date.UTC normalises overflow). */
function bounds(period: BudgetPeriod, w: Wall): [Wall, Wall] {
  switch (period) {
    case 'hourly':
      return [w, { ...w, h: w.h + 1 }];
    case 'daily':
      return [{ ...w, h: 0 }, { ...w, d: w.d + 1, h: 0 }];
    case 'weekly': {
      const dow = new Date(Date.UTC(w.y, w.m, w.d)).getUTCDay(); // 0 = Sunday
      const monday = w.d - ((dow + 6) % 7);
      return [{ ...w, d: monday, h: 0 }, { ...w, d: monday + 7, h: 0 }];
    }
    case 'monthly':
      return [{ ...w, d: 1, h: 0 }, { ...w, m: w.m + 1, d: 1, h: 0 }];
  }
}

function toInstant(tz: string, w: Wall): number {
  if (tz === 'UTC') return Date.UTC(w.y, w.m, w.d, w.h);
  const n = new Date(Date.UTC(w.y, w.m, w.d, w.h)); // normalise day/month overflow first
  return instantOf(tz, n.getUTCFullYear(), n.getUTCMonth(), n.getUTCDate(), n.getUTCHours());
}

/** The period containing instant `now`. `tz` must come from `resolveTimezone`. */
export function periodWindow(period: BudgetPeriod, now: number, tz = 'UTC'): PeriodWindow {
  const [a, b] = bounds(period, wallAt(tz, now));
  let start = toInstant(tz, a);
  let end = toInstant(tz, b);
  // a timezone whose hour boundary is not on the UTC hour (e.g. +05:30): the wall hour found
  // from `now` may start after `now` when a DST change moved the clock; step back once
  if (start > now) {
    const prev = periodWindow(period, start - 1, tz);
    start = prev.start;
    end = prev.end;
  }
  if (end <= start) end = start + 3_600_000;
  return { start, end };
}

/** Remembers the current window and recomputes it only when `now` leaves it. */
export class PeriodClock {
  private window: PeriodWindow = { start: 0, end: 0 };

  constructor(
    readonly period: BudgetPeriod,
    readonly timezone: string,
  ) {}

  at(now: number): PeriodWindow {
    if (now < this.window.start || now >= this.window.end) this.window = periodWindow(this.period, now, this.timezone);
    return this.window;
  }
}
