/**
 * The per-session and per-user tables of `/stats` and `/stats-history`: the ids that spent
 * the most (then made the most requests) by name, at most {@link MAX_ATTRIBUTION_ROWS} rows,
 * the others summed under `(other)` (as `/stats-history` does for models), requests without
 * an id under `unattributed`, and the total of all of them, so the rows always add up.
 *
 * The figures are those of `/stats`: spend is the provider-billed input + output cost and
 * saved is compression's net saving (`accounting.ts`, `savings/savings.ts`), per request.
 */
import { HASH_CHARS, SESSION_HEADER } from './ids.js';
import type { Attribution, AttributionFigures, AttributionTable } from '../schema.js';
import { round6 } from '../../../util/round.js';
import type { AttributionTotals } from '../store/attribution-table.js';

export const MAX_ATTRIBUTION_ROWS = 32;
export const OTHER_ID = '(other)';

export type Dimension = 'session' | 'user';
export const DIMENSIONS: readonly Dimension[] = ['session', 'user'];

export type { AttributionTotals };

/** One id's figures: `id` is the hash, {@link OTHER_ID}, or null for requests without an id. */
export interface AttributionRow extends AttributionTotals {
  id: string | null;
}

export const zeroAttribution = (): AttributionTotals => ({
  requests: 0, inputTokens: 0, outputTokens: 0, tokensSaved: 0, inputCostUsd: 0, outputCostUsd: 0, savingsUsd: 0, firstTs: null, lastTs: null,
});

export function addAttribution(into: AttributionTotals, t: AttributionTotals): void {
  into.requests += t.requests;
  into.inputTokens += t.inputTokens;
  into.outputTokens += t.outputTokens;
  into.tokensSaved += t.tokensSaved;
  into.inputCostUsd += t.inputCostUsd;
  into.outputCostUsd += t.outputCostUsd;
  into.savingsUsd += t.savingsUsd;
  if (t.firstTs !== null) into.firstTs = into.firstTs === null ? t.firstTs : Math.min(into.firstTs, t.firstTs);
  if (t.lastTs !== null) into.lastTs = into.lastTs === null ? t.lastTs : Math.max(into.lastTs, t.lastTs);
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));
const spend = (t: AttributionTotals) => t.inputCostUsd + t.outputCostUsd;

function totalsJson(t: AttributionTotals): AttributionFigures {
  return {
    requests: t.requests,
    input_tokens: t.inputTokens,
    output_tokens: t.outputTokens,
    tokens_saved: t.tokensSaved,
    input_cost_usd: round6(t.inputCostUsd),
    output_cost_usd: round6(t.outputCostUsd),
    spend_usd: round6(spend(t)),
    saved_usd: round6(t.savingsUsd),
    first_seen_at: iso(t.firstTs),
    last_seen_at: iso(t.lastTs),
  };
}

/** The JSON table of one dimension from every row of it (ids unique; null = without an id). */
export function dimensionJson(rows: readonly AttributionRow[], max = MAX_ATTRIBUTION_ROWS): AttributionTable {
  const total = zeroAttribution();
  const unattributed = zeroAttribution();
  const other = zeroAttribution();
  const named: AttributionRow[] = [];
  for (const r of rows) {
    addAttribution(total, r);
    if (r.id === null) addAttribution(unattributed, r);
    else if (r.id === OTHER_ID) addAttribution(other, r);
    else named.push(r);
  }
  named.sort((a, b) => spend(b) - spend(a) || b.requests - a.requests || (a.id! < b.id! ? -1 : 1));
  const keep = other.requests > 0 || named.length > max ? max - 1 : max;
  for (const r of named.slice(keep)) addAttribution(other, r);
  const out: AttributionTable['rows'] = named.slice(0, keep).map((r) => ({ id: r.id as string, ...totalsJson(r) }));
  if (other.requests > 0) out.push({ id: OTHER_ID, ...totalsJson(other) });
  return {
    distinct: named.length,
    rows: out,
    unattributed: totalsJson(unattributed),
    total: totalsJson(total),
  };
}

/** What the ids are and how they are hashed (said in every payload). */
export const ATTRIBUTION_SOURCES = {
  session: `the ${SESSION_HEADER} request header (Claude Code), else the session embedded in Claude Code's metadata.user_id`,
  user: 'metadata.user_id (Anthropic; without the session part Claude Code embeds), safety_identifier, else user (OpenAI)',
  id_hash: `the first ${HASH_CHARS} hex characters of the unsalted SHA-256 of the id; raw ids are never stored, logged or returned`,
  figures: 'spend_usd = input_cost_usd + output_cost_usd (provider-billed, as /stats cost); saved_usd = net compression savings (as /stats cost.total_savings_usd)',
  limit: `at most ${MAX_ATTRIBUTION_ROWS} rows per table: the ids that spent the most by name, the rest summed under ${OTHER_ID}; requests without an id under unattributed; total = rows + unattributed`,
};

export function attributionJson(scope: string, byDim: Record<Dimension, readonly AttributionRow[]>, extra: Pick<Attribution, 'range'> = {}): Attribution {
  return {
    scope,
    ...extra,
    sources: ATTRIBUTION_SOURCES,
    sessions: dimensionJson(byDim.session),
    users: dimensionJson(byDim.user),
  };
}
