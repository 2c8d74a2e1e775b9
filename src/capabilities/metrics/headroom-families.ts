/**
 * Headroom's `headroom_*` metric families: same names, types, label names and HELP texts,
 * in Headroom's emission order, read from the stats service at scrape time (so `/stats` and
 * `/metrics` never disagree and `/stats/reset` resets both).
 *
 * Families whose Headroom names break Prometheus naming rules (`*_ms_sum` counters,
 * unsuffixed counters such as `headroom_requests_by_provider`) are listed in
 * `LEGACY_NAMED_FAMILIES` and emitted only with `--metrics-headroom-names` (default on).
 */
import type { Registry } from 'prom-client';
import type { StatsService } from '../stats/api.js';
import { aggregate, ReadFamily, type Sample } from './family.js';
import type { MetricLabels } from './labels.js';
import { round2, round6 } from '../../util/round.js';

const one = (value: number): Sample[] => [{ value }];

/** Families kept for Headroom compatibility whose names `promtool check metrics` flags. */
export const LEGACY_NAMED_FAMILIES: readonly string[] = [
  ...['latency', 'overhead', 'ttfb'].flatMap((k) => ['sum', 'count', 'min', 'max'].map((s) => `headroom_${k}_ms_${s}`)),
  'headroom_requests_by_provider',
  'headroom_requests_by_model',
  'headroom_requests_by_stack',
  'headroom_transform_timing_ms_sum',
  'headroom_transform_timing_ms_count',
  'headroom_transform_timing_ms_max',
  'headroom_stage_timing_ms_sum',
  'headroom_stage_timing_ms_count',
  'headroom_stage_timing_ms_max',
];

export class ConditionalFamily extends ReadFamily {
  constructor(name: string, help: string, type: 'counter' | 'gauge', read: () => Sample[], readonly hasData: () => boolean) {
    super(name, help, type, read);
  }
}

/** What the WebSocket gauges read (the `responsesWs` service when installed). */
export interface WsSessions {
  readonly activeSessions: number;
  readonly activeRelays: number;
}

