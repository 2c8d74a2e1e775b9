/**
 * The hook capability: the Aperture `pre_request` hook, its own worker pool and settings, the
 * `hook` service, a `hook` health check, the `tsheadroom_*` families on the metrics registry
 * (when the metrics capability is installed) and the `-v` line with `--hook-verbose`.
 * Originals of lossy cuts go to the compression capability's originals sink (the CCR store,
 * served by `headroom_retrieve`) when it is installed.
 *
 * On the proxy (`--hook`): `POST /hooks/aperture` and `GET|PUT|POST /hooks/aperture/config`.
 * Standalone (`headroom-ts hook`, `standalone: true`): `/config`, and every other path is the
 * hook; the same App with `hookMetricsPlugin` and `hookHealthPlugin` (`standalone.ts`).
 */
import type { ServerResponse } from 'node:http';
import type { App, InFlight } from '../../core/app.js';
import { sendJson } from '../../core/http.js';
import { hostAllowed, hostRefusal } from '../../core/identity.js';
import { definePlugin, type Plugin } from '../../core/plugin.js';
import type { RouteHandler, RouteRequest } from '../../core/router.js';
import type {} from './api.js';
import { handleConfig } from './config-api.js';
import { hookLogLine } from './log-line.js';
import { registerHookFamilies } from './metrics.js';
import { settingsJson } from './settings.js';
import { createHookService, type HookService, type HookServiceOptions } from './service.js';
import { hookSchema, PgHookSettings } from './pg-settings.js';
import type {} from '../storage/api.js';

export const HOOK_PATH = '/hooks/aperture';

export interface HookPluginOptions extends HookServiceOptions {
  /** Where `-v` lines go (default stdout). */
  verboseOut?: (line: string) => void;
  /** The standalone hook server's routes (every path is the hook) instead of the proxy's `/hooks/aperture`. */
  standalone?: boolean;
}

/** A hook call keeps the shutdown waiting until its response closes; the pool's shutdown answers what is still queued. */
const HOOK_CALL: InFlight = { endForShutdown: () => undefined };

function tracked(app: App, svc: HookService): RouteHandler {
  return (r: RouteRequest) => {
    const done = app.track(HOOK_CALL);
    r.res.once('close', done);
    return svc.handler(r.req, r.res, r.path, r.prefixProject);
  };
}

/** The standalone server answers only the hosts it may be reached as (DNS rebinding), except probes. */
function hostChecked(app: App, fn: RouteHandler): RouteHandler {
  return (r: RouteRequest) => {
    if (!hostAllowed(r.req, app.config)) return forbidden(r.res, r);
    return fn(r);
  };
}

function forbidden(res: ServerResponse, r: RouteRequest): void {
  r.req.resume();
  sendJson(res, 403, { error: { type: 'forbidden_host', message: hostRefusal(r.req) } });
}

export function createHookPlugin(opts: HookPluginOptions = {}): Plugin {
  const standalone = opts.standalone === true;
  return definePlugin({
    name: 'hook',
    optional: ['metrics', 'compression', 'database', 'fleet'],
    provides: ['hook'],
    async setup(ctx) {
      const { app } = ctx;
      if (!standalone && !app.config.hook) {
        app.healthChecks.set('hook', () => ({ enabled: false, ready: true }));
        return { hook: null };
      }
      const compression = ctx.optional('compression');
      const svc = createHookService(
        { config: app.config, funnel: app.funnel, nextRequestId: () => app.nextRequestId() },
        app.log,
        { ...(compression ? { originals: () => compression.originals } : {}), ...opts },
      );
      const database = ctx.optional('database');
      if (database?.db && !app.config.stateless) {
        // a fleet: PUT /config on one instance applies on all of them
        await database.migrate(hookSchema);
        await svc.settings.share(new PgHookSettings(database.db));
      }
      const call = tracked(app, svc);
      const config: RouteHandler = (r) => handleConfig(r.req, r.res, svc.settings, () => svc.pool.version);
      if (standalone) {
        app.router.add('*', '/config', hostChecked(app, config), 'self');
        app.router.prefix('*', '/', hostChecked(app, call), 'self');
      } else {
        app.router.add('POST', HOOK_PATH, call, 'gated');
        app.router.add(['GET', 'PUT', 'POST'], `${HOOK_PATH}/config`, config, 'admin');
      }
      const metrics = ctx.optional('metrics');
      if (metrics) {
        const record = registerHookFamilies(metrics.registry, svc.pool);
        app.addSink({ name: 'hook-metrics', outcome: record });
      }
      if (app.config.hookVerbose) {
        const out = opts.verboseOut ?? ((line: string) => void process.stdout.write(`${line}\n`));
        app.addSink({ name: 'hook-verbose', outcome: (o) => { const l = hookLogLine(o); if (l) out(l); } });
      }
      const fleet = ctx.optional('fleet');
      if (fleet) {
        // a config change on one instance is applied on every instance (not announced again)
        let applying: string | null = null;
        fleet.bus.on('hook_config', (data) => {
          applying = JSON.stringify(data);
          svc.settings.update(data).catch((err: Error) => app.log.warn({ err: err.message }, 'hook config from the fleet not applied'));
        });
        svc.settings.onUpdate((s) => {
          const json = settingsJson(s);
          if (JSON.stringify(json) === applying) applying = null;
          else void fleet.bus.publish('hook_config', json);
        });
      }
      app.healthChecks.set('hook', svc.health);
      app.onClose(() => svc.close());
      return { hook: svc };
    },
  });
}

export const hookPlugin: Plugin = createHookPlugin();
