/**
 * One batch of the Postgres stats store written by ONE autocommit statement (atomic: every
 * data-modifying CTE of a statement commits or none does), a named prepared statement whose
 * text never changes: every row set travels as `unnest()`ed arrays.
 *
 * What the statement does, in the order its data dependencies impose:
 *
 * 1. `locked`: the lifetime and session rows, `FOR UPDATE` in a fixed order. In READ COMMITTED
 *    a row lock that had to wait answers the row as the instance that held it committed it, so
 *    the instances' batches are serialised on this lock and every figure below is computed from
 *    the current totals, never from this process's memory. Every write of the statement reads
 *    `locked` first (directly or through `run`), so it happens under the lock.
 * 2. `run`: running sums seeded with those rows (`sum() OVER` in event order: the same
 *    floating-point additions, in the same order, as the SQLite store's fold), giving each
 *    event its lifetime checkpoint, the new lifetime totals, and the session totals when the
 *    batch continues the stored session.
 * 3. The events, the hour and day rollups (additive drafts of the shared fold; checkpoints =
 *    the largest of their events), the totals, the projects (with the cap applied to the
 *    merged set) and the attribution rows (new ids beyond the day's cap summed under
 *    `(other)`), all set-based.
 *
 * Idempotency: the events are a plain INSERT, so an event whose key (`uid`) is already stored
 * fails the whole statement on the unique key and nothing of the batch is applied; the store
 * then looks the stored keys up, drops them and writes the rest (`pg.ts`). It also looks them
 * up before retrying a batch whose write failed (its commit may have happened). Keeping that
 * lookup out of this statement keeps its cached plan free of a scan of the events table.
 *
 * The session: the fold of the batch from an empty session gives the batch's last session
 * (from its last gap longer than the rollover). With the stored session's last activity `L`,
 * the stored session rolls over exactly when `L` is unknown or that last session starts more
 * than the rollover after `L`; otherwise the whole batch continues the stored session (the
 * same outcome as folding the batch from the stored session, event by event).
 *
 * Caps read the database as of the statement's start: with several instances writing at the
 * same moment, a day can receive a few more than MAX_IDS_PER_DAY ids (at most the new ids of
 * the batches committed while this one waited for the lock) and the project cap can be
 * exceeded by as many until the next batch; every sum stays exact. The ids of one batch sent
 * to `(other)` are summed in one row before they are added (the SQLite store adds them one by
 * one), so that row's dollar figures can differ from SQLite's in the last bits.
 *
 * The statement is prepared once per connection and runs on a cached plan: it reads no table
 * that grows without bound except `stats_attribution_day` (by its key, for the batch's days),
 * whose plan autovacuum's ANALYZE keeps current like any other.
 */
import { MAX_IDS_PER_DAY, OTHER } from './attribution-table.js';
import type { BatchFold } from './batch-fold.js';
import type { SavingsEvent, StoreLimits } from './types.js';

export interface Keyed {
  uid: string;
  e: SavingsEvent;
}

const TOTALS = ['requests', 'tokens_saved', 'savings_usd', 'input_tokens', 'input_cost_usd', 'output_tokens', 'output_cost_usd'] as const;

const ATTR_ADD = TOTALS.map((c) => `${c} = stats_attribution_day.${c} + excluded.${c}`).join(', ');
const ROLLUP_ADD = (t: string) =>
  `${TOTALS.map((c) => `${c} = ${t}.${c} + excluded.${c}`).join(', ')}, ` +
  ['cum_tokens_saved', 'cum_savings_usd', 'cum_input_tokens', 'cum_input_cost_usd'].map((c) => `${c} = greatest(${t}.${c}, excluded.${c})`).join(', ');

