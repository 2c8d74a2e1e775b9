/**
 * `GET /metrics` (Prometheus text 0.0.4): Headroom's `headroom_*` families, headroom-ts's
 * histograms and per-model counters, and Node.js process metrics. Installed after the stats
 * plugin, whose state it reads.
 */
import { collectDefaultMetrics, type Metric, Registry } from 'prom-client';
import type { Plugin } from '../../core/app.js';
import { sendText } from '../../core/http.js';
import { redactSecrets } from '../../core/redact.js';
import { accountingOf } from '../accounting/accounting.js';
import { statsServiceOf } from '../stats/service.js';
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

export function createMetricsRegistry(app: Parameters<Plugin['setup']>[0]): { registry: Registry; native: NativeMetrics } {
  const svc = statsServiceOf(app);
  if (!svc) throw new Error('the metrics plugin needs the stats plugin installed first');
  const registry: Registry = new HeadroomRegistry();
  const labels = metricLabels();
  registerHeadroomFamilies(registry, svc, labels, app.config.metricsHeadroomNames);
  const native = new NativeMetrics(registry, labels, svc);
  registerProcessMetrics(registry);
  svc.onReset(() => native.reset());
  return { registry, native };
}

const registries = new WeakMap<object, Registry>();

/** The app's Prometheus registry (installed by the metrics plugin), for capabilities that add families. */
export function metricsRegistryOf(app: Parameters<Plugin['setup']>[0]): Registry | undefined {
  return registries.get(app);
}

export const metricsPlugin: Plugin = {
  name: 'metrics',
  setup(app) {
    const { registry, native } = createMetricsRegistry(app);
    registries.set(app, registry);
    app.addSink({
      name: 'metrics',
      outcome(o) {
        const a = accountingOf(o);
        if (a.counted) native.record(o, a);
      },
    });
    app.router.add('GET', '/metrics', async ({ res }) => {
      const text = await registry.metrics();
      sendText(res, 200, redactSecrets(text), { 'content-type': registry.contentType });
    }, 'gated');
  },
};
