/**
 * The wire shapes of `GET /stats` and `GET /stats-history`, declared once: the server builds
 * its documents typed by them (`payload.ts`, `routes.ts`), the dashboard takes its types from
 * them (`z.infer`, type-only imports), tests parse real responses with them, and
 * docs/wire-shapes.md is generated from them. Objects are not strict: a capability may add
 * keys (sections), a client ignores what it does not know; every key declared here must be
 * present. This file imports nothing but zod (the dashboard type-checks it with its own
 * tsconfig).
 */
import { z } from 'zod';

const num = z.number();
const int = z.number().int();
const str = z.string();
const counts = z.record(z.string(), z.number());
/** Seconds precision UTC time, `Z` suffix, or null when the event has not happened. */
const isoOrNull = z.string().nullable();

// ---------------------------------------------------------------------------------------------
// Durable totals (the stats store), shared by /stats and /stats-history
// ---------------------------------------------------------------------------------------------

export const totalsSchema = z.object({
  requests: int.describe('Requests counted'),
  tokens_saved: int.describe('Input tokens removed by compression'),
  compression_savings_usd: num.describe('Dollars compression saved (net), 6 decimals'),
  total_input_tokens: int.describe('Input tokens sent upstream'),
  total_input_cost_usd: num.describe('Input spend, 6 decimals'),
  total_output_tokens: int.describe('Output tokens'),
  total_output_cost_usd: num.describe('Output spend, 6 decimals'),
  savings_percent: num.describe('Whole wire: tokens_saved / (total_input_tokens + tokens_saved) x 100'),
});

export const sessionTotalsSchema = totalsSchema.extend({
  started_at: isoOrNull.describe('First request of the display session'),
  last_activity_at: isoOrNull.describe('Newest request of the display session'),
});

export const projectTotalsSchema = totalsSchema.extend({
  last_activity_at: isoOrNull.describe('Newest request of the project'),
});

export const sessionPolicySchema = z.object({
  rollover_inactivity_minutes: int.describe('A new display session starts after this many minutes without requests'),
});

export const retentionSchema = z.object({
  max_history_points: int.describe('History points kept by the store'),
  max_history_age_days: int.describe('Days history and rollups are kept'),
  max_response_history_points: int.describe('Most history points returned in compact mode'),
  hourly_series_days: int.describe('Days covered by the hourly series'),
});

export const historyPointSchema = z.object({
  timestamp: str.describe('UTC, second precision'),
  provider: str,
  model: str,
  total_tokens_saved: int.describe('Cumulative tokens saved at this point'),
  compression_savings_usd: num.describe('Cumulative dollars saved at this point'),
  total_input_tokens: int.describe('Cumulative input tokens at this point'),
  total_input_cost_usd: num.describe('Cumulative input spend at this point'),
});

// ---------------------------------------------------------------------------------------------
// /stats parts built by the stats capability
// ---------------------------------------------------------------------------------------------

export const timingSchema = z.object({
  average_ms: num,
  min_ms: num,
  max_ms: num,
  p50_ms: num.describe('Nearest-rank percentile over the recent window'),
  p90_ms: num,
  p99_ms: num,
  samples: int.describe('Requests measured since start or reset'),
  percentile_window: int.describe('Samples the percentiles are taken over'),
});

export const latencySchema = timingSchema.extend({ total_requests: int });

export const keyedTimingSchema = z.object({ average_ms: num, max_ms: num, count: int });

export const savingsBasisSchema = z.object({
  percent: num.nullable().describe('numerator / denominator x 100; null when no request reported the denominator'),
  numerator: num,
  denominator: num,
  basis: str.describe('What the percentage divides'),
});

const compressionSummarySchema = z.object({
  requests_compressed: int,
  avg_compression_pct: num,
  best_compression_pct: num,
  best_detail: str.describe('Best request, e.g. `1,021 → 75 tokens`'),
  total_tokens_removed: int,
  cli_filtering_tokens_avoided: int,
  total_tokens_saved_with_cli_filtering: int,
  total_tokens_before_with_cli_filtering: int,
  rtk_tokens_avoided: int,
  total_tokens_saved_with_rtk: int,
  total_tokens_before_with_rtk: int,
});

