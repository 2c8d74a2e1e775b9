/**
 * The `GET /stats` document: Headroom's keys, nesting and order, built from the process
 * stats, the durable store and the sections other capabilities register on
 * `app.statsSections`; headroom-ts additions (percentiles, savings bases, pricing, dollar
 * scopes) are added next to Headroom's fields, never in place of them.
 */
import { FALLBACK_RATES, PRICE_SOURCE, priceFor } from '../../providers/pricing.js';
import type { App } from '../../core/app.js';
import { dashboardConfig } from '../../config/view.js';
import { recordWithoutBodies, requestRecord } from './request-record.js';
import { HOURLY_SERIES_DAYS, historyJson, MAX_RESPONSE_HISTORY_POINTS } from './history.js';
import { newInputPercent, SAVINGS_FORMULA, spendSavedPercent, wholeWirePercent } from '../../savings/savings.js';
import type { StatsService } from './service.js';
import type { ProjectTotals, SessionTotals, Totals } from './store/types.js';
import type * as Wire from './schema.js';
import { round1, round2, round4, round6 } from '../../util/round.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));
const sortedObj = (m: Map<string, number>) => Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)));

/** Keys of `/stats` that other capabilities fill in, with the value reported when none did. */
export const SECTION_DEFAULTS: Record<string, () => unknown> = {
  codex_ws: () => null,
  router: () => ({ route_counts: {} }),
  compression: () => ({ ccr_entries: 0, ccr_max_entries: 0, original_tokens_cached: 0, compressed_tokens_cached: 0, ccr_retrievals: 0 }),
  telemetry: () => ({ enabled: false, total_compressions: 0, total_retrievals: 0, global_retrieval_rate: 0, tool_signatures_tracked: 0, avg_compression_ratio: 0, avg_token_reduction: 0 }),
  otel: () => ({ configured: false, enabled: false, service_name: null, exporter: null, endpoint: null, resource_attributes: {} }),
  langfuse: () => ({ configured: false, enabled: false, service_name: null, base_url: null, endpoint: null }),
  feedback_loop: () => ({ tools_tracked: 0, total_compressions: 0, total_retrievals: 0, global_retrieval_rate: 0, tools_with_high_retrieval: 0 }),
  toin: () => ({ enabled: false, patterns_tracked: 0, total_compressions: 0, total_retrievals: 0, global_retrieval_rate: 0, patterns_with_recommendations: 0 }),
  context_tool: () => null,
  cli_filtering: () => null,
  cache: () => null,
  rate_limiter: () => null,
  throughput: () => null,
  'summary.mcp': () => ({ compressions: 0, tokens_removed: 0, retrievals: 0 }),
  'prefix_cache.prefix_freeze': () => ({ busts_avoided: 0, tokens_preserved: 0, compression_foregone_tokens: 0, net_benefit_tokens: 0 }),
};

/** Optional Headroom keys spread in only when a capability provides them. */
const OPTIONAL_SECTIONS = ['subscription_window', 'codex_rate_limits', 'copilot_quota'];

function optionalSections(app: App): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of OPTIONAL_SECTIONS) if (app.statsSections.has(key)) out[key] = section(app, key);
  return out;
}

function section(app: App, key: string): unknown {
  const fn = app.statsSections.get(key);
  if (!fn) return SECTION_DEFAULTS[key]?.() ?? null;
  try {
    return fn();
  } catch (err) {
    return { error: (err as Error).message };
  }
}

export function totalsJson(t: Totals): Wire.Totals {
  return {
    requests: t.requests,
    tokens_saved: t.tokensSaved,
    compression_savings_usd: round6(t.savingsUsd),
    total_input_tokens: t.inputTokens,
    total_input_cost_usd: round6(t.inputCostUsd),
    total_output_tokens: t.outputTokens,
    total_output_cost_usd: round6(t.outputCostUsd),
    savings_percent: wholeWirePercent(t.tokensSaved, t.inputTokens),
  };
}

export function sessionJson(s: SessionTotals): Wire.SessionTotals {
  return {
    ...totalsJson(s),
    savings_percent: wholeWirePercent(s.tokensSaved, s.inputTokens),
    started_at: iso(s.startedAt),
    last_activity_at: iso(s.lastActivityAt),
  };
}

export function projectsJson(projects: Record<string, ProjectTotals>): Record<string, Wire.ProjectTotals> {
  const out: Record<string, Wire.ProjectTotals> = {};
  for (const [name, p] of Object.entries(projects)) {
    out[name] = { ...totalsJson(p), last_activity_at: iso(p.lastActivityAt), savings_percent: wholeWirePercent(p.tokensSaved, p.inputTokens) };
  }
  return out;
}