const rollupInsert = (table: string, grain: string) => `${grain}_rollup AS (
  INSERT INTO ${table} (start, provider, model, ${TOTALS.join(', ')}, cum_tokens_saved, cum_savings_usd, cum_input_tokens, cum_input_cost_usd)
  SELECT start, provider, model, ${TOTALS.join(', ')}, cum_tokens_saved, cum_savings_usd, cum_input_tokens, cum_input_cost_usd
  FROM rollup_rows WHERE grain = '${grain}'
  ON CONFLICT (start, provider, model) DO UPDATE SET ${ROLLUP_ADD(table)})`;

/** `@name::type` placeholders, numbered in order of first appearance. */
const SQL = `WITH
ev AS (
  SELECT * FROM unnest(@uid::text[], @ts::bigint[], @kind::text[], @provider::text[], @model::text[], @project::text[],
    @inputTokens::bigint[], @outputTokens::bigint[], @tokensSaved::bigint[], @newInputTokens::bigint[], @cacheReadTokens::bigint[],
    @cacheWriteTokens::bigint[], @savingsUsd::float8[], @inputCostUsd::float8[], @outputCostUsd::float8[])
    WITH ORDINALITY AS e(uid, ts, kind, provider, model, project, input_tokens, output_tokens, tokens_saved, new_input_tokens,
      cache_read_tokens, cache_write_tokens, savings_usd, input_cost_usd, output_cost_usd, ord)),
locked AS (
  SELECT scope, ${TOTALS.join(', ')}, started_at, last_activity_at FROM stats_totals
  WHERE scope IN ('lifetime', 'session') ORDER BY scope FOR UPDATE),
run AS (
  SELECT scope, ord, ts, provider, model, ${TOTALS.map((c) => `sum(${c}) OVER w AS ${c}`).join(', ')}
  FROM (
    SELECT scope, 0::bigint AS ord, NULL::bigint AS ts, NULL::text AS provider, NULL::text AS model, ${TOTALS.join(', ')} FROM locked
    UNION ALL
    SELECT l.scope, e.ord, e.ts, e.provider, e.model, 1, ${TOTALS.slice(1).map((c) => `e.${c}`).join(', ')} FROM ev e CROSS JOIN locked l
  ) s
  WINDOW w AS (PARTITION BY scope ORDER BY ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)),
run_end AS (SELECT * FROM run WHERE ord = cardinality(@uid::text[])),
ins AS (
  INSERT INTO stats_events (uid, ts, kind, provider, model, project, requests, input_tokens, output_tokens, tokens_saved,
    new_input_tokens, cache_read_tokens, cache_write_tokens, savings_usd, input_cost_usd, output_cost_usd, checkpoint,
    cum_tokens_saved, cum_savings_usd, cum_input_tokens, cum_input_cost_usd, instance)
  SELECT e.uid, e.ts, e.kind, e.provider, e.model, e.project, 1, e.input_tokens, e.output_tokens, e.tokens_saved,
    e.new_input_tokens, e.cache_read_tokens, e.cache_write_tokens, e.savings_usd, e.input_cost_usd, e.output_cost_usd, e.tokens_saved > 0,
    r.tokens_saved, r.savings_usd, r.input_tokens, r.input_cost_usd, @instance::text
  FROM ev e JOIN run r ON r.scope = 'lifetime' AND r.ord = e.ord ORDER BY e.ord
  RETURNING 1),
life AS (
  UPDATE stats_totals t SET ${TOTALS.map((c) => `${c} = f.${c}`).join(', ')}, started_at = NULL, last_activity_at = NULL
  FROM run_end f WHERE t.scope = 'lifetime' AND f.scope = 'lifetime'
  RETURNING 1),
sess AS (
  UPDATE stats_totals t SET
    requests = CASE WHEN x.roll THEN @sRequests::bigint ELSE f.requests END,
    tokens_saved = CASE WHEN x.roll THEN @sTokensSaved::bigint ELSE f.tokens_saved END,
    savings_usd = CASE WHEN x.roll THEN @sSavingsUsd::float8 ELSE f.savings_usd END,
    input_tokens = CASE WHEN x.roll THEN @sInputTokens::bigint ELSE f.input_tokens END,
    input_cost_usd = CASE WHEN x.roll THEN @sInputCostUsd::float8 ELSE f.input_cost_usd END,
    output_tokens = CASE WHEN x.roll THEN @sOutputTokens::bigint ELSE f.output_tokens END,
    output_cost_usd = CASE WHEN x.roll THEN @sOutputCostUsd::float8 ELSE f.output_cost_usd END,
    started_at = CASE WHEN x.roll THEN @sStartedAt::bigint ELSE x.started_at END,
    last_activity_at = CASE WHEN x.roll THEN @sLastActivityAt::bigint ELSE greatest(x.last_activity_at, @sLastActivityAt::bigint) END
  FROM run_end f, (
    SELECT started_at, last_activity_at, (last_activity_at IS NULL OR @sStartedAt::bigint - last_activity_at > @rolloverMs::bigint) AS roll
    FROM locked WHERE scope = 'session') x
  WHERE t.scope = 'session' AND f.scope = 'session'
  RETURNING 1),
rollup_drafts AS (
  SELECT * FROM unnest(@rGrain::text[], @rStart::bigint[], @rProvider::text[], @rModel::text[], @rRequests::bigint[], @rTokensSaved::bigint[],
    @rSavingsUsd::float8[], @rInputTokens::bigint[], @rInputCostUsd::float8[], @rOutputTokens::bigint[], @rOutputCostUsd::float8[])
    AS r(grain, start, provider, model, ${TOTALS.join(', ')})),
rollup_cum AS (
  SELECT g.grain, (r.ts / g.step) * g.step AS start, r.provider, r.model, max(r.tokens_saved) AS cum_tokens_saved,
    max(r.savings_usd) AS cum_savings_usd, max(r.input_tokens) AS cum_input_tokens, max(r.input_cost_usd) AS cum_input_cost_usd
  FROM run r CROSS JOIN (VALUES ('hour', 3600000::bigint), ('day', 86400000::bigint)) AS g(grain, step)
  WHERE r.scope = 'lifetime' AND r.ord > 0 GROUP BY 1, 2, 3, 4),
rollup_rows AS (SELECT * FROM rollup_drafts JOIN rollup_cum USING (grain, start, provider, model)),
${rollupInsert('stats_rollup_hour', 'hour')},
${rollupInsert('stats_rollup_day', 'day')},
project_drafts AS (
  SELECT * FROM unnest(@pName::text[], @pRequests::bigint[], @pTokensSaved::bigint[], @pSavingsUsd::float8[], @pInputTokens::bigint[],
    @pInputCostUsd::float8[], @pOutputTokens::bigint[], @pOutputCostUsd::float8[], @pLastActivityAt::bigint[])
    AS p(name, ${TOTALS.join(', ')}, last_activity_at)),
project_merged AS (
  SELECT coalesce(p.name, x.name) AS name, coalesce(x.tokens_saved, 0) + coalesce(p.tokens_saved, 0) AS tokens_saved,
    CASE WHEN p.name IS NULL THEN coalesce(x.last_activity_at, 0) ELSE greatest(coalesce(x.last_activity_at, 0), p.last_activity_at) END AS last
  FROM stats_projects x FULL JOIN project_drafts p ON p.name = x.name),
project_evicted AS (
  SELECT name FROM project_merged WHERE @pKeep::text IS NOT NULL AND name <> @pKeep::text
  ORDER BY tokens_saved, last, name COLLATE "C"
  LIMIT greatest((SELECT count(*) FROM project_merged) - @maxProjects::int, 0)),
projects AS (
  INSERT INTO stats_projects (name, ${TOTALS.join(', ')}, last_activity_at)
  SELECT p.* FROM project_drafts p WHERE EXISTS (SELECT 1 FROM locked) AND p.name NOT IN (SELECT name FROM project_evicted)
  ON CONFLICT (name) DO UPDATE SET ${TOTALS.map((c) => `${c} = stats_projects.${c} + excluded.${c}`).join(', ')},
    last_activity_at = greatest(coalesce(stats_projects.last_activity_at, 0), coalesce(excluded.last_activity_at, 0))),
projects_cut AS (DELETE FROM stats_projects WHERE name IN (SELECT name FROM project_evicted) AND EXISTS (SELECT 1 FROM locked)),
attribution_drafts AS (
  SELECT a.*, (a.id NOT IN ('', '${OTHER}') AND NOT EXISTS (
      SELECT 1 FROM stats_attribution_day x WHERE x.start = a.start AND x.dim = a.dim AND x.id = a.id)) AS new_id
  FROM unnest(@aStart::bigint[], @aDim::text[], @aId::text[], @aRequests::bigint[], @aInputTokens::bigint[], @aOutputTokens::bigint[],
    @aTokensSaved::bigint[], @aInputCostUsd::float8[], @aOutputCostUsd::float8[], @aSavingsUsd::float8[], @aFirstTs::bigint[], @aLastTs::bigint[])
    WITH ORDINALITY AS a(start, dim, id, requests, input_tokens, output_tokens, tokens_saved, input_cost_usd, output_cost_usd, savings_usd,
      first_ts, last_ts, ord)),
attribution_held AS (
  SELECT x.start, x.dim, count(*) AS n FROM stats_attribution_day x
  WHERE (x.start, x.dim) IN (SELECT start, dim FROM attribution_drafts WHERE new_id) AND x.id NOT IN ('', '${OTHER}')
  GROUP BY 1, 2),
attribution_ids AS (
  SELECT a.*, CASE WHEN NOT a.new_id THEN a.id
    WHEN coalesce(h.n, 0) + row_number() OVER (PARTITION BY a.start, a.dim, a.new_id ORDER BY a.ord) <= ${MAX_IDS_PER_DAY} THEN a.id
    ELSE '${OTHER}' END AS final_id
  FROM attribution_drafts a LEFT JOIN attribution_held h ON h.start = a.start AND h.dim = a.dim),
attribution AS (
  INSERT INTO stats_attribution_day (start, dim, id, requests, input_tokens, output_tokens, tokens_saved, input_cost_usd, output_cost_usd,
    savings_usd, first_ts, last_ts)
  SELECT start, dim, final_id, sum(requests), sum(input_tokens), sum(output_tokens), sum(tokens_saved), sum(input_cost_usd),
    sum(output_cost_usd), sum(savings_usd), min(first_ts), max(last_ts)
  FROM attribution_ids WHERE EXISTS (SELECT 1 FROM locked) GROUP BY start, dim, final_id
  ON CONFLICT (start, dim, id) DO UPDATE SET ${ATTR_ADD},
    first_ts = least(stats_attribution_day.first_ts, excluded.first_ts), last_ts = greatest(stats_attribution_day.last_ts, excluded.last_ts))
SELECT (SELECT count(*) FROM ins)::int AS written,
  (SELECT count(*) FROM life)::int + (SELECT count(*) FROM sess)::int AS totals`;