export const summaryCostSchema = z.object({
  scope: z.literal('process'),
  without_headroom_usd: num.describe('Input spend plus what compression saved'),
  with_headroom_usd: num.describe('Input spend'),
  total_saved_usd: num.describe('Net compression saving (after retrieval rounds and cache busts)'),
  savings_pct: num.describe('total_saved_usd / without_headroom_usd x 100'),
  savings_pct_basis: str,
  breakdown: z.object({
    cache_savings_usd: num.describe('Provider prompt-cache read savings minus write premiums'),
    compression_savings_usd: num,
    compression_gross_usd: num,
    retrieval_rounds_usd: num,
    cache_bust_usd: num,
    cli_filtering_savings_usd: z.null(),
    cli_filtering_savings_note: str,
    rtk_savings_usd: z.null(),
    rtk_savings_note: str,
    note: str,
  }),
});

export const agentSchema = z.object({
  agent: str.describe('Client family (from the User-Agent or `x-headroom-client`)'),
  label: str,
  source: str,
  requests: int,
  before_tokens: int,
  after_tokens: int,
  output_tokens: int,
  tokens_saved: int,
  models: counts,
  providers: counts,
  has_exact_tokens: z.boolean(),
  savings_percent: num,
  after_percent: num,
  share_of_saved_percent: num,
  share_of_requests_percent: num,
});

export const agentUsageSchema = z.object({
  agents: z.array(agentSchema).describe('Most tokens saved first'),
  totals: z.object({ requests: int, before_tokens: int, after_tokens: int, output_tokens: int, tokens_saved: int, savings_percent: num }),
  coverage: z.object({ logged_requests: int, exact_token_rows: int, mode: z.literal('request_logs') }),
});

export const requestsSchema = z.object({
  total: int.describe('LLM requests finished since start or reset'),
  cached: int.describe('Requests that read the provider prompt cache'),
  rate_limited: int,
  failed: int.describe('Headroom\'s count: the proxy got no answer from the upstream'),
  errors: int.describe('Every unsuccessful request but client aborts, rate limits and budget refusals'),
  by_provider: counts,
  by_model: counts,
  by_stack: counts,
  by_kind: counts.describe('`proxy`, `compress` or `hook`'),
  aborted: int,
  by_routed_provider: counts.describe('Proxied requests by the provider that answered (routing\'s target, else the route\'s provider); 64 names, others under `other`'),
  by_requested_model: counts.describe('Proxied requests by the model the client asked for (an alias, `provider:model` or a bare model); 64 names, others under `other`'),
  by_route: counts.describe('Routed requests by `requested -> provider:model`; 64 routes, others under `other`'),
  fell_back: int.describe('Requests answered by a fallback target'),
});

export const tokensSchema = z.object({
  input: int.describe('Input tokens sent upstream'),
  output: int,
  output_saved: int,
  output_reduction_percent: num,
  output_reduction: z.object({ available: z.boolean() }),
  saved: int.describe('Input tokens removed by compression'),
  proxy_compression_saved: int,
  cli_filtering_saved: int,
  rtk_saved: int,
  lean_ctx_saved: int,
  cli_tokens_avoided: int,
  proxy_total_before_compression: int,
  total_before_compression: int,
  all_layers_saved: int,
  proxy_attempted_tokens: int,
  active_savings_percent: num,
  proxy_savings_percent: num,
  savings_percent: num.describe('Whole wire: saved / (input + saved) x 100'),
  all_layers_savings_percent: num,
  new_input_tokens: int,
  new_input_saved_tokens: int,
  new_input_savings_percent: num.nullable(),
  retrieved_tokens: int,
  cache_read_tokens: int,
  cache_write_tokens: int,
  savings_bases: z.object({ whole_wire: savingsBasisSchema, new_input: savingsBasisSchema, attempted: savingsBasisSchema }),
});

const ttlBucketSchema = z.object({ tokens: int, requests: int });

export const cacheFiguresSchema = z.object({
  cache_read_tokens: int,
  cache_write_tokens: int,
  cache_write_5m_tokens: int,
  cache_write_1h_tokens: int,
  cache_write_5m_requests: int,
  cache_write_1h_requests: int,
  uncached_input_tokens: int,
  requests: int,
  hit_requests: int,
  hit_rate: num.describe('Read tokens / all input tokens, percent'),
  request_hit_rate: num.describe('Requests that read the cache, percent'),
  bust_count: int,
  bust_write_tokens: int,
  savings_usd: num,
  write_premium_usd: num,
  net_savings_usd: num,
  observed_ttl_buckets: z.object({ '5m': ttlBucketSchema, '1h': ttlBucketSchema }),
  observed_ttl_mix: z.object({ '5m_pct': num, '1h_pct': num, active_buckets: z.array(str) }).optional().describe('Present once a cache write was seen (always in `totals`)'),
});