export const SESSION_POLICY = { rollover_inactivity_minutes: 60 };

function retentionJson(svc: StatsService): Wire.Retention {
  return {
    max_history_points: svc.store.limits.maxHistoryPoints,
    max_history_age_days: Math.round(svc.store.limits.retentionMs / 86_400_000),
    max_response_history_points: MAX_RESPONSE_HISTORY_POINTS,
    hourly_series_days: HOURLY_SERIES_DAYS,
  };
}

export { retentionJson };

function timingBlock(s: StatsService['process']['latency']): Wire.Timing {
  return s.summary();
}

function recentRequests(svc: StatsService): Wire.RecentRequest[] {
  return svc.process
    .recentOutcomes(100)
    .map((o) => requestRecord(o, { withMessages: false }).record)
    .filter((r) => r.input_tokens_original > 0)
    .slice(-10)
    .map((r) => ({
      request_id: r.request_id, timestamp: r.timestamp, provider: r.provider, model: r.model,
      input_tokens_original: r.input_tokens_original, input_tokens_optimized: r.input_tokens_optimized, output_tokens: r.output_tokens,
      tokens_saved: r.tokens_saved, savings_percent: r.savings_percent, optimization_latency_ms: r.optimization_latency_ms,
      total_latency_ms: r.total_latency_ms, transforms_applied: r.transforms_applied, waste_signals: r.waste_signals,
    }));
}

/** The loopback-only parts, always built fresh. */
export function loopbackParts(app: App, svc: StatsService): Wire.LoopbackParts {
  return {
    // `timestamp` is the server's local time without an offset (as Headroom writes it); `timestamp_utc` is the same instant, for readers elsewhere
    request_logs: svc.process.recentOutcomes(10).map((o) => ({ ...recordWithoutBodies(requestRecord(o, { withMessages: false }).record), timestamp_utc: new Date(o.endedAt).toISOString() })),
    recent_requests: recentRequests(svc),
    config: dashboardConfig(app.config),
  };
}

/** `/stats` (typed by its schema), plus the keys of sections no schema knows (added by capabilities). */
export type StatsDocument = Wire.Stats & Record<string, unknown>;

