/**
 * Decimal rounding of reported figures (`Math.round`, half up; Python's `round()` is
 * half-even, but the figures compared with Headroom's are never exact halves). One place for
 * every report, so a figure rounded in `/stats` reads the same in the logs and `/metrics`.
 */
export const round1 = (n: number): number => Math.round(n * 10) / 10;
export const round2 = (n: number): number => Math.round(n * 100) / 100;
export const round3 = (n: number): number => Math.round(n * 1000) / 1000;
export const round4 = (n: number): number => Math.round(n * 1e4) / 1e4;
export const round6 = (n: number): number => Math.round(n * 1e6) / 1e6;

/** `n` rounded to `digits` decimals (0-15). */
export const roundTo = (n: number, digits: number): number => Math.round(n * 10 ** digits) / 10 ** digits;
