/**
 * Registers the provider routes: the LLM endpoints and the `/v1/*` passthrough, which forwards
 * only paths of the Anthropic or OpenAI API; any other `/v1/*` path is answered 404 here,
 * without an upstream call (its credentials were meant for someone else).
 */
import { resolveProviderRoute } from '../../providers/routes.js';
import { sendJson } from '../../core/http.js';
import type { App, Plugin } from '../../core/app.js';
import type { RouteRequest } from '../../core/router.js';
import { logContext } from '../../core/logger.js';
import { Exchange } from './exchange.js';
import { handleProxy } from './handler.js';

export const proxyPlugin: Plugin = {
  name: 'proxy',
  setup(app: App) {
    const handler = async (r: RouteRequest) => {
      const method = r.req.method ?? 'GET';
      const route = resolveProviderRoute(method, r.path, r.req.headers);
      if (!route) {
        r.req.resume();
        sendJson(r.res, 404, { error: { type: 'not_found', message: `No route for ${method} ${r.path}: headroom-ts forwards only paths of the Anthropic and OpenAI APIs, and no upstream was called.` } });
        return;
      }
      const ex = new Exchange(app, r.req, r.res, route, r.path, r.search, r.prefixProject);
      const ctx = logContext.getStore();
      if (ctx) ctx.requestId = ex.id;
      try {
        await handleProxy(ex, app);
      } catch (err) {
        app.log.error({ err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err) }, 'proxy request failed');
        if (!ex.res.headersSent) ex.replyError(500, 'internal', 'Internal error in headroom-ts.');
        else {
          ex.fail('internal', (err as Error)?.message ?? String(err));
          ex.res.destroy();
        }
      }
    };
    app.router
      .add('POST', '/v1/messages', handler, 'self')
      .add('POST', '/v1/messages/count_tokens', handler, 'self')
      .add('POST', '/v1/chat/completions', handler, 'self')
      .add('POST', '/v1/responses', handler, 'self')
      .add('GET', '/v1/models', handler, 'self')
      .prefix(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'], '/v1/', handler, 'self');
  },
};
