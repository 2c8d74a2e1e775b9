/**
 * The proxy capability: the upstream client (one keep-alive undici agent), the stages and the
 * forwarding chain (its own links: `observe`, `retry` and `translation`, around the `relay`), the `proxy`
 * service, the `http_client` health check and the provider routes: the LLM endpoints
 * and the `/v1/*` passthrough, which forwards only paths of the Anthropic or OpenAI API; any
 * other `/v1/*` path is answered 404 here, without an upstream call (its credentials were
 * meant for someone else).
 */
import type { Agent } from 'undici';
import { sendJson } from '../../core/http.js';
import { apiKeyHashFrom } from '../../core/identity.js';
import { logContext } from '../../core/logger.js';
import { definePlugin, type Plugin } from '../../core/plugin.js';
import type { RouteRequest } from '../../core/router.js';
import { CLOUD_PREFIXES, resolveCloudRoute } from '../../providers/cloud-routes.js';
import { resolveProviderRoute } from '../../providers/routes.js';
import type { ProxyService, RouteResolver } from './api.js';
import { Exchange } from './exchange.js';
import { handleProxy } from './handler.js';
import type { ProxyHost } from './host.js';
import { cloudKeysLink } from './links/cloud-keys.js';
import { observeLink } from './links/observe.js';
import { relay } from './links/relay.js';
import { retryLink } from './links/retry.js';
import { translationLink } from './links/translation.js';
import { RoutePlans } from './plan.js';
import { createUpstreamAgent } from './upstream.js';

export interface ProxyPluginOptions {
  /** The upstream client (default: one built from the config; closed on shutdown either way). */
  agent?: Agent;
}

export function createProxyPlugin(opts: ProxyPluginOptions = {}): Plugin {
  return definePlugin({
    name: 'proxy',
    provides: ['proxy'],
    setup({ app, config, log }) {
      const agent = opts.agent ?? createUpstreamAgent(config);
      const plans = new RoutePlans(relay(agent, config), log);
      plans.addLink(observeLink(app.funnel));
      plans.addLink(retryLink(config, log));
      plans.addLink(cloudKeysLink(config));
      plans.addLink(translationLink());
      const host: ProxyHost = {
        config,
        log,
        funnel: app.funnel,
        plans,
        nextRequestId: () => app.nextRequestId(),
        track: (ex) => app.track(ex),
        get draining() {
          return app.draining;
        },
      };
      const resolvers: RouteResolver[] = [];
      const fromResolvers = (method: string, path: string, headers: RouteRequest['req']['headers']) => {
        for (const r of resolvers) {
          const route = r(method, path, headers);
          if (route) return route;
        }
        return null;
      };
      app.healthChecks.set('http_client', () => ({ enabled: true, ready: !agent.closed && !agent.destroyed }));
      app.onClose(() => agent.close().catch(() => undefined));

      const handler = async (r: RouteRequest) => {
        const method = r.req.method ?? 'GET';
        // an added resolver (the cloud capability's registry entries) is asked first
        const added = fromResolvers(method, r.path, r.req.headers);
        const route = added ?? resolveCloudRoute(method, r.path, config) ?? resolveProviderRoute(method, r.path, r.req.headers);
        if (!route) {
          r.req.resume();
          sendJson(r.res, 404, { error: { type: 'not_found', message: `No route for ${method} ${r.path}: headroom-ts forwards only paths of the Anthropic and OpenAI APIs, and no upstream was called.` } });
          return;
        }
        const ex = new Exchange(host, r.req, r.res, route, r.path, r.search, r.prefixProject);
        const ctx = logContext.getStore();
        if (ctx) ctx.requestId = ex.id;
        // a Gemini key in the query string identifies the caller as the header would (cache keys, per-key figures)
        if (route.provider === 'gcp.gemini' && ex.info.apiKeyHash === null && r.search.includes('key=')) {
          const key = new URLSearchParams(r.search.slice(1)).get('key');
          if (key) ex.info.apiKeyHash = apiKeyHashFrom({ 'x-goog-api-key': key });
        }
        if (route.provider === 'azure.ai.openai' && !added && !config.azureOpenaiApiUrl) {
          r.req.resume();
          ex.start();
          ex.replyError(404, 'invalid_request', 'No Azure OpenAI endpoint is configured (a `format: azure` provider entry or --azure-openai-api-url); no upstream was called.');
          return;
        }
        try {
          await handleProxy(ex, host, plans.for(route));
        } catch (err) {
          log.error({ err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err) }, 'proxy request failed');
          if (!ex.res.headersSent) ex.replyError(500, 'internal', 'Internal error in headroom-ts.');
          else {
            ex.fail('internal', (err as Error)?.message ?? String(err));
            ex.res.destroy();
          }
        }
      };
      const service: ProxyService = {
        agent,
        stages: plans.stages,
        addStage: (stage) => plans.addStage(stage),
        addLink: (link) => plans.addLink(link),
        addRouteResolver: (r) => void resolvers.push(r),
        handle: handler,
      };
      app.router
        .add('POST', '/v1/messages', handler, 'self')
        .add('POST', '/v1/messages/count_tokens', handler, 'self')
        .add('POST', '/v1/chat/completions', handler, 'self')
        .add('POST', '/v1/responses', handler, 'self')
        .add('GET', '/v1/models', handler, 'self')
        .prefix(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'], '/v1/', handler, 'self');
      for (const prefix of CLOUD_PREFIXES) app.router.prefix('POST', prefix, handler, 'self');
      return { proxy: service };
    },
  });
}

export const proxyPlugin: Plugin = createProxyPlugin();
