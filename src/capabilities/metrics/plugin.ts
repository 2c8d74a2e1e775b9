/**
 * `GET /metrics` (Prometheus text 0.0.4): Headroom's `headroom_*` families, headroom-ts's
 * histograms and per-model counters, and Node.js process metrics. Needs the stats service,
 * whose counters and figures it reads; provides the registry to capabilities that add
 * families (controls, hook).
 */
import { Gauge } from 'prom-client';
import type {} from '../storage/api.js';
import { collectDefaultMetrics, type Metric, Registry } from 'prom-client';
import type { Config } from '../../config/index.js';
import { sendText } from '../../core/http.js';
import { definePlugin } from '../../core/plugin.js';
import { redactSecrets } from '../../core/redact.js';
import type { ResponsesWsService } from '../responses-ws/api.js';
import type { StatsService } from '../stats/api.js';
import type { MetricsService } from './api.js';
import { ReadFamily } from './family.js';
import { ConditionalFamily, registerHeadroomFamilies } from './headroom-families.js';
import { metricLabels } from './labels.js';
import { NativeMetrics } from './native.js';

/** A registry that leaves out conditional families until they have data (as Headroom does). */
class HeadroomRegistry extends Registry {
  override getMetricsAsArray(): ReturnType<Registry['getMetricsAsArray']> {
    return super.getMetricsAsArray().filter((m) => {
      const f = m as unknown;
      return !(f instanceof ConditionalFamily) || f.hasData();
    });
  }
}

/**
 * prom-client's Node.js process metrics, minus the three gauges named `*_total`
 * (`nodejs_active_{handles,requests,resources}_total`) that break Prometheus naming rules;
 * their per-type breakdowns (`nodejs_active_handles` etc.) carry the same information.
 */
function registerProcessMetrics(registry: Registry): void {
  const defaults = new Registry();
  collectDefaultMetrics({ register: defaults });
  for (const m of defaults.getMetricsAsArray()) {
    const metric = m as unknown as Metric & { type: string; name: string };
    if (metric.type !== 'counter' && metric.name.endsWith('_total')) continue;
    registry.registerMetric(metric);
  }
}

export function createMetricsRegistry(config: Config, svc: StatsService, ws?: ResponsesWsService): { registry: Registry; native: NativeMetrics } {
  const registry: Registry = new HeadroomRegistry();
  const labels = metricLabels();
  registerHeadroomFamilies(registry, svc, labels, config.metricsHeadroomNames, ws);
  const native = new NativeMetrics(registry, labels, svc);
  registerProcessMetrics(registry);
  svc.onReset(() => native.reset());
  return { registry, native };
}

export const metricsPlugin = definePlugin({
  name: 'metrics',
  needs: ['stats'],
  optional: ['responsesWs', 'database', 'fleet'],
  provides: ['metrics'],
  setup(ctx) {
    const { app } = ctx;
    const stats = ctx.need('stats');
    const { registry, native } = createMetricsRegistry(ctx.config, stats, ctx.optional('responsesWs'));
    app.addSink({
      name: 'metrics',
      outcome(o) {
        const a = stats.accountingOf(o);
        if (a.counted) native.record(o, a);
      },
    });
    app.router.add('GET', '/metrics', async ({ res }) => {
      const text = await registry.metrics();
      sendText(res, 200, redactSecrets(text), { 'content-type': registry.contentType });
    }, 'gated');
    const service: MetricsService = {
      registry,
      readFamily: (name, help, type, read) => void new ReadFamily(name, help, type, read).register(registry),
    };
    const fleet = ctx.optional('fleet');
    if (fleet) {
      service.readFamily('headroom_redis_failures_total', 'Redis commands that failed or timed out (the request went on without Redis: limits and cache fail open)', 'counter', () => [{ value: fleet.redis.failures }]);
      service.readFamily('headroom_redis_up', 'Whether the connection to the fleet Redis is ready (1) or not (0)', 'gauge', () => [{ value: fleet.redis.connected ? 1 : 0 }]);
    }
    const shared = ctx.optional('database')?.db;
    if (shared) {
      // every failed operation on the shared database, by store (stats store, budget store, CCR store, migrations)
      service.readFamily('headroom_store_failures_total', 'Failed operations on the shared database (--database-url), by store', 'counter',
        () => [...shared.failures].map(([store, value]) => ({ labels: { store }, value })));
      new Gauge({
        name: 'headroom_store_degraded', help: 'Whether a store on the shared database is failing now (1) or not (0), by store', registers: [registry],
        collect() {
          for (const [store, h] of shared.all()) this.set({ store }, h.ok ? 0 : 1);
        },
        labelNames: ['store'],
      });
    }
    return { metrics: service };
  },
});