function compile(sql: string): { text: string; names: string[] } {
  const names: string[] = [];
  const text = sql.replace(/@([A-Za-z]+)/g, (_, name: string) => {
    let i = names.indexOf(name);
    if (i < 0) i = names.push(name) - 1;
    return `$${i + 1}`;
  });
  return { text, names };
}

const WRITE = compile(SQL);

/** What the statement answers. */
export interface BatchResult {
  /** Events inserted. */
  written: number;
  /** Totals rows updated (2 when written). */
  totals: number;
}

/**
 * The named statement writing `batch` (sorted by time, oldest first) as folded by `fold`
 * (a fold of exactly these events from zero lifetime totals and an empty session).
 */
export function batchStatement(batch: readonly Keyed[], fold: BatchFold, instance: string, limits: StoreLimits): { name: string; text: string; values: unknown[] } {
  const v: Record<string, unknown> = {
    uid: batch.map((k) => k.uid), ts: batch.map((k) => k.e.ts), kind: batch.map((k) => k.e.kind), provider: batch.map((k) => k.e.provider),
    model: batch.map((k) => k.e.model), project: batch.map((k) => k.e.project), inputTokens: batch.map((k) => k.e.inputTokens),
    outputTokens: batch.map((k) => k.e.outputTokens), tokensSaved: batch.map((k) => k.e.tokensSaved), newInputTokens: batch.map((k) => k.e.newInputTokens),
    cacheReadTokens: batch.map((k) => k.e.cacheReadTokens), cacheWriteTokens: batch.map((k) => k.e.cacheWriteTokens),
    savingsUsd: batch.map((k) => k.e.savingsUsd), inputCostUsd: batch.map((k) => k.e.inputCostUsd), outputCostUsd: batch.map((k) => k.e.outputCostUsd),
    instance, rolloverMs: limits.sessionRolloverMs, maxProjects: limits.maxProjects,
  };
  const s = fold.session;
  Object.assign(v, {
    sRequests: s.requests, sTokensSaved: s.tokensSaved, sSavingsUsd: s.savingsUsd, sInputTokens: s.inputTokens, sInputCostUsd: s.inputCostUsd,
    sOutputTokens: s.outputTokens, sOutputCostUsd: s.outputCostUsd, sStartedAt: s.startedAt, sLastActivityAt: s.lastActivityAt,
  });
  const rollups = [...[...fold.hours.values()].map((d) => ['hour', d] as const), ...[...fold.days.values()].map((d) => ['day', d] as const)];
  Object.assign(v, {
    rGrain: rollups.map(([g]) => g), rStart: rollups.map(([, d]) => d.start), rProvider: rollups.map(([, d]) => d.provider), rModel: rollups.map(([, d]) => d.model),
    rRequests: rollups.map(([, d]) => d.requests), rTokensSaved: rollups.map(([, d]) => d.tokensSaved), rSavingsUsd: rollups.map(([, d]) => d.savingsUsd),
    rInputTokens: rollups.map(([, d]) => d.inputTokens), rInputCostUsd: rollups.map(([, d]) => d.inputCostUsd),
    rOutputTokens: rollups.map(([, d]) => d.outputTokens), rOutputCostUsd: rollups.map(([, d]) => d.outputCostUsd),
  });
  const projects = [...fold.projects];
  Object.assign(v, {
    pName: projects.map(([n]) => n), pRequests: projects.map(([, p]) => p.requests), pTokensSaved: projects.map(([, p]) => p.tokensSaved),
    pSavingsUsd: projects.map(([, p]) => p.savingsUsd), pInputTokens: projects.map(([, p]) => p.inputTokens), pInputCostUsd: projects.map(([, p]) => p.inputCostUsd),
    pOutputTokens: projects.map(([, p]) => p.outputTokens), pOutputCostUsd: projects.map(([, p]) => p.outputCostUsd),
    pLastActivityAt: projects.map(([, p]) => p.lastActivityAt), pKeep: fold.current,
  });
  const attr = [...fold.attribution.values()];
  Object.assign(v, {
    aStart: attr.map((d) => d.start), aDim: attr.map((d) => d.dim), aId: attr.map((d) => d.id), aRequests: attr.map((d) => d.requests),
    aInputTokens: attr.map((d) => d.inputTokens), aOutputTokens: attr.map((d) => d.outputTokens), aTokensSaved: attr.map((d) => d.tokensSaved),
    aInputCostUsd: attr.map((d) => d.inputCostUsd), aOutputCostUsd: attr.map((d) => d.outputCostUsd), aSavingsUsd: attr.map((d) => d.savingsUsd),
    aFirstTs: attr.map((d) => d.firstTs), aLastTs: attr.map((d) => d.lastTs),
  });
  return {
    name: 'stats-write-batch',
    text: WRITE.text,
    values: WRITE.names.map((n) => {
      if (!(n in v)) throw new Error(`stats batch statement: no value for @${n}`);
      return v[n];
    }),
  };
}
