/**
 * The parts of the proxy's responses the dashboard reads (field names exactly as served;
 * see docs/observability.md and docs/live.md). Anything else in the responses is ignored.
 */

export interface Timing {
  average_ms: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
  samples: number;
}

export interface SavingsBasis {
  percent: number | null;
  numerator: number;
  denominator: number;
  basis: string;
}

export interface TtlBuckets {
  '5m': { tokens: number; requests: number };
  '1h': { tokens: number; requests: number };
}

export interface CacheFigures {
  cache_read_tokens: number;
  cache_write_tokens: number;
  cache_write_5m_tokens: number;
  cache_write_1h_tokens: number;
  uncached_input_tokens: number;
  requests: number;
  hit_requests: number;
  hit_rate: number;
  request_hit_rate: number;
  bust_count: number;
  bust_write_tokens: number;
  savings_usd: number;
  write_premium_usd: number;
  net_savings_usd: number;
  label?: string;
  observed_ttl_buckets: TtlBuckets;
  observed_ttl_mix?: { '5m_pct': number; '1h_pct': number; active_buckets: string[] };
}

export interface MissCounts {
  ttl_expiry: number;
  prefix_change: number;
  unknown: number;
  total: number;
}

export interface ModelCost {
  requests: number;
  tokens_saved: number;
  tokens_sent: number;
  reduction_pct: number;
  provider: string;
  price_fallback: boolean;
  input_cost_usd: number;
  output_cost_usd: number;
  compression_savings_usd: number;
}

export interface LifetimeTotals {
  requests: number;
  tokens_saved: number;
  compression_savings_usd: number;
  total_input_tokens: number;
  total_input_cost_usd: number;
  total_output_tokens: number;
  total_output_cost_usd: number;
  /** Whole wire: saved / (input sent + saved). */
  savings_percent: number;
}

export interface SessionTotals extends LifetimeTotals {
  started_at: string | null;
  last_activity_at: string | null;
}

export interface ProjectTotals extends LifetimeTotals {
  savings_percent: number;
  last_activity_at: string | null;
}

export interface RequestLog {
  request_id: string;
  /** The server's local time, without an offset. */
  timestamp: string;
  /** The same instant in UTC (`Z`). */
  timestamp_utc?: string;
  provider: string;
  model: string | null;
  input_tokens_original: number;
  input_tokens_optimized: number;
  output_tokens: number;
  tokens_saved: number;
  savings_percent: number;
  optimization_latency_ms: number;
  total_latency_ms: number;
  cache_hit: boolean;
  transforms_applied: string[];
  error: string | null;
  kind: string;
  api: string;
  status: number;
  stream: boolean;
  ttfb_ms: number | null;
  upstream_ms?: number | null;
  transform_timings_ms?: Record<string, number>;
  stage_timings_ms?: Record<string, number>;
  cache_read_tokens: number;
  cache_write_tokens: number;
  input_cost_usd: number;
  output_cost_usd: number;
  compression_savings_usd: number;
  price_fallback: boolean;
  stack: string | null;
  project: string | null;
  tags: Record<string, string>;
}

export interface Agent {
  agent: string;
  label: string;
  requests: number;
  tokens_saved: number;
  savings_percent: number;
}