export function registerHeadroomFamilies(registry: Registry, svc: StatsService, labels: MetricLabels, legacyNames: boolean, ws?: WsSessions): void {
  const p = svc.process;
  const counter = (name: string, help: string, read: () => Sample[] | Promise<Sample[]>) => new ReadFamily(name, help, 'counter', read).register(registry);
  const gauge = (name: string, help: string, read: () => Sample[] | Promise<Sample[]>) => new ReadFamily(name, help, 'gauge', read).register(registry);
  const conditional = (name: string, help: string, type: 'counter' | 'gauge', read: () => Sample[], hasData: () => boolean) =>
    new ConditionalFamily(name, help, type, read, hasData).register(registry);
  const legacy = (fn: () => void) => {
    if (legacyNames) fn();
  };

  counter('headroom_requests_total', 'Total number of requests', () => one(p.total));
  counter('headroom_requests_cached_total', 'Cached request count', () => one(p.cached));
  counter('headroom_requests_rate_limited_total', 'Rate limited requests', () => one(p.rateLimited));
  counter('headroom_requests_failed_total', 'Failed requests', () => one(p.failed));
  counter('headroom_inbound_requests_total', 'All inbound HTTP requests accepted by the proxy', () => one(svc.inbound.total));
  counter('headroom_inbound_requests_completed_total', 'Inbound HTTP requests completed or aborted by the proxy', () => one(svc.inbound.completed));
  gauge('headroom_inbound_requests_active', 'Inbound HTTP requests currently active in the proxy (includes the scrape itself)', () => one(svc.inbound.active));
  counter('headroom_tokens_input_total', 'Total input tokens (post-compression)', () => one(p.inputTokens));
  counter('headroom_tokens_output_total', 'Total output tokens', () => one(p.outputTokens));
  counter('headroom_tokens_saved_total', 'Tokens saved by optimization', () => one(p.tokensSaved));
  let lifetime: Promise<Awaited<ReturnType<StatsService['store']['lifetime']>>> | null = null;
  const life = async () => {
    // one store read per scrape, shared by the five persistent families
    lifetime ??= svc.store.lifetime().finally(() => setImmediate(() => (lifetime = null)));
    return lifetime;
  };
  counter('headroom_persistent_savings_requests_total', 'Durable lifetime requests recorded by the proxy savings tracker', async () => one((await life()).requests));
  counter('headroom_persistent_savings_tokens_saved_total', 'Durable lifetime input tokens saved by proxy compression', async () => one((await life()).tokensSaved));
  counter('headroom_persistent_savings_input_tokens_total', 'Durable lifetime input tokens recorded by the proxy savings tracker', async () => one((await life()).inputTokens));
  counter('headroom_persistent_savings_input_cost_usd_total', 'Durable lifetime input spend in USD estimated by the proxy savings tracker', async () => one(round6((await life()).inputCostUsd)));
  counter('headroom_persistent_savings_compression_savings_usd_total', 'Durable lifetime compression savings in USD estimated by the proxy savings tracker', async () => one(round6((await life()).savingsUsd)));

  legacy(() => {
    const timing = (key: string, s: typeof p.latency, help: { sum: string; count: string; min: string; max: string }) => {
      counter(`headroom_${key}_ms_sum`, help.sum, () => one(round2(s.sum)));
      counter(`headroom_${key}_ms_count`, help.count, () => one(s.count));
      gauge(`headroom_${key}_ms_min`, help.min, () => one(s.count ? round2(s.min) : 0));
      gauge(`headroom_${key}_ms_max`, help.max, () => one(round2(s.max)));
    };
    timing('latency', p.latency, {
      sum: 'Sum of request latencies in milliseconds',
      count: 'Count of observed request latencies',
      min: 'Minimum observed request latency in milliseconds (0 when no samples)',
      max: 'Maximum observed request latency in milliseconds',
    });
    timing('overhead', p.overhead, {
      sum: 'Sum of Headroom processing overhead in milliseconds',
      count: 'Count of observed Headroom overhead samples',
      min: 'Minimum observed Headroom overhead in milliseconds',
      max: 'Maximum observed Headroom overhead in milliseconds',
    });
    timing('ttfb', p.ttfb, {
      sum: 'Sum of time to first byte in milliseconds',
      count: 'Count of observed time-to-first-byte samples',
      min: 'Minimum observed time to first byte in milliseconds',
      max: 'Maximum observed time to first byte in milliseconds',
    });
  });

  counter('headroom_cache_bust_total', 'Requests that lost provider cache efficiency because of compression', () => one(p.prefixCache.compressionBusts));
  counter('headroom_cache_bust_tokens_lost_total', 'Tokens that lost provider cache discount because of compression', () => one(p.prefixCache.tokensLostToBusts));

  conditional(
    'headroom_cache_miss_attribution_total',
    'Cache misses on an expected-cached prefix, bucketed by reason (ttl_expiry|prefix_change|unknown)',
    'counter',
    () => {
      const out: Sample[] = [];
      for (const [provider, m] of [...p.prefixCache.misses].sort(([a], [b]) => a.localeCompare(b))) {
        for (const reason of ['ttl_expiry', 'prefix_change', 'unknown'] as const) out.push({ labels: { provider, reason }, value: m[reason] });
      }
      return out;
    },
    () => p.prefixCache.misses.size > 0,
  );

  legacy(() => {
    counter('headroom_requests_by_provider', 'Requests by provider', () => aggregate(p.byProvider, 'provider', (v) => v));
    counter('headroom_requests_by_model', 'Requests by model', () => aggregate(p.byModel, 'model', (v) => labels.model.label(v)));
    counter('headroom_requests_by_stack', 'Requests by Headroom integration stack', () => aggregate(p.byStack, 'stack', (v) => labels.stack.label(v)));
    const keyed = (m: Map<string, { sum: number; count: number; max: number }>, pick: 'sum' | 'count' | 'max', toLabels: (k: string) => Record<string, string>) => {
      const sums = new Map<string, { labels: Record<string, string>; value: number }>();
      for (const [k, v] of m) {
        const l = toLabels(k);
        const id = JSON.stringify(l);
        const cur = sums.get(id);
        const val = v[pick];
        if (!cur) sums.set(id, { labels: l, value: val });
        else cur.value = pick === 'max' ? Math.max(cur.value, val) : cur.value + val;
      }
      return [...sums.values()]
        .sort((a, b) => JSON.stringify(a.labels).localeCompare(JSON.stringify(b.labels)))
        .map((s) => ({ labels: s.labels, value: pick === 'count' ? s.value : round2(s.value) }));
    };
    const transformLabels = (k: string) => ({ transform: labels.transform.label(k) });
    const hasTransforms = () => p.transforms.byKey.size > 0;
    conditional('headroom_transform_timing_ms_sum', 'Sum of transform timing in milliseconds', 'counter', () => keyed(p.transforms.byKey, 'sum', transformLabels), hasTransforms);
    conditional('headroom_transform_timing_ms_count', 'Count of transform timing samples', 'counter', () => keyed(p.transforms.byKey, 'count', transformLabels), hasTransforms);
    conditional('headroom_transform_timing_ms_max', 'Maximum transform timing in milliseconds', 'gauge', () => keyed(p.transforms.byKey, 'max', transformLabels), hasTransforms);
    const stageLabels = (k: string) => {
      const [path = '', stage = ''] = k.split('\u0000');
      return { path: labels.path.label(path), stage: labels.stage.label(stage) };
    };
    const hasStages = () => p.stages.byKey.size > 0;
    conditional('headroom_stage_timing_ms_sum', 'Sum of per-stage handler timings in milliseconds', 'counter', () => keyed(p.stages.byKey, 'sum', stageLabels), hasStages);
    conditional('headroom_stage_timing_ms_count', 'Count of per-stage handler timing samples', 'counter', () => keyed(p.stages.byKey, 'count', stageLabels), hasStages);
    conditional('headroom_stage_timing_ms_max', 'Maximum per-stage handler timing in milliseconds', 'gauge', () => keyed(p.stages.byKey, 'max', stageLabels), hasStages);
  });

  // Responses WebSocket sessions open now, and those with their upstream socket open (one relay each)
  gauge('headroom_active_ws_sessions', 'Active Codex WebSocket sessions', () => one(ws?.activeSessions ?? 0));
  gauge('headroom_active_relay_tasks', 'Active Codex WS relay tasks', () => one(ws?.activeRelays ?? 0));

  conditional('headroom_waste_signal_tokens_total', 'Tokens attributed to detected waste signals', 'counter',
    () => aggregate(p.wasteSignals, 'signal', (v) => labels.signal.label(v)), () => p.wasteSignals.size > 0);

  const cacheSeen = () => p.prefixCache.anyObserved;
  const perProvider = (pick: (c: ReturnType<typeof p.prefixCache.totals>) => number) => () =>
    [...p.prefixCache.byProvider].sort(([a], [b]) => a.localeCompare(b)).map(([provider, c]) => ({ labels: { provider }, value: pick(c) }));
  const perTtl = (tokens: boolean) => () => {
    const out: Sample[] = [];
    for (const [provider, c] of [...p.prefixCache.byProvider].sort(([a], [b]) => a.localeCompare(b))) {
      out.push({ labels: { provider, ttl: '5m' }, value: tokens ? c.cacheWrite5m : c.write5mRequests });
      out.push({ labels: { provider, ttl: '1h' }, value: tokens ? c.cacheWrite1h : c.write1hRequests });
    }
    return out;
  };
  conditional('headroom_cache_read_tokens_total', 'Provider cache read tokens', 'counter', perProvider((c) => c.cacheRead), cacheSeen);
  conditional('headroom_cache_write_tokens_total', 'Provider cache write tokens', 'counter', perProvider((c) => c.cacheWrite), cacheSeen);
  conditional('headroom_cache_write_ttl_tokens_total', 'Provider cache write tokens by observed TTL bucket', 'counter', perTtl(true), cacheSeen);
  conditional('headroom_cache_write_ttl_requests_total', 'Provider cache write requests by observed TTL bucket', 'counter', perTtl(false), cacheSeen);
  conditional('headroom_uncached_input_tokens_total', 'Input tokens not served from provider cache', 'counter', perProvider((c) => c.uncached), cacheSeen);
  conditional('headroom_provider_cache_requests_total', 'Requests with provider cache observations', 'counter', perProvider((c) => c.requests), cacheSeen);
  conditional('headroom_provider_cache_hit_requests_total', 'Requests with provider cache reads', 'counter', perProvider((c) => c.hitRequests), cacheSeen);
  conditional('headroom_provider_cache_bust_total', 'Provider-specific cache bust count', 'counter', perProvider((c) => c.bustCount), cacheSeen);
  conditional('headroom_provider_cache_bust_write_tokens_total', 'Provider cache write tokens attributed to busts', 'counter', perProvider((c) => c.bustWriteTokens), cacheSeen);

  counter('proxy_image_generation_call_log_redacted_total',
    "Count of base64-encoded image payloads redacted from request logs by the Python proxy's request logger", () => one(svc.imagesRedacted));
}
