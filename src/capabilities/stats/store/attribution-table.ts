/**
 * The store's per-session and per-user rollup (`attribution_day`): one row per (UTC day,
 * dimension, hashed id) with the figures of its requests, maintained in the transaction that
 * writes the events (as the hourly and daily rollups are). The id `''` holds the requests
 * without an id, so a day's rows add up to its requests. At most {@link MAX_IDS_PER_DAY} ids
 * are kept per day and dimension; later new ids of that day are summed under `(other)`, so
 * the table stays bounded whatever ids clients send. Only hashes are stored, never raw ids.
 */
import type { Database as Db, Statement } from 'better-sqlite3';
import type { SavingsEvent } from './types.js';

export const MAX_IDS_PER_DAY = 1000;
export const OTHER = '(other)';
const DAY_MS = 86_400_000;

export const ATTRIBUTION_SCHEMA = `
CREATE TABLE IF NOT EXISTS attribution_day (
  start INTEGER NOT NULL, dim TEXT NOT NULL, id TEXT NOT NULL,
  requests INTEGER NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, tokens_saved INTEGER NOT NULL,
  input_cost_usd REAL NOT NULL, output_cost_usd REAL NOT NULL, savings_usd REAL NOT NULL,
  first_ts INTEGER NOT NULL, last_ts INTEGER NOT NULL,
  PRIMARY KEY (start, dim, id)) WITHOUT ROWID;
`;

export interface AttributionDraft {
  start: number;
  dim: 'session' | 'user';
  id: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  tokensSaved: number;
  inputCostUsd: number;
  outputCostUsd: number;
  savingsUsd: number;
  firstTs: number;
  lastTs: number;
}

export type AttributionDrafts = Map<string, AttributionDraft>;

/** Adds an event to the day's drafts (both dimensions). */
export function draftAttribution(drafts: AttributionDrafts, e: SavingsEvent): void {
  const start = Math.floor(e.ts / DAY_MS) * DAY_MS;
  for (const dim of ['session', 'user'] as const) {
    const id = e[dim] ?? '';
    const key = `${start}\u0000${dim}\u0000${id}`;
    let d = drafts.get(key);
    if (!d) {
      d = { start, dim, id, requests: 0, inputTokens: 0, outputTokens: 0, tokensSaved: 0, inputCostUsd: 0, outputCostUsd: 0, savingsUsd: 0, firstTs: e.ts, lastTs: e.ts };
      drafts.set(key, d);
    }
    d.requests++;
    d.inputTokens += e.inputTokens;
    d.outputTokens += e.outputTokens;
    d.tokensSaved += e.tokensSaved;
    d.inputCostUsd += e.inputCostUsd;
    d.outputCostUsd += e.outputCostUsd;
    d.savingsUsd += e.savingsUsd;
    d.firstTs = Math.min(d.firstTs, e.ts);
    d.lastTs = Math.max(d.lastTs, e.ts);
  }
}

export interface AttributionStatements {
  add: Statement;
  count: Statement;
  insert: Statement;
  upsert: Statement;
}

const ADD_SET = `requests = requests + @requests, input_tokens = input_tokens + @inputTokens,
  output_tokens = output_tokens + @outputTokens, tokens_saved = tokens_saved + @tokensSaved,
  input_cost_usd = input_cost_usd + @inputCostUsd, output_cost_usd = output_cost_usd + @outputCostUsd,
  savings_usd = savings_usd + @savingsUsd, first_ts = min(first_ts, @firstTs), last_ts = max(last_ts, @lastTs)`;

const INSERT = `INSERT INTO attribution_day (start, dim, id, requests, input_tokens, output_tokens, tokens_saved, input_cost_usd,
  output_cost_usd, savings_usd, first_ts, last_ts)
  VALUES (@start, @dim, @id, @requests, @inputTokens, @outputTokens, @tokensSaved, @inputCostUsd, @outputCostUsd, @savingsUsd, @firstTs, @lastTs)`;

export function attributionStatements(db: Db): AttributionStatements {
  return {
    add: db.prepare(`UPDATE attribution_day SET ${ADD_SET} WHERE start = @start AND dim = @dim AND id = @id`),
    count: db.prepare("SELECT count(*) AS n FROM attribution_day WHERE start = ? AND dim = ? AND id NOT IN ('', '(other)')"),
    insert: db.prepare(INSERT),
    upsert: db.prepare(`${INSERT} ON CONFLICT (start, dim, id) DO UPDATE SET ${ADD_SET}`),
  };
}

/**
 * Writes the drafts (inside the batch's transaction): an id the day already has is added to
 * (one UPDATE); a new one is inserted while the day has fewer than {@link MAX_IDS_PER_DAY}
 * ids (counted once per day and dimension per batch), else added to `(other)`.
 */
export function writeAttribution(st: AttributionStatements, drafts: AttributionDrafts): void {
  const counts = new Map<string, number>();
  for (const d of drafts.values()) {
    if (st.add.run(d).changes > 0) continue;
    if (d.id === '' || d.id === OTHER) {
      st.insert.run(d);
      continue;
    }
    const key = `${d.start}\u0000${d.dim}`;
    let n = counts.get(key);
    if (n === undefined) n = (st.count.get(d.start, d.dim) as { n: number }).n;
    if (n < MAX_IDS_PER_DAY) {
      st.insert.run(d);
      counts.set(key, n + 1);
    } else {
      counts.set(key, n);
      st.upsert.run({ ...d, id: OTHER });
    }
  }
}

export function pruneAttribution(db: Db, cutoff: number): void {
  db.prepare('DELETE FROM attribution_day WHERE start < ?').run(Math.ceil(cutoff / DAY_MS) * DAY_MS);
}

/** Additive figures of one id. */
export interface AttributionTotals {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  tokensSaved: number;
  inputCostUsd: number;
  outputCostUsd: number;
  savingsUsd: number;
  /** Epoch ms of the first and last request (null when none). */
  firstTs: number | null;
  lastTs: number | null;
}

/** One stored row: an id's additive figures in one dimension. */
export interface StoredAttribution extends AttributionTotals {
  dim: 'session' | 'user';
  /** Hash, `(other)`, or null for requests without an id. */
  id: string | null;
}

/** Every id's totals over the days starting at or after `since` (epoch ms). */
export function readAttribution(db: Db, since: number): StoredAttribution[] {
  const rows = db
    .prepare(`SELECT dim, id, sum(requests), sum(input_tokens), sum(output_tokens), sum(tokens_saved), sum(input_cost_usd),
      sum(output_cost_usd), sum(savings_usd), min(first_ts), max(last_ts)
      FROM attribution_day WHERE start >= ? GROUP BY dim, id`)
    .raw(true)
    .all(Math.floor(since / DAY_MS) * DAY_MS) as [string, string, number, number, number, number, number, number, number, number, number][];
  return rows.map((r) => ({
    dim: r[0] as 'session' | 'user', id: r[1] === '' ? null : r[1], requests: r[2], inputTokens: r[3], outputTokens: r[4], tokensSaved: r[5],
    inputCostUsd: r[6], outputCostUsd: r[7], savingsUsd: r[8], firstTs: r[9], lastTs: r[10],
  }));
}
