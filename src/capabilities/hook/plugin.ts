/**
 * The hook on the main proxy (`--hook`): `POST /hooks/aperture` and
 * `GET|PUT|POST /hooks/aperture/config`, its own worker pool, the `tsheadroom_*` families on
 * the proxy's registry, a `hook` health check, and the `-v` line with `--hook-verbose`.
 * Originals of lossy cuts go to the proxy's originals sink (served by `headroom_retrieve`).
 */
import { originalsSinkFor } from '../../originals/sink.js';
import { metricsRegistryOf } from '../metrics/plugin.js';
import type { Plugin } from '../../core/app.js';
import { handleConfig } from './config-api.js';
import { hookLogLine } from './log-line.js';
import { registerHookFamilies } from './metrics.js';
import { createHookService, type HookServiceOptions } from './service.js';

export const HOOK_PATH = '/hooks/aperture';

export function createHookPlugin(opts: HookServiceOptions & { verboseOut?: (line: string) => void } = {}): Plugin {
  return {
    name: 'hook',
    setup(app) {
      if (!app.config.hook) {
        app.healthChecks.set('hook', () => ({ enabled: false, ready: true }));
        return;
      }
      const svc = createHookService(app, app.log, { originals: () => originalsSinkFor(app), ...opts });
      app.router.add('POST', HOOK_PATH, (r) => svc.handler(r.req, r.res, r.path, r.prefixProject), 'gated');
      app.router.add(['GET', 'PUT', 'POST'], `${HOOK_PATH}/config`, (r) => handleConfig(r.req, r.res, svc.settings, () => svc.pool.version), 'admin');
      const registry = metricsRegistryOf(app);
      if (registry) {
        const record = registerHookFamilies(registry, svc.pool);
        app.addSink({ name: 'hook-metrics', outcome: record });
      }
      if (app.config.hookVerbose) {
        const out = opts.verboseOut ?? ((line: string) => void process.stdout.write(`${line}\n`));
        app.addSink({ name: 'hook-verbose', outcome: (o) => { const l = hookLogLine(o); if (l) out(l); } });
      }
      app.healthChecks.set('hook', svc.health);
      app.onClose(() => svc.close());
    },
  };
}

export const hookPlugin: Plugin = createHookPlugin();
