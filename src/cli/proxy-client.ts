/** Talking to a running proxy: liveness probe and `/stats` snapshots. */
import { request } from 'undici';

/** Whether a headroom-ts (or Headroom) proxy answers `/livez` at `url`. */
export async function isProxyUp(url: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const res = await request(`${url}/livez`, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    await res.body.dump();
    return res.statusCode === 200;
  } catch {
    return false;
  }
}

export async function fetchJson(url: string, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const res = await request(url, { headers, headersTimeout: 10_000, bodyTimeout: 30_000 });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`GET ${url} answered ${res.statusCode}: ${text.slice(0, 200)}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** The figures a savings summary needs, from a `/stats` body. */
export interface Totals {
  requests: number;
  failed: number;
  inputTokens: number;
  outputTokens: number;
  tokensSaved: number;
  /** Net dollars compression saved on the bill (`cost.total_savings_usd`). */
  savingsUsd: number;
  spendUsd: number;
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const obj = (v: unknown) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {});

export function totalsOf(stats: Record<string, unknown>): Totals {
  const requests = obj(stats.requests);
  const tokens = obj(stats.tokens);
  const cost = obj(stats.cost);
  return {
    requests: num(requests.total),
    failed: num(requests.failed),
    inputTokens: num(tokens.input),
    outputTokens: num(tokens.output),
    tokensSaved: num(tokens.saved),
    savingsUsd: num(cost.total_savings_usd ?? cost.savings_usd),
    spendUsd: num(cost.total_cost_usd ?? cost.cost_with_headroom_usd),
  };
}

export function diffTotals(after: Totals, before: Totals): Totals {
  const d = {} as Totals;
  // counters only grow (a smaller one means the proxy's stats were reset); net savings can fall
  for (const k of Object.keys(after) as (keyof Totals)[]) d[k] = k === 'savingsUsd' ? after[k] - before[k] : Math.max(0, after[k] - before[k]);
  return d;
}