export interface Stats {
  summary: { cost: { scope: string; without_headroom_usd: number; with_headroom_usd: number; total_saved_usd: number; savings_pct: number } };
  agent_usage: { agents: Agent[] };
  savings: { per_project: Record<string, ProjectTotals> };
  requests: {
    total: number;
    cached: number;
    rate_limited: number;
    /** Headroom's count: the proxy got no answer from the upstream. */
    failed: number;
    /** Every unsuccessful request but client aborts, rate limits and budget refusals. */
    errors: number;
    aborted: number;
    by_provider: Record<string, number>;
    by_model: Record<string, number>;
    by_stack: Record<string, number>;
    by_kind: Record<string, number>;
  };
  tokens: {
    input: number;
    output: number;
    saved: number;
    cache_read_tokens: number;
    savings_bases: { whole_wire: SavingsBasis; new_input: SavingsBasis; attempted: SavingsBasis };
  };
  latency: Timing;
  overhead: Timing;
  ttfb: Timing;
  pipeline_timing: Record<string, { average_ms: number; max_ms: number; count: number }>;
  stage_timing: Record<string, Record<string, { average_ms: number; max_ms: number; count: number }>>;
  compressions_by_strategy: Record<string, number>;
  tokens_saved_by_strategy: Record<string, number>;
  persistent_savings: { lifetime: LifetimeTotals; display_session: SessionTotals; storage: { backend: string; stateless: boolean } };
  prefix_cache: {
    by_provider: Record<string, CacheFigures>;
    totals: CacheFigures;
    miss_attribution: { totals: MissCounts; by_provider: Record<string, MissCounts> };
    compression_vs_cache: { tokens_saved_by_compression: number; tokens_lost_to_cache_bust: number; cache_bust_count: number; net_tokens: number };
  };
  cost: {
    per_model: Record<string, ModelCost>;
    total_cost_usd: number;
    output_cost_usd: number;
    total_input_cost_usd: number;
    total_savings_usd: number;
    cost_with_headroom_usd: number;
    cost_without_headroom_usd: number;
    price_fallback_models: string[];
  };
  request_logs?: RequestLog[];
  dollar_figures: { process_started_at: string | null; counters_reset_at: string | null };
}

export interface Delta {
  tokens_saved: number;
  compression_savings_usd_delta: number;
  total_input_tokens_delta: number;
  requests: number;
}

export interface Bucket extends Delta {
  timestamp: string;
  by_model: Record<string, Delta>;
}

export type Period = 'hourly' | 'daily' | 'weekly' | 'monthly';

export interface StatsHistory {
  generated_at: string;
  lifetime: LifetimeTotals;
  display_session: SessionTotals;
  series: Record<Period, Bucket[]>;
  retention: { max_history_age_days: number; hourly_series_days: number };
  history_summary: { stored_points: number };
}

export interface HealthCheck {
  enabled: boolean;
  ready: boolean;
  status?: string;
  error?: string | null;
  degraded?: boolean;
}

export interface Health {
  status: string;
  version: string;
  uptime_seconds: number;
  checks: Record<string, HealthCheck>;
}

export interface ActiveRequest {
  request_id: string;
  kind: string;
  provider: string;
  api: string;
  model: string | null;
  is_streaming: boolean;
  start_time: number;
  ttfb_ms: number | null;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  tool_calls: number;
  tool_definitions: number;
  client: string | null;
  project: string | null;
}

export interface ActiveSnapshot {
  disabled: boolean;
  timestamp: number;
  active_total: number;
  truncated: boolean;
  active_requests: ActiveRequest[];
  completed?: { requests: number; errors: number };
}

export interface TotalsSection {
  requests: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  tokens_saved: number;
  active_requests: number;
  average_duration_ms: number;
}

export interface RunningTotals {
  disabled?: boolean;
  summary: {
    since: string;
    total_requests: number;
    completed_requests: number;
    active_requests: number;
    total_errors: number;
    error_rate: number;
    total_input_tokens: number;
    total_output_tokens: number;
    total_cache_read_tokens: number;
    total_cache_creation_tokens: number;
    total_tool_calls: number;
    total_tokens_saved: number;
    average_duration_ms: number;
    error_types: Record<string, number>;
  };
  providers: Record<string, { models: Record<string, { total: TotalsSection }> }>;
}

export interface Trace {
  seq: number;
  /** End time, epoch seconds. */
  ts: number;
  request_id: string;
  provider: string;
  model: string | null;
  path: string;
  is_streaming: boolean;
  status: string;
  http_status: number;
  error_type: string | null;
  error: string | null;
  duration_ms: number;
  ttfb_ms: number | null;
  input_tokens: number;
  output_tokens: number;
  tokens_saved: number;
}

export interface Logs {
  disabled: boolean;
  errors: Trace[];
  traces: Trace[];
}

/** `/stats-history?report=spend&series=<period>`: one row per bucket, provider and model. */
export interface SpendRow {
  timestamp: string;
  provider: string;
  model: string;
  requests: number;
  input_tokens: number;
  output_tokens: number;
  input_cost_usd: number;
  output_cost_usd: number;
  total_cost_usd: number;
  tokens_saved: number;
  savings_usd: number;
}

export interface SpendReport {
  report: 'spend';
  series: Period;
  generated_at: string;
  rows: SpendRow[];
}
