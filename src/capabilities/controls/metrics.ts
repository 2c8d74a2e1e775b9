/**
 * Prometheus families of the controls, read from their state at scrape time: the global
 * budget (limit, spent, remaining, reserved, period end), refusals by scope and by limit,
 * and the response cache. Per-key and per-project figures stay in `/stats` (unbounded label
 * values never become series).
 */
import { Gauge } from 'prom-client';
import type { MetricsService } from '../metrics/api.js';
import type { BudgetControl } from './budget/control.js';
import type { ResponseCacheStage } from './cache/stage.js';
import type { RateLimiter } from './rate-limit/limiter.js';

export function registerControlMetrics(
  metrics: MetricsService,
  parts: { budget: BudgetControl | null; limiter: RateLimiter | null; cache: ResponseCacheStage | null },
): void {
  const registers = [metrics.registry];
  const { budget, limiter, cache } = parts;
  if (budget) {
    const globalState = () => budget.ledger.read({ scope: 'global', limit: budget.opts.config.budget }, budget.window());
    const limit = budget.opts.config.budget;
    if (limit !== null) {
      new Gauge({ name: 'headroom_budget_limit_usd', help: 'Global spend limit per budget period in USD', registers, collect() { this.set(limit); } });
      new Gauge({ name: 'headroom_budget_remaining_usd', help: 'Global budget left in the current period in USD (limit - spent - reserved)', registers, collect() { this.set(globalState().remaining ?? 0); } });
    }
    new Gauge({ name: 'headroom_budget_spent_usd', help: 'Spend in the current budget period in USD (all processes sharing the store)', registers, collect() { this.set(globalState().spent); } });
    new Gauge({ name: 'headroom_budget_reserved_usd', help: 'USD reserved by requests in flight in this process', registers, collect() { this.set(globalState().inflight); } });
    new Gauge({ name: 'headroom_budget_period_end_timestamp_seconds', help: 'When the current budget period ends (Unix seconds)', registers, collect() { this.set(budget.window().end / 1000); } });
    metrics.readFamily('headroom_budget_rejected_requests_total', 'Requests refused by a budget, by scope (global, key, project)', 'counter',
      () => (['global', 'key', 'project'] as const).map((scope) => ({ labels: { scope }, value: budget.rejected[scope] })));
  }
  if (limiter) {
    metrics.readFamily('headroom_rate_limit_rejected_requests_total', 'Requests refused by the rate limiter, by the limit that refused (requests, tokens)', 'counter',
      () => [{ labels: { limit: 'requests' }, value: limiter.rejected.requests }, { labels: { limit: 'tokens' }, value: limiter.rejected.tokens }]);
  }
  if (cache) {
    const c = cache.lru.counters;
    new Gauge({ name: 'headroom_response_cache_entries', help: 'Responses held by the response cache', registers, collect() { this.set(cache.lru.size); } });
    new Gauge({ name: 'headroom_response_cache_bytes', help: 'Bytes held by the response cache', registers, collect() { this.set(cache.lru.bytes); } });
    metrics.readFamily('headroom_response_cache_hits_total', 'Requests answered from the response cache', 'counter', () => [{ value: c.hits }]);
    metrics.readFamily('headroom_response_cache_misses_total', 'Response cache lookups that found no live entry', 'counter', () => [{ value: c.misses }]);
    metrics.readFamily('headroom_response_cache_evictions_total', 'Responses evicted from the response cache to stay within its bounds', 'counter', () => [{ value: c.evictions }]);
  }
}