export const providerCacheSchema = cacheFiguresSchema.extend({
  read_discount: str,
  write_premium: str,
  label: str,
});

export const missCountsSchema = z.object({ ttl_expiry: int, prefix_change: int, unknown: int, total: int });

export const prefixCacheSchema = z.object({
  by_provider: z.record(z.string(), providerCacheSchema),
  totals: cacheFiguresSchema,
  miss_attribution: z.object({
    totals: missCountsSchema.extend({ ttl_expiry_pct: num, prefix_change_pct: num }),
    by_provider: z.record(z.string(), missCountsSchema),
  }),
  prefix_freeze: z.unknown().describe('Filled by the compression capability'),
  compression_vs_cache: z.object({ tokens_saved_by_compression: int, tokens_lost_to_cache_bust: int, cache_bust_count: int, net_tokens: int }),
  attribution: str,
});

export const savingsBreakdownSchema = z.object({ compression_usd: num, retrieval_rounds_usd: num, cache_bust_usd: num, net_usd: num });

export const modelCostSchema = z.object({
  requests: int,
  tokens_saved: int,
  tokens_sent: int,
  cache_write_5m_tokens: int,
  cache_write_1h_tokens: int,
  reduction_pct: num,
  provider: str,
  priced_as: str.nullable().describe('Model name the price data matched'),
  price_fallback: z.boolean().describe('Priced at the provider fallback rates (unknown model)'),
  input_cost_usd: num,
  output_cost_usd: num,
  compression_savings_usd: num,
  savings_breakdown: savingsBreakdownSchema,
});

export const costSchema = z.object({
  scope: z.literal('process'),
  total_tokens_saved: int,
  total_input_tokens: int,
  total_input_cost_usd: num,
  cache_write_5m_tokens: int,
  cache_write_1h_tokens: int,
  per_model: z.record(z.string(), modelCostSchema),
  cost_with_headroom_usd: num,
  cost_without_headroom_usd: num,
  savings_usd: num,
  budget_limit_usd: num.nullable().describe('`--budget`, null when unset'),
  budget_period: str.nullable().describe('`--budget-period` when a budget is set'),
  compression_savings_usd: num,
  cache_savings_usd: num,
  output_cost_usd: num,
  total_cost_usd: num,
  total_savings_usd: num,
  total_cost_without_headroom_usd: num,
  savings_breakdown: savingsBreakdownSchema,
  price_fallback_models: z.array(str),
  cli_tokens_avoided: int,
  cli_filtering_tokens_avoided: int,
  cli_tokens_included_in_compression: z.boolean(),
  cli_filtering_tokens_included_in_compression: z.boolean(),
});

export const storageHealthSchema = z.object({
  backend: str.describe('`sqlite` or `memory`'),
  stateless: z.boolean(),
  pending_events: int,
  last_flush_at: isoOrNull,
  last_error: str.nullable(),
  dropped_events: int,
  moved_aside: str.nullable(),
  imported_from: str.nullable(),
});

export const persistentSavingsSchema = z.object({
  schema_version: z.literal(3),
  storage_path: str.nullable(),
  lifetime: totalsSchema,
  display_session: sessionTotalsSchema,
  display_session_policy: sessionPolicySchema,
  history_points: int,
  recent_history: z.array(historyPointSchema),
  retention: retentionSchema,
  projects: z.record(z.string(), projectTotalsSchema),
  projects_limit: int,
  storage: storageHealthSchema,
});

export const inboundSchema = z.object({
  total: int.describe('HTTP requests received (any path)'),
  completed: int,
  active: int,
  by_method: counts,
  by_path: counts,
  by_status: counts,
});

/** One finished request (`/stats.request_logs`, the `--log-file` line without bodies). */
export const requestLogSchema = z.object({
  request_id: str,
  timestamp: str.describe('Local time, microseconds, no offset (Headroom\'s format)'),
  timestamp_utc: str.optional().describe('The same instant in UTC (`Z`), for clients in another time zone (`/stats.request_logs`; not in the `--log-file` line)'),
  provider: str,
  model: str.nullable(),
  input_tokens_original: int,
  input_tokens_optimized: int,
  output_tokens: int,
  tokens_saved: int,
  savings_percent: num,
  optimization_latency_ms: num,
  total_latency_ms: num,
  tags: z.record(z.string(), z.string()),
  cache_hit: z.boolean(),
  transforms_applied: z.array(str),
  waste_signals: counts.nullable(),
  error: str.nullable(),
  turn_id: str.nullable(),
  kind: str.describe('`proxy`, `compress` or `hook`'),
  api: str,
  status: int,
  stream: z.boolean(),
  ttfb_ms: num.nullable(),
  cache_read_tokens: int,
  cache_write_tokens: int,
  input_cost_usd: num,
  output_cost_usd: num,
  compression_savings_usd: num,
  price_fallback: z.boolean(),
  stack: str.nullable(),
  project: str.nullable(),
  upstream_ms: num.nullable(),
  upstream_attempts: int,
  stage_timings_ms: counts,
  transform_timings_ms: counts,
});

