import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/index.js';
import { PeriodClock, periodWindow, resolveTimezone } from '../src/capabilities/controls/period.js';

const utc = (s: string) => Date.parse(s);
const iso = (ms: number) => new Date(ms).toISOString();

describe('budget periods (UTC)', () => {
  it('hourly: the top of the hour', () => {
    const w = periodWindow('hourly', utc('2026-03-10T14:59:59.999Z'));
    expect([iso(w.start), iso(w.end)]).toEqual(['2026-03-10T14:00:00.000Z', '2026-03-10T15:00:00.000Z']);
    expect(periodWindow('hourly', utc('2026-03-10T15:00:00.000Z')).start).toBe(w.end);
  });

  it('daily: midnight to midnight, across a month end', () => {
    const w = periodWindow('daily', utc('2026-01-31T23:59:59.999Z'));
    expect([iso(w.start), iso(w.end)]).toEqual(['2026-01-31T00:00:00.000Z', '2026-02-01T00:00:00.000Z']);
  });

  it('weekly: Monday 00:00 (ISO week), also from a Sunday and across a year end', () => {
    const sunday = periodWindow('weekly', utc('2026-03-15T23:00:00Z')); // a Sunday
    expect([iso(sunday.start), iso(sunday.end)]).toEqual(['2026-03-09T00:00:00.000Z', '2026-03-16T00:00:00.000Z']);
    const monday = periodWindow('weekly', utc('2026-03-16T00:00:00Z'));
    expect(iso(monday.start)).toBe('2026-03-16T00:00:00.000Z');
    const newYear = periodWindow('weekly', utc('2027-01-01T12:00:00Z')); // a Friday
    expect([iso(newYear.start), iso(newYear.end)]).toEqual(['2026-12-28T00:00:00.000Z', '2027-01-04T00:00:00.000Z']);
  });

  it('monthly: the 1st 00:00, February of a leap year, December to January', () => {
    const feb = periodWindow('monthly', utc('2028-02-29T10:00:00Z'));
    expect([iso(feb.start), iso(feb.end)]).toEqual(['2028-02-01T00:00:00.000Z', '2028-03-01T00:00:00.000Z']);
    const dec = periodWindow('monthly', utc('2026-12-31T23:59:59Z'));
    expect([iso(dec.start), iso(dec.end)]).toEqual(['2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z']);
  });
});

describe('budget periods in a timezone', () => {
  it('daily in New York follows DST (23- and 25-hour days)', () => {
    const tz = resolveTimezone('America/New_York');
    const before = periodWindow('daily', utc('2026-03-08T12:00:00Z'), tz); // DST starts 2026-03-08 02:00 local
    expect([iso(before.start), iso(before.end)]).toEqual(['2026-03-08T05:00:00.000Z', '2026-03-09T04:00:00.000Z']);
    const fall = periodWindow('daily', utc('2026-11-01T12:00:00Z'), tz); // DST ends 2026-11-01 02:00 local
    expect([iso(fall.start), iso(fall.end)]).toEqual(['2026-11-01T04:00:00.000Z', '2026-11-02T05:00:00.000Z']);
    // 03:59 UTC on the 9th is still the 8th in New York
    expect(periodWindow('daily', utc('2026-03-09T03:59:59Z'), tz).start).toBe(before.start);
  });

  it('hourly with a half-hour offset (Asia/Kolkata) starts on :30 UTC', () => {
    const w = periodWindow('hourly', utc('2026-05-01T10:45:00Z'), resolveTimezone('Asia/Kolkata'));
    expect([iso(w.start), iso(w.end)]).toEqual(['2026-05-01T10:30:00.000Z', '2026-05-01T11:30:00.000Z']);
  });

  it('weekly and monthly in Tokyo', () => {
    const tz = resolveTimezone('Asia/Tokyo');
    // Monday 2026-03-16 00:30 Tokyo = Sunday 15:30 UTC
    const w = periodWindow('weekly', utc('2026-03-15T15:30:00Z'), tz);
    expect(iso(w.start)).toBe('2026-03-15T15:00:00.000Z');
    const m = periodWindow('monthly', utc('2026-03-31T15:30:00Z'), tz); // April 1st 00:30 Tokyo
    expect([iso(m.start), iso(m.end)]).toEqual(['2026-03-31T15:00:00.000Z', '2026-04-30T15:00:00.000Z']);
  });

  it('a day that starts in a DST gap begins at the first instant that exists', () => {
    // Santiago springs forward at 24:00 on 2026-09-05: 2026-09-06 00:00 local does not exist
    const tz = resolveTimezone('America/Santiago');
    const w = periodWindow('daily', utc('2026-09-06T12:00:00Z'), tz);
    expect(iso(w.start)).toBe('2026-09-06T04:00:00.000Z');
    expect(w.end).toBeGreaterThan(w.start);
  });

  it('rejects an unknown timezone with a ConfigError', () => {
    expect(() => resolveTimezone('Mars/Olympus_Mons')).toThrow(ConfigError);
    expect(resolveTimezone('local')).toBeTruthy();
  });

  it('PeriodClock keeps the window until the boundary', () => {
    const c = new PeriodClock('hourly', 'UTC');
    const a = c.at(utc('2026-01-01T10:10:00Z'));
    expect(c.at(utc('2026-01-01T10:59:59Z'))).toBe(a);
    expect(c.at(utc('2026-01-01T11:00:00Z')).start).toBe(a.end);
  });
});
