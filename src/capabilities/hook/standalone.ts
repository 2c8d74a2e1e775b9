/**
 * The standalone hook server's own capabilities (`headroom-ts hook`, tsheadroom's routes on one
 * port), next to the hook plugin in standalone mode:
 * - `hookMetricsPlugin`: `GET /metrics`, its own registry with the `headroom_*` subset
 *   tsheadroom emits and the `tsheadroom_*` families, fed by one outcome sink;
 * - `hookHealthPlugin`: `GET /health`, `/livez`, `/readyz` in the hook server's shape.
 */
import { Registry } from 'prom-client';
import { sendJson, sendText } from '../../core/http.js';
import { definePlugin } from '../../core/plugin.js';
import type {} from './api.js';
import { registerHeadroomSubset, registerHookFamilies } from './metrics.js';

export const hookMetricsPlugin = definePlugin({
  name: 'hook-metrics',
  needs: ['hook'],
  setup(ctx) {
    const { app } = ctx;
    const svc = ctx.need('hook');
    if (!svc) return;
    const registry = new Registry();
    const recordHeadroom = registerHeadroomSubset(registry, svc.inbound);
    const recordHook = registerHookFamilies(registry, svc.pool);
    app.addSink({ name: 'hook-metrics', outcome: (o) => (recordHeadroom(o), recordHook(o)) });
    app.router.add('*', '/metrics', async ({ req, res }) => {
      if (req.method !== 'GET') return sendText(res, 405, 'method not allowed\n', { allow: 'GET' });
      sendText(res, 200, await registry.metrics(), { 'content-type': registry.contentType });
    }, 'self');
  },
});

export const hookHealthPlugin = definePlugin({
  name: 'hook-health',
  needs: ['hook'],
  setup(ctx) {
    const { app } = ctx;
    const svc = ctx.need('hook');
    if (!svc) return;
    const health = () => {
      const pool = svc.health();
      const ready = pool.ready && !app.draining;
      return {
        service: 'headroom-hook',
        status: ready ? 'healthy' : 'unhealthy',
        ready,
        version: app.version,
        uptime_seconds: Math.round(Date.now() - app.startedAt) / 1000,
        checks: { hook: { ...pool, status: pool.ready ? 'healthy' : 'unhealthy' } },
        runtime: { node_version: process.version, pid: process.pid, funnel: app.funnel.stats() },
      };
    };
    app.router
      .add('GET', '/livez', ({ res }) => sendJson(res, 200, { status: 'alive' }), 'open')
      .add('GET', '/readyz', ({ res }) => {
        const h = health();
        sendJson(res, h.ready ? 200 : 503, h);
      }, 'open')
      .add('GET', '/health', ({ res }) => sendJson(res, 200, health()), 'open');
  },
});
