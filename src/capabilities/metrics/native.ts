/**
 * headroom-ts's own metric families, named by Prometheus conventions (base units, `_total`
 * counters): real histograms in seconds, per-model tokens and spend (cost is a counter value,
 * never a label), per-project and per-stack counters, price-fallback and store health.
 * Fed by the metrics sink; reset by `/stats/reset`.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Accounting } from '../stats/api.js';
import type { StatsService } from '../stats/api.js';
import { isTransformTiming, type RequestOutcome } from '../../core/outcome.js';
import { VERSION } from '../../version.js';
import { ReadFamily } from './family.js';
import type { MetricLabels } from './labels.js';
import type {} from '../routing/api.js';

const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 320];
const TTFB_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64];
const OVERHEAD_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
const TRANSFORM_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class NativeMetrics {
  private readonly duration: Histogram<'provider' | 'model'>;
  private readonly ttfb: Histogram<'provider' | 'model'>;
  private readonly overhead: Histogram<'provider'>;
  private readonly transform: Histogram<'transform'>;
  private readonly stage: Histogram<'stage'>;
  private readonly byKind: Counter<'kind'>;
  private readonly modelRequests: Counter<'provider' | 'model'>;
  private readonly stackRequests: Counter<'stack'>;
  private readonly errors: Counter<'provider' | 'error_type'>;
  private readonly tokens: Counter<'provider' | 'model' | 'type'>;
  private readonly cost: Counter<'provider' | 'model' | 'type'>;
  private readonly compressionUsd: Counter<'provider' | 'model'>;
  private readonly deductionsUsd: Counter<'provider' | 'model' | 'cause'>;
  private readonly cacheUsd: Counter<'provider'>;
  private readonly cachePremium: Counter<'provider'>;
  private readonly projectRequests: Counter<'project'>;
  private readonly projectSaved: Counter<'project'>;
  private readonly fallback: Counter<'provider' | 'model'>;
  private readonly routed: Counter<'requested_model' | 'provider' | 'model'>;
  private readonly routingAttempts: Counter<'provider' | 'result'>;
  private readonly resettable: { reset(): void }[];

  constructor(
    registry: Registry,
    private readonly labels: MetricLabels,
    svc: StatsService,
  ) {
    const registers = [registry];
    this.duration = new Histogram({ name: 'headroom_request_duration_seconds', help: 'End-to-end duration of proxied requests in seconds', labelNames: ['provider', 'model'], buckets: DURATION_BUCKETS, registers });
    this.ttfb = new Histogram({ name: 'headroom_time_to_first_byte_seconds', help: 'Time from request arrival to the first response byte in seconds', labelNames: ['provider', 'model'], buckets: TTFB_BUCKETS, registers });
    this.overhead = new Histogram({ name: 'headroom_overhead_seconds', help: 'Time spent inside headroom-ts per proxied request (excludes upstream time) in seconds', labelNames: ['provider'], buckets: OVERHEAD_BUCKETS, registers });
    this.transform = new Histogram({ name: 'headroom_transform_duration_seconds', help: 'Duration of compression transforms in seconds', labelNames: ['transform'], buckets: TRANSFORM_BUCKETS, registers });
    this.stage = new Histogram({ name: 'headroom_stage_duration_seconds', help: 'Duration of proxy stages in seconds', labelNames: ['stage'], buckets: TRANSFORM_BUCKETS, registers });
    this.byKind = new Counter({ name: 'headroom_requests_by_kind_total', help: 'Requests by kind (proxy, compress, hook)', labelNames: ['kind'], registers });
    this.modelRequests = new Counter({ name: 'headroom_model_requests_total', help: 'Requests by provider and model', labelNames: ['provider', 'model'], registers });
    this.stackRequests = new Counter({ name: 'headroom_stack_requests_total', help: 'Requests by integration stack (X-Headroom-Stack)', labelNames: ['stack'], registers });
    this.errors = new Counter({ name: 'headroom_request_errors_total', help: 'Failed requests by provider and error type', labelNames: ['provider', 'error_type'], registers });
    this.tokens = new Counter({ name: 'headroom_model_tokens_total', help: 'Tokens by provider, model and type (input, output, saved, cache_read, cache_write)', labelNames: ['provider', 'model', 'type'], registers });
    this.cost = new Counter({ name: 'headroom_cost_usd_total', help: 'Provider spend in USD by provider, model and type (input, output)', labelNames: ['provider', 'model', 'type'], registers });
    this.compressionUsd = new Counter({ name: 'headroom_compression_savings_usd_total', help: 'USD saved by compression before deductions (saved tokens at the rates the uncompressed request would have been billed); net = this - headroom_compression_deductions_usd_total', labelNames: ['provider', 'model'], registers });
    this.deductionsUsd = new Counter({ name: 'headroom_compression_deductions_usd_total', help: 'USD compression caused, taken off its savings (cause: retrieval rounds, cache_bust)', labelNames: ['provider', 'model', 'cause'], registers });
    this.cacheUsd = new Counter({ name: 'headroom_prompt_cache_read_savings_usd_total', help: 'USD saved by provider prompt-cache reads (input price minus cache-read price)', labelNames: ['provider'], registers });
    this.cachePremium = new Counter({ name: 'headroom_prompt_cache_write_premium_usd_total', help: 'USD paid above the input price for provider prompt-cache writes', labelNames: ['provider'], registers });
    this.projectRequests = new Counter({ name: 'headroom_project_requests_total', help: 'Requests by project (X-Headroom-Project)', labelNames: ['project'], registers });
    this.projectSaved = new Counter({ name: 'headroom_project_tokens_saved_total', help: 'Tokens saved by project', labelNames: ['project'], registers });
    this.fallback = new Counter({ name: 'headroom_price_fallback_requests_total', help: 'Requests priced with the fallback price of an unknown model', labelNames: ['provider', 'model'], registers });
    this.routed = new Counter({ name: 'headroom_routed_requests_total', help: 'Proxied requests by the model the client asked for and the provider and model that answered (routing; the route\'s provider when not routed)', labelNames: ['requested_model', 'provider', 'model'], registers });
    this.routingAttempts = new Counter({ name: 'headroom_routing_attempts_total', help: 'Routing attempts by provider and result (ok, client_error, rate_limited, server_error, connect, timeout, breaker_open, ...)', labelNames: ['provider', 'result'], registers });
    new Gauge({ name: 'headroom_build_info', help: 'headroom-ts build information', labelNames: ['version'], registers }).set({ version: VERSION }, 1);
    new Gauge({
      name: 'headroom_stats_store_pending_events', help: 'Recorded requests not yet written to the stats store', registers,
      collect() {
        this.set(svc.store.health().pending);
      },
    });
    new ReadFamily('headroom_stats_store_dropped_events_total', 'Recorded requests dropped because the stats store could not be written', 'counter',
      () => [{ value: svc.store.health().dropped }]).register(registry);
    this.resettable = [
      this.duration, this.ttfb, this.overhead, this.transform, this.stage, this.byKind, this.modelRequests, this.stackRequests,
      this.errors, this.tokens, this.cost, this.compressionUsd, this.deductionsUsd, this.cacheUsd, this.cachePremium, this.projectRequests, this.projectSaved, this.fallback,
      this.routed, this.routingAttempts,
    ];
  }

  reset(): void {
    for (const m of this.resettable) m.reset();
  }

  record(o: RequestOutcome, a: Accounting): void {
    const provider = a.provider;
    const model = this.labels.model.label(a.model);
    this.byKind.inc({ kind: o.kind });
    this.modelRequests.inc({ provider, model });
    if (o.stack) this.stackRequests.inc({ stack: this.labels.stack.label(o.stack) });
    if (o.errorType) this.errors.inc({ provider, error_type: o.errorType });
    if (o.kind === 'proxy') {
      this.duration.observe({ provider, model }, o.timing.totalMs / 1000);
      if (o.timing.ttfbMs !== null) this.ttfb.observe({ provider, model }, o.timing.ttfbMs / 1000);
      this.overhead.observe({ provider }, o.timing.overheadMs / 1000);
      for (const stage in o.timing.stagesMs) this.stage.observe({ stage: this.labels.stage.label(stage) }, (o.timing.stagesMs[stage] ?? 0) / 1000);
    }
    for (const t in o.compression.timingsMs) if (isTransformTiming(t)) this.transform.observe({ transform: this.labels.transform.label(t) }, (o.compression.timingsMs[t] ?? 0) / 1000);
    const tok = (type: string, n: number) => {
      if (n > 0) this.tokens.inc({ provider, model, type }, n);
    };
    tok('input', a.inputTokens);
    tok('output', a.outputTokens);
    tok('saved', a.tokensSaved);
    tok('cache_read', a.cacheReadTokens);
    tok('cache_write', a.cacheWriteTokens);
    if (a.inputCostUsd > 0) this.cost.inc({ provider, model, type: 'input' }, a.inputCostUsd);
    if (a.outputCostUsd > 0) this.cost.inc({ provider, model, type: 'output' }, a.outputCostUsd);
    if (a.savings.compressionUsd > 0) this.compressionUsd.inc({ provider, model }, a.savings.compressionUsd);
    if (a.savings.retrievalUsd > 0) this.deductionsUsd.inc({ provider, model, cause: 'retrieval' }, a.savings.retrievalUsd);
    if (a.savings.cacheBustUsd > 0) this.deductionsUsd.inc({ provider, model, cause: 'cache_bust' }, a.savings.cacheBustUsd);
    if (a.cacheSavingsUsd > 0) this.cacheUsd.inc({ provider }, a.cacheSavingsUsd);
    if (a.cacheWritePremiumUsd > 0) this.cachePremium.inc({ provider }, a.cacheWritePremiumUsd);
    if (o.project) {
      const project = this.labels.project.label(o.project);
      this.projectRequests.inc({ project });
      if (a.tokensSaved > 0) this.projectSaved.inc({ project }, a.tokensSaved);
    }
    if (a.fallbackPriced) this.fallback.inc({ provider, model });
    if (o.kind === 'proxy' && o.requestedModel !== null) this.recordRouting(o, provider, model);
  }

  /** Requested model beside the provider and model that answered; each attempt by result. */
  private recordRouting(o: RequestOutcome, routeProvider: string, model: string): void {
    const r = o.ext.routing;
    const requested = this.labels.requestedModel.label(o.requestedModel);
    if (!r) {
      this.routed.inc({ requested_model: requested, provider: this.labels.routedProvider.label(routeProvider), model });
      return;
    }
    this.routed.inc({ requested_model: requested, provider: this.labels.routedProvider.label(r.provider), model: this.labels.model.label(r.model) });
    for (const at of r.attempts) this.routingAttempts.inc({ provider: this.labels.routedProvider.label(at.provider), result: attemptResult(at.status, at.error) });
  }
}

function attemptResult(status: number | null, error: string | null): string {
  if (status === null) return error === 'connect' || error === 'breaker_open' || error === 'reset' ? error : error?.includes('timeout') ? 'timeout' : 'other';
  if (status < 400) return 'ok';
  if (status === 429) return 'rate_limited';
  if (status < 500) return 'client_error';
  return 'server_error';
}
