/** Reconnect delay for the n-th consecutive failure (0-based): 1 s × 1.6ⁿ, at most 30 s, ±20 % jitter. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(30_000, 1000 * 1.6 ** attempt);
  return Math.round(base * (0.8 + 0.4 * random()));
}