export const recentRequestSchema = requestLogSchema.pick({
  request_id: true, timestamp: true, provider: true, model: true, input_tokens_original: true, input_tokens_optimized: true,
  output_tokens: true, tokens_saved: true, savings_percent: true, optimization_latency_ms: true, total_latency_ms: true,
  transforms_applied: true, waste_signals: true,
});

const fallbackRateSchema = z.object({ input: num, output: num, cacheRead: num, cacheWrite5m: num, cacheWrite1h: num });

/** The routing capability's section: the registry in use, its circuit breakers and attempts since start or reset. */
export const routingSectionSchema = z.object({
  file: str.nullable().describe('The routing file read (null: only the default providers)'),
  providers: z.array(str),
  aliases: int,
  patterns: int.describe('Wildcard aliases (`claude-*`)'),
  fallbacks: int.describe('Models with a fallback list'),
  breakers: z.record(z.string(), z.object({
    state: z.enum(['closed', 'open', 'half-open']),
    consecutive_failures: int,
    retry_at: isoOrNull.describe('When an open breaker lets its next probe through'),
    opened: int.describe('Times it opened'),
  })).describe('Per provider that was tried'),
  attempts: z.record(z.string(), z.object({ ok: int, failed: int, skipped: int })).describe('Attempts per provider (32 names, others under `other`): answered below 400 or with a 4xx passed on, failed (connect, timeout, 429, 5xx), skipped by an open breaker'),
});

/** A section another capability fills in (its own shape), with a default when none did. */
const section = (owner: string) => z.unknown().describe(`Filled by ${owner}; a default shape when it is not installed`);

/** `GET /stats`. Keys in the order served (Headroom's order, headroom-ts additions after). */
export const statsSchema = z.object({
  summary: z.object({
    mode: z.enum(['token', 'cache']).describe('`--mode` as configured (Headroom aliases resolved)'),
    api_requests: int,
    primary_model: str,
    compression: compressionSummarySchema,
    uncompressed_requests: counts.describe('Requests not compressed, by reason (only reasons seen)'),
    cost: summaryCostSchema,
    mcp: section('the MCP capability'),
  }),
  agent_usage: agentUsageSchema,
  savings: z.object({
    total_tokens: int,
    per_project: z.record(z.string(), projectTotalsSchema).describe('Lifetime, per `x-headroom-project`'),
    by_layer: z.object({
      cli_filtering: z.object({
        tool: z.null(), label: z.null(), tokens: int, tokens_saved: int, session: int, lifetime: int,
        session_savings_pct: num, lifetime_savings_pct: num, refresh_interval_seconds: z.null(), included_in: str, description: str,
      }),
      compression: z.object({
        tokens: int, proxy_tokens: int, cli_filtering_tokens: int, rtk_tokens: int, lean_ctx_tokens: int, all_layers_tokens: int, description: str,
      }),
      prefix_cache: z.object({ discount_usd: num, description: str }),
      output_shaping: z.object({ available: z.boolean() }),
    }),
  }),
  requests: requestsSchema,
  tokens: tokensSchema,
  latency: latencySchema.describe('Whole request, proxy in to client out'),
  overhead: timingSchema.describe('Time the proxy added (total minus upstream)'),
  ttfb: timingSchema.describe('Time to the first response byte (streams)'),
  pipeline_timing: z.record(z.string(), keyedTimingSchema).describe('Per compression transform'),
  stage_timing: z.record(z.string(), z.record(z.string(), keyedTimingSchema)).describe('Per route path, per stage'),
  compressions_by_strategy: counts,
  tokens_saved_by_strategy: counts,
  codex_ws: section('the Codex websocket capability'),
  waste_signals: counts,
  router: section('the routing capability'),
  savings_history: z.array(z.tuple([str, num])).describe('[local time, cumulative tokens saved], newest 100'),
  display_session: sessionTotalsSchema,
  litellm_available: z.boolean().describe('Model prices are loaded (bundled price data)'),
  persistent_savings: persistentSavingsSchema,
  prefix_cache: prefixCacheSchema,
  cost: costSchema,
  compression: section('the CCR capability'),
  compression_cache: section('the compression capability; else `{mode}`'),
  anon_telemetry_shipping: z.literal(false),
  telemetry: section('the telemetry capability'),
  otel: section('the OpenTelemetry capability'),
  langfuse: section('the OpenTelemetry capability (Langfuse export)'),
  feedback_loop: section('the feedback capability'),
  toin: section('the TOIN capability'),
  context_tool: section('a CLI context tool'),
  cli_filtering: section('a CLI context tool'),
  proxy_inbound: inboundSchema,
  cache: section('the controls capability (response cache)'),
  rate_limiter: section('the controls capability (rate limits)'),
  request_logs: z.array(requestLogSchema).describe('Newest 10; strict loopback callers only (empty in `?cached=1` snapshots before the fresh parts are added)'),
  recent_requests: z.array(recentRequestSchema).describe('Newest 10 requests that had input tokens; strict loopback callers only'),
  log_full_messages: z.boolean(),
  throughput: section('a throughput tracker'),
  pricing: z.object({
    source: str,
    fallback_models: z.array(str),
    fallback_rates_usd_per_mtok: z.record(z.string(), fallbackRateSchema),
    note: str,
  }),
  dollar_figures: z.object({
    source: str,
    savings_formula: str,
    scopes: z.record(z.string(), z.string()),
    process_started_at: isoOrNull,
    counters_reset_at: isoOrNull,
  }),
  routing: routingSectionSchema.optional().describe('The provider registry in use and its health (present when the routing capability is installed)'),
});

