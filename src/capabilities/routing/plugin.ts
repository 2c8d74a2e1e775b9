/**
 * The routing capability: the provider registry (`providers`, `model_aliases`, `fallbacks` of
 * the routing file, the `<P>_*` environment, the default upstreams), wired into the forwarding
 * chain as three links: `routing` (100, resolve the model), `fallback` (200, the attempts:
 * targets, keys, breakers) and `model` (650, the target's model name in a same-format body).
 * `POST /admin/reload` (admin) and `SIGHUP` (the CLI) re-read the file; a bad file keeps the
 * registry in use. An invalid file at start-up stops the App with the field named.
 */
import { sendJson } from '../../core/http.js';
import { definePlugin } from '../../core/plugin.js';
import { checkAccess, type RouteRequest } from '../../core/router.js';
import type { Exchange } from '../proxy/api.js';
import type { RoutingService } from './api.js';
import { fallbackLink } from './fallback-link.js';
import { modelLink } from './model-link.js';
import { type RoutePlan, routingLink } from './route-link.js';
import { RoutingCounters } from './section.js';
import { RoutingState } from './state.js';

export const routingPlugin = definePlugin({
  name: 'routing',
  needs: ['proxy'],
  optional: ['stats'],
  provides: ['routing'],
  setup(ctx) {
    const { app } = ctx;
    const log = app.log.child({ logger: 'headroom.routing' });
    const proxy = ctx.need('proxy');
    const state = new RoutingState(app.config);
    const plans = new WeakMap<Exchange, RoutePlan>();
    proxy.addLink(routingLink(state, plans));
    proxy.addLink(fallbackLink(state, plans, log));
    proxy.addLink(modelLink());

    const listeners: (() => void)[] = [];
    const service: RoutingService = {
      reload() {
        const r = state.reload();
        if (r.ok) for (const l of listeners) l();
        if (r.ok) log.info({ file: r.file, providers: r.providers, aliases: r.aliases, patterns: r.patterns, fallbacks: r.fallbacks }, 'routing configuration reloaded');
        else log.error({ file: r.file, err: r.error }, 'routing configuration not reloaded: the file is invalid; the previous registry stays in use');
        return r;
      },
      providers: () => [...state.current.registry.providers.keys()],
      breakers: () => state.breakers.snapshot(),
      current: () => ({ registry: state.current.registry, file: state.current.file }),
      onReload: (l) => void listeners.push(l),
    };

    const audit = app.log.child({ logger: 'headroom.audit' });
    app.router.add('POST', '/admin/reload', ({ req, res, path }: RouteRequest) => {
      req.resume();
      if (checkAccess('admin', req, res, app.config)) {
        const r = service.reload();
        sendJson(res, r.ok ? 200 : 400, r.ok ? { status: 'reloaded', ...r } : { status: 'error', ...r });
      }
      audit.info({
        event: 'headroom_admin_audit', action: 'admin_request', method: req.method, path,
        source_ip: req.socket.remoteAddress ?? null, status_code: res.statusCode,
      }, 'admin request');
    }, 'self');

    const counters = new RoutingCounters();
    app.addSink({ name: 'routing', outcome: (o) => counters.record(o) });
    // `/stats/reset` zeroes the attempt counters with the other process figures
    ctx.optional('stats')?.onReset(() => counters.reset());
    app.statsSections.set('routing', () => counters.section(state));
    return { routing: service };
  },
});
