/** `/livez`, `/readyz` and `/health`. Capabilities add their own checks to `app.healthChecks`. */
import type { App, Plugin } from './app.js';
import { sendJson } from './http.js';
import { isStrictLoopback } from './identity.js';

export function healthPayload(app: App, includeConfig: boolean): Record<string, unknown> {
  const checks: Record<string, unknown> = {
    startup: { enabled: true, ready: app.ready, status: app.ready ? 'healthy' : 'unhealthy', error: null },
  };
  let ready = app.ready;
  for (const [name, fn] of app.healthChecks) {
    let check;
    try {
      check = fn();
    } catch (err) {
      check = { enabled: true, ready: false, error: (err as Error).message };
    }
    const status = !check.enabled ? 'disabled' : check.ready ? 'healthy' : 'unhealthy';
    checks[name] = { ...check, ready: check.enabled ? check.ready : true, status };
    if (check.enabled && !check.ready) ready = false;
  }
  const payload: Record<string, unknown> = {
    service: 'headroom-proxy',
    status: ready ? 'healthy' : 'unhealthy',
    ready,
    version: app.version,
    timestamp: new Date().toISOString(),
    uptime_seconds: Math.round((Date.now() - app.startedAt)) / 1000,
    checks,
  };
  if (includeConfig) {
    payload.config = {
      anthropic_api_url: app.config.anthropicApiUrl,
      openai_api_url: app.config.openaiApiUrl,
      workspace_dir: app.config.workspaceDir,
      stateless: app.config.stateless,
      pid: process.pid,
    };
  }
  return payload;
}

export const healthPlugin: Plugin = {
  name: 'health',
  setup(app) {
    app.router
      .add('GET', '/livez', ({ res }) => {
        sendJson(res, 200, {
          service: 'headroom-proxy',
          status: 'healthy',
          alive: true,
          version: app.version,
          timestamp: new Date().toISOString(),
          uptime_seconds: Math.round(Date.now() - app.startedAt) / 1000,
        });
      }, 'open')
      .add('GET', '/readyz', ({ res }) => {
        const body = healthPayload(app, false);
        sendJson(res, body.ready ? 200 : 503, body);
      }, 'open')
      .add('GET', '/health', ({ req, res }) => {
        sendJson(res, 200, healthPayload(app, isStrictLoopback(req)));
      }, 'open');
  },
};