/** The keys only strict-loopback callers get (removed for everyone else). */
export const loopbackPartsSchema = z.object({
  request_logs: statsSchema.shape.request_logs,
  recent_requests: statsSchema.shape.recent_requests,
  config: z.record(z.string(), z.unknown()).describe('Dashboard settings (Headroom keys)'),
});

/** `GET /stats` as a non-loopback caller sees it. */
export const remoteStatsSchema = statsSchema.omit({ request_logs: true, recent_requests: true });

// ---------------------------------------------------------------------------------------------
// /stats-history
// ---------------------------------------------------------------------------------------------

export const periodSchema = z.enum(['hourly', 'daily', 'weekly', 'monthly']);

export const deltaSchema = z.object({
  tokens_saved: int,
  compression_savings_usd_delta: num,
  total_input_tokens_delta: int,
  total_input_cost_usd_delta: num,
  requests: int,
});

export const bucketSchema = z.object({
  timestamp: str.describe('Bucket start, UTC'),
  tokens_saved: int,
  compression_savings_usd_delta: num,
  total_tokens_saved: int.describe('Cumulative at the bucket end'),
  compression_savings_usd: num,
  total_input_tokens_delta: int,
  total_input_tokens: int,
  total_input_cost_usd_delta: num,
  total_input_cost_usd: num,
  requests: int,
  by_provider: z.record(z.string(), deltaSchema).describe('The 32 providers with the most tokens saved; others under `(other)`'),
  by_model: z.record(z.string(), deltaSchema).describe('The 32 models with the most tokens saved; others under `(other)`'),
});

export const historyModeSchema = z.enum(['compact', 'full', 'none']);

/** What one session, user, `(other)` or the unattributed requests spent (docs/attribution.md). */
export const attributionFiguresSchema = z.object({
  requests: int,
  input_tokens: int,
  output_tokens: int,
  tokens_saved: int,
  input_cost_usd: num,
  output_cost_usd: num,
  spend_usd: num.describe('input_cost_usd + output_cost_usd'),
  saved_usd: num.describe('Net compression savings, as `/stats` cost.total_savings_usd'),
  first_seen_at: str.nullable(),
  last_seen_at: str.nullable(),
});

export const attributionTableSchema = z.object({
  distinct: int.describe('Ids seen (before the cap)'),
  rows: z.array(attributionFiguresSchema.extend({ id: str.describe('First 12 hex of the SHA-256 of the id, or `(other)`') })).describe('At most 32 rows, the rest under `(other)`'),
  unattributed: attributionFiguresSchema,
  total: attributionFiguresSchema.describe('rows + unattributed'),
});

