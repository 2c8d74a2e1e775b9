/**
 * `/livez`, `/readyz` and `/health` in Headroom's shape. Checks: startup, memory (process
 * heap), upstream (probe, cached 30 s, off with `HEADROOM_SKIP_UPSTREAM_CHECK`), plus
 * whatever capabilities add to `app.healthChecks` (`http_client` from the proxy, `cache` and
 * `rate_limiter` from controls, `store`, ...; Headroom's first keys are listed disabled until
 * a capability registers them). `/readyz` answers 503 until every enabled check is ready.
 *
 * None of them waits behind request traffic: `/livez` and `/health` answer from what is known
 * now (a stale upstream result starts a new probe in the background), and `/readyz` waits
 * only for the very first probe, which runs on its own connection pool with its own timeout.
 * A check that is serving but not as configured (a store kept in memory because its file
 * cannot be opened) reports `status: "degraded"` with its reason.
 */
import { getHeapStatistics } from 'node:v8';
import type { App, HealthCheck } from '../../core/app.js';
import { definePlugin } from '../../core/plugin.js';
import { healthConfig } from '../../config/view.js';
import { sendJson } from '../../core/http.js';
import { isStrictLoopback } from '../../core/identity.js';
import { probeAgent, UpstreamProbe } from './upstream-probe.js';
import type { Health, HealthCheckJson } from './schema.js';

/** Heap use above this share of the V8 heap limit marks the memory check not ready. */
const HEAP_READY_LIMIT = 0.95;

export function memoryCheck(): HealthCheck {
  const m = process.memoryUsage();
  const limit = getHeapStatistics().heap_size_limit;
  const used = limit > 0 ? m.heapUsed / limit : 0;
  return {
    enabled: true,
    ready: used < HEAP_READY_LIMIT,
    backend: 'process',
    initialized: true,
    native_tool: false,
    bridge_enabled: false,
    rss_bytes: m.rss,
    heap_used_bytes: m.heapUsed,
    heap_limit_bytes: limit,
    heap_used_percent: Math.round(used * 1000) / 10,
    external_bytes: m.external,
  };
}

const disabled = (): HealthCheck => ({ enabled: false, ready: true });

function runCheck(fn: () => HealthCheck): HealthCheck {
  try {
    return fn();
  } catch (err) {
    return { enabled: true, ready: false, error: (err as Error).message };
  }
}

export function healthPayload(app: App, includeConfig: boolean): Health {
  const checks: Record<string, HealthCheckJson> = {
    startup: {
      enabled: true,
      ready: app.ready,
      status: app.ready ? 'healthy' : 'unhealthy',
      error: app.draining ? 'shutting down: finishing the requests in flight' : null,
      ...(app.draining ? { draining: true, in_flight: app.inFlight } : {}),
    },
  };
  let ready = app.ready;
  const all = new Map<string, () => HealthCheck>([
    // the proxy capability registers the real one (its upstream client)
    ['http_client', disabled],
    ['cache', disabled],
    ['rate_limiter', disabled],
    ['memory', memoryCheck],
    ...app.healthChecks,
  ]);
  const degraded: string[] = [];
  for (const [name, fn] of all) {
    const check = runCheck(fn);
    // degraded: serving, but something is not as configured (e.g. a store running from memory)
    const isDegraded = check.enabled && check.ready && check.degraded === true;
    if (isDegraded) degraded.push(name);
    const status = !check.enabled ? 'disabled' : !check.ready ? 'unhealthy' : isDegraded ? 'degraded' : 'healthy';
    checks[name] = { ...check, ready: check.enabled ? check.ready : true, status };
    if (check.enabled && !check.ready) ready = false;
  }
  const payload: Health = {
    service: 'headroom-proxy',
    status: !ready ? 'unhealthy' : degraded.length > 0 ? 'degraded' : 'healthy',
    ready,
    degraded_checks: degraded,
    version: app.version,
    timestamp: new Date().toISOString().replace('Z', '000Z'),
    uptime_seconds: Math.round(Date.now() - app.startedAt) / 1000,
    checks,
    runtime: {
      node_version: process.version,
      pid: process.pid,
      funnel: app.funnel.stats(),
    },
    rust_core: 'disabled',
  };
  if (includeConfig) payload.config = healthConfig(app.config);
  return payload;
}

export const healthPlugin = definePlugin({
  name: 'health',
  setup({ app }) {
    const skip = app.config.skipUpstreamCheck;
    const agent = probeAgent();
    const probe = new UpstreamProbe(app.config.anthropicApiUrl, agent);
    app.onClose(() => agent.close().catch(() => undefined));
    app.healthChecks.set('upstream', () =>
      skip
        ? { enabled: false, ready: true, url: null, error: null }
        : {
            enabled: true,
            ready: probe.state.ok,
            url: probe.state.url,
            error: probe.state.error,
            http_status: probe.state.status,
            latency_ms: probe.state.latencyMs,
            checked_at: probe.state.checkedAt === null ? null : new Date(probe.state.checkedAt).toISOString(),
          },
    );
    // the first readiness answer waits for a real probe; later ones use the cached result
    const probed = async (wait: boolean) => {
      if (skip) return;
      if (wait && probe.state.checkedAt === null) await probe.check();
      else probe.refresh();
    };
    app.router
      .add('GET', '/livez', ({ res }) => {
        sendJson(res, 200, {
          service: 'headroom-proxy',
          status: 'healthy',
          alive: true,
          version: app.version,
          timestamp: new Date().toISOString().replace('Z', '000Z'),
          uptime_seconds: Math.round(Date.now() - app.startedAt) / 1000,
        });
      }, 'open')
      .add('GET', '/readyz', async ({ res }) => {
        await probed(true);
        const body = healthPayload(app, false);
        sendJson(res, body.ready ? 200 : 503, body);
      }, 'open')
      .add('GET', '/health', async ({ req, res }) => {
        await probed(false);
        sendJson(res, 200, healthPayload(app, isStrictLoopback(req)));
      }, 'open');
  },
});