export async function buildStats(app: App, svc: StatsService): Promise<StatsDocument> {
  const p = svc.process;
  const store = svc.store;
  await store.flush();
  const now = Date.now();
  const [lifetime, session, projects, hist] = await Promise.all([store.lifetime(), store.session(now), store.projects(), store.history(20)]);
  const sessionView = sessionJson(session);
  const projectsView = projectsJson(projects);

  const I = p.inputTokens;
  const P = p.tokensSaved;
  const A = p.attemptedTokens;
  const costTotals = p.cost.totals();
  const cacheNet = p.prefixCache.netSavingsUsd();
  const withUsd = costTotals.inputCostUsd;
  const withoutUsd = withUsd + costTotals.compressionSavingsUsd;
  const newInputPct = newInputPercent(p.savedWithNewInput, p.newInputTokens);
  const pipeline: Record<string, Wire.KeyedTiming> = {};
  for (const [name, t] of [...p.transforms.byKey].sort(([a], [b]) => a.localeCompare(b))) {
    pipeline[name] = { average_ms: round2(t.sum / t.count), max_ms: round2(t.max), count: t.count };
  }
  const stageTiming: Record<string, Record<string, Wire.KeyedTiming>> = {};
  for (const [key, t] of [...p.stages.byKey].sort(([a], [b]) => a.localeCompare(b))) {
    const [path = '', stage = ''] = key.split('\u0000');
    (stageTiming[path] ??= {})[stage] = { average_ms: round2(t.sum / t.count), max_ms: round2(t.max), count: t.count };
  }
  const uncompressed: Record<string, number> = {};
  for (const k of ['prefix_frozen', 'too_small', 'passthrough', 'no_compressible_content'] as const) {
    const n = p.uncompressed.get(k) ?? 0;
    if (n > 0) uncompressed[k] = n;
  }

  const out: StatsDocument = {
    summary: {
      mode: app.config.mode,
      api_requests: p.apiRequests,
      primary_model: p.primaryModel(),
      compression: {
        requests_compressed: p.requestsCompressed,
        avg_compression_pct: p.requestsCompressed ? round1((p.compressionPctSum / p.requestsCompressed)) : 0,
        best_compression_pct: round1(p.bestCompressionPct),
        best_detail: p.bestDetail,
        total_tokens_removed: P,
        cli_filtering_tokens_avoided: 0,
        total_tokens_saved_with_cli_filtering: P,
        total_tokens_before_with_cli_filtering: I + P,
        rtk_tokens_avoided: 0,
        total_tokens_saved_with_rtk: P,
        total_tokens_before_with_rtk: I + P,
      },
      uncompressed_requests: uncompressed,
      cost: {
        scope: 'process',
        without_headroom_usd: round4(withoutUsd),
        with_headroom_usd: round4(withUsd),
        total_saved_usd: round4(costTotals.compressionSavingsUsd),
        savings_pct: spendSavedPercent(costTotals.compressionSavingsUsd, withUsd),
        savings_pct_basis: 'total_saved_usd / without_headroom_usd (input spend + net saving); 0 when compression cost more than it saved',
        breakdown: {
          cache_savings_usd: round4(cacheNet),
          compression_savings_usd: round4(costTotals.compressionSavingsUsd),
          compression_gross_usd: round4(costTotals.grossSavingsUsd),
          retrieval_rounds_usd: round4(costTotals.retrievalUsd),
          cache_bust_usd: round4(costTotals.cacheBustUsd),
          cli_filtering_savings_usd: null,
          cli_filtering_savings_note: 'No CLI context tool is configured; CLI-filtered tokens never get a dollar value.',
          rtk_savings_usd: null,
          rtk_savings_note: 'No CLI context tool is configured; CLI-filtered tokens never get a dollar value.',
          note: 'total_saved_usd is what compression saved on the bill, net of retrieval rounds and compression-caused cache busts (compression_gross_usd - retrieval_rounds_usd - cache_bust_usd); provider prompt-cache savings (cache_savings_usd) happen with or without headroom-ts and are reported separately.',
        },
      },
      mcp: section(app, 'summary.mcp'),
    },
    agent_usage: p.agents.payload(),
    savings: {
      total_tokens: P,
      per_project: projectsView,
      by_layer: {
        cli_filtering: {
          tool: null, label: null, tokens: 0, tokens_saved: 0, session: 0, lifetime: 0, session_savings_pct: 0, lifetime_savings_pct: 0,
          refresh_interval_seconds: null, included_in: 'tokens.saved', description: 'No CLI context tool (RTK, lean-ctx) is configured.',
        },
        compression: {
          tokens: P, proxy_tokens: P, cli_filtering_tokens: 0, rtk_tokens: 0, lean_ctx_tokens: 0, all_layers_tokens: P,
          description: 'Input tokens removed by headroom-ts compression (proxied requests, /v1/compress and hook calls).',
        },
        prefix_cache: { discount_usd: round4(cacheNet), description: 'Provider prompt-cache read savings minus cache-write premiums, at real model prices (process scope).' },
        output_shaping: { available: false },
      },
    },
    requests: {
      total: p.total,
      cached: p.cached,
      rate_limited: p.rateLimited,
      failed: p.failed,
      errors: p.errors,
      by_provider: sortedObj(p.byProvider),
      by_model: sortedObj(p.byModel),
      by_stack: sortedObj(p.byStack),
      by_kind: sortedObj(p.byKind),
      aborted: p.aborted,
      by_routed_provider: sortedObj(p.byRoutedProvider),
      by_requested_model: sortedObj(p.byRequestedModel),
      by_route: sortedObj(p.byRoute),
      fell_back: p.fellBack,
    },
    tokens: {
      input: I,
      output: p.outputTokens,
      output_saved: 0,
      output_reduction_percent: 0,
      output_reduction: { available: false },
      saved: P,
      proxy_compression_saved: P,
      cli_filtering_saved: 0,
      rtk_saved: 0,
      lean_ctx_saved: 0,
      cli_tokens_avoided: 0,
      proxy_total_before_compression: I + P,
      total_before_compression: I + P,
      all_layers_saved: P,
      proxy_attempted_tokens: A,
      active_savings_percent: A > 0 ? round2((P / A) * 100) : 0,
      proxy_savings_percent: wholeWirePercent(P, I),
      savings_percent: wholeWirePercent(P, I),
      all_layers_savings_percent: wholeWirePercent(P, I),
      new_input_tokens: p.newInputTokens,
      new_input_saved_tokens: p.savedWithNewInput,
      new_input_savings_percent: newInputPct,
      retrieved_tokens: p.retrievedTokens,
      cache_read_tokens: p.cacheReadTokens,
      cache_write_tokens: p.cacheWriteTokens,
      savings_bases: {
        whole_wire: {
          percent: wholeWirePercent(P, I), numerator: P, denominator: I + P,
          basis: 'tokens saved / (input tokens sent + tokens saved): the share of everything that would have been sent',
        },
        new_input: {
          percent: newInputPct,
          numerator: p.savedWithNewInput, denominator: p.newInputTokens,
          basis: 'tokens saved by compressing content first seen this turn / tokens of that content as sent (replayed history is not new input; requests whose compressor reported new input; null when none did)',
        },
        attempted: {
          percent: A > 0 ? round2((P / A) * 100) : 0, numerator: P, denominator: A,
          basis: 'tokens saved / tokens compression was attempted on (excludes passthrough routes)',
        },
      },
    },
    latency: { ...timingBlock(p.latency), total_requests: p.latency.count },
    overhead: timingBlock(p.overhead),
    ttfb: timingBlock(p.ttfb),
    pipeline_timing: pipeline,
    stage_timing: stageTiming,
    compressions_by_strategy: sortedObj(p.compressionsByStrategy),
    tokens_saved_by_strategy: sortedObj(p.tokensSavedByStrategy),
    codex_ws: section(app, 'codex_ws'),
    waste_signals: sortedObj(p.wasteSignals),
    router: section(app, 'router'),
    savings_history: p.savingsHistory(100),
    display_session: sessionView,
    litellm_available: priceDataAvailable(),
    persistent_savings: {
      schema_version: 3,
      storage_path: store.location,
      lifetime: totalsJson(lifetime),
      display_session: sessionView,
      display_session_policy: SESSION_POLICY,
      history_points: hist.stored,
      recent_history: hist.points.map(historyJson),
      retention: retentionJson(svc),
      projects: projectsView,
      projects_limit: store.limits.maxProjects,
      storage: { backend: store.backend, stateless: app.config.stateless, ...healthView(svc) },
    },
    prefix_cache: p.prefixCache.payload(section(app, 'prefix_cache.prefix_freeze')),
    cost: p.cost.payload(cacheNet, budgetOf(app)),
    compression: section(app, 'compression'),
    compression_cache: app.statsSections.has('compression_cache') ? section(app, 'compression_cache') : { mode: app.config.mode },
    anon_telemetry_shipping: false,
    telemetry: section(app, 'telemetry'),
    otel: section(app, 'otel'),
    langfuse: section(app, 'langfuse'),
    feedback_loop: section(app, 'feedback_loop'),
    toin: section(app, 'toin'),
    context_tool: section(app, 'context_tool'),
    cli_filtering: section(app, 'cli_filtering'),
    proxy_inbound: svc.inbound.payload(),
    cache: section(app, 'cache'),
    rate_limiter: section(app, 'rate_limiter'),
    request_logs: [],
    recent_requests: [],
    log_full_messages: app.config.logMessages,
    ...optionalSections(app),
    throughput: section(app, 'throughput'),
    pricing: {
      source: PRICE_SOURCE,
      fallback_models: p.cost.fallbackModels(),
      fallback_rates_usd_per_mtok: FALLBACK_RATES,
      note: 'Models unknown to the price data are priced at their provider\'s fallback rates and listed in fallback_models (never $0).',
    },
    dollar_figures: {
      source: 'Every dollar figure is priced once per request (providers/pricing.ts, savings/savings.ts).',
      savings_formula: SAVINGS_FORMULA,
      scopes: {
        cost: 'process: since start or the last POST /stats/reset',
        'summary.cost': 'process',
        'prefix_cache.*_usd': 'process',
        'savings.by_layer.prefix_cache': 'process',
        'persistent_savings.lifetime': 'lifetime: the durable store, all processes sharing it',
        'persistent_savings.display_session': 'session: durable; a new session starts after 60 minutes without requests',
        'persistent_savings.projects': 'lifetime, per project',
      },
      process_started_at: iso(app.startedAt),
      counters_reset_at: iso(p.resetAt),
    },
  };
  const known = new Set([...Object.keys(out), ...Object.keys(SECTION_DEFAULTS), 'config']);
  for (const [key] of app.statsSections) if (!known.has(key)) out[key] = section(app, key);
  return out;
}

/**
 * Headroom's `litellm_available`: whether model price tables are loaded (false there means
 * every dollar figure is 0). headroom-ts prices from the bundled genai-prices data, not LiteLLM;
 * the flag is true when that data resolves a well-known model to its own price.
 */
export function priceDataAvailable(): boolean {
  try {
    return !priceFor('anthropic', 'claude-sonnet-4-5-20250929').fallback;
  } catch {
    return false;
  }
}

function healthView(svc: StatsService): Omit<Wire.StorageHealth, 'backend' | 'stateless'> {
  const h = svc.store.health();
  return {
    pending_events: h.pending,
    last_flush_at: iso(h.lastFlushAt),
    last_error: h.lastError,
    dropped_events: h.dropped,
    moved_aside: h.movedAside,
    imported_from: h.importedFrom,
  };
}

function budgetOf(app: App): { limit: number | null; period: string | null } {
  const limit = app.config.budget;
  return { limit, period: limit === null ? null : app.config.budgetPeriod };
}