/** `/stats.attribution` (this process) and `/stats-history.attribution` (the store's range). */
export const attributionSchema = z.object({
  scope: str,
  range: z.object({ from: str.nullable(), to: str.nullable() }).optional().describe('`/stats-history` only'),
  sources: z.object({ session: str, user: str, id_hash: str, figures: str, limit: str }),
  sessions: attributionTableSchema,
  users: attributionTableSchema,
});

/** `GET /stats-history` (JSON). */
export const statsHistorySchema = z.object({
  schema_version: z.literal(3),
  generated_at: str,
  storage_path: str.nullable(),
  lifetime: totalsSchema,
  display_session: sessionTotalsSchema,
  display_session_policy: sessionPolicySchema,
  history: z.array(historyPointSchema).describe('Cumulative points, oldest first (compacted unless `history_mode=full`)'),
  series: z.object({ hourly: z.array(bucketSchema), daily: z.array(bucketSchema), weekly: z.array(bucketSchema), monthly: z.array(bucketSchema) }),
  exports: z.object({ default_format: z.literal('json'), available_formats: z.array(str), available_series: z.array(str) }),
  retention: retentionSchema,
  projects: z.record(z.string(), projectTotalsSchema),
  history_summary: z.object({ mode: historyModeSchema, stored_points: int, returned_points: int, compacted: z.boolean() }),
  cli_filtering: z.null(),
  attribution: attributionSchema.describe('Per hashed session and per hashed user over the retained range (docs/attribution.md)'),
});

/** One row of `GET /stats-history?report=spend`: a bucket, provider and model. */
export const spendRowSchema = z.object({
  timestamp: str.describe('Bucket start, UTC'),
  provider: str,
  model: str.describe('The 32 models kept by name in the savings series; others under `(other)`'),
  requests: int,
  input_tokens: int,
  output_tokens: int,
  input_cost_usd: num,
  output_cost_usd: num,
  total_cost_usd: num,
  tokens_saved: int,
  savings_usd: num,
});

/** `GET /stats-history?report=spend&series=<period>` (JSON). */
export const spendReportSchema = z.object({
  report: z.literal('spend'),
  series: periodSchema,
  generated_at: str,
  rows: z.array(spendRowSchema).describe('Oldest bucket first, then by spend'),
});

export type Totals = z.infer<typeof totalsSchema>;
export type SessionTotals = z.infer<typeof sessionTotalsSchema>;
export type ProjectTotals = z.infer<typeof projectTotalsSchema>;
export type Retention = z.infer<typeof retentionSchema>;
export type HistoryPoint = z.infer<typeof historyPointSchema>;
export type Timing = z.infer<typeof timingSchema>;
export type KeyedTiming = z.infer<typeof keyedTimingSchema>;
export type SavingsBasis = z.infer<typeof savingsBasisSchema>;
export type Agent = z.infer<typeof agentSchema>;
export type AgentUsage = z.infer<typeof agentUsageSchema>;
export type CacheFigures = z.infer<typeof cacheFiguresSchema>;
export type ProviderCache = z.infer<typeof providerCacheSchema>;
export type MissCounts = z.infer<typeof missCountsSchema>;
export type PrefixCache = z.infer<typeof prefixCacheSchema>;
export type SavingsBreakdown = z.infer<typeof savingsBreakdownSchema>;
export type ModelCost = z.infer<typeof modelCostSchema>;
export type Cost = z.infer<typeof costSchema>;
export type StorageHealth = z.infer<typeof storageHealthSchema>;
export type Inbound = z.infer<typeof inboundSchema>;
export type RequestLog = z.infer<typeof requestLogSchema>;
export type RecentRequest = z.infer<typeof recentRequestSchema>;
export type Stats = z.infer<typeof statsSchema>;
export type RoutingSection = z.infer<typeof routingSectionSchema>;
export type LoopbackParts = z.infer<typeof loopbackPartsSchema>;
export type Period = z.infer<typeof periodSchema>;
export type Delta = z.infer<typeof deltaSchema>;
export type Bucket = z.infer<typeof bucketSchema>;
export type HistoryMode = z.infer<typeof historyModeSchema>;
export type StatsHistory = z.infer<typeof statsHistorySchema>;
export type AttributionFigures = z.infer<typeof attributionFiguresSchema>;
export type AttributionTable = z.infer<typeof attributionTableSchema>;
export type Attribution = z.infer<typeof attributionSchema>;
export type SpendRow = z.infer<typeof spendRowSchema>;
export type SpendReport = z.infer<typeof spendReportSchema>;
