import type { Aborter } from './aborter.js';

/** When and how long to wait before another upstream attempt. */

export const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504, 529]);

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Injected for tests; returns [0, 1). */
  random?: () => number;
}

/** Exponential backoff with "equal jitter": half fixed, half random. */
export function backoffMs(policy: RetryPolicy, attempt: number): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  const rnd = (policy.random ?? Math.random)();
  return Math.round(exp / 2 + (exp / 2) * rnd);
}

/** Parses `retry-after-ms`, then `retry-after` (seconds or an HTTP date). Returns ms or null. */
export function retryAfterMs(headers: Record<string, string | string[] | undefined>, now = Date.now()): number | null {
  const ms = headers['retry-after-ms'];
  if (typeof ms === 'string' && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.ceil(Number(ms));
  const ra = headers['retry-after'];
  if (typeof ra !== 'string' || !ra.trim()) return null;
  const v = ra.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.ceil(Number(v) * 1000);
  const date = Date.parse(v);
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - now);
}

/**
 * Delay before retrying after an upstream status, or null when the response should be
 * passed to the client instead (not retryable, attempts used up, or Retry-After too long).
 */
export function delayForStatus(
  policy: RetryPolicy,
  attempt: number,
  status: number,
  headers: Record<string, string | string[] | undefined>,
): number | null {
  if (!RETRYABLE_STATUS.has(status) || attempt >= policy.maxAttempts) return null;
  const hinted = retryAfterMs(headers);
  if (hinted !== null) return hinted <= policy.maxDelayMs ? hinted : null;
  return backoffMs(policy, attempt);
}

/** Resolves after `ms`, or early (false) when the aborter fires. */
export function sleep(ms: number, aborter: Aborter): Promise<boolean> {
  if (aborter.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      aborter.off('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    aborter.once('abort', onAbort);
  });
}
