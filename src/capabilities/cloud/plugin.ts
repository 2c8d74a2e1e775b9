/**
 * The cloud capability: Amazon Bedrock (`/model/{modelId}/invoke`, `invoke-with-response-stream`,
 * `converse`, `converse-stream`) and Anthropic on Google Vertex AI
 * (`/v1/projects/.../publishers/anthropic/models/{model}:rawPredict` and `:streamRawPredict`)
 * as provider routes of the proxy, so they get its stages (compression, CCR, budgets, the
 * cache) and every figure, plus the signing link that authenticates each upstream call
 * (`link.ts`). Provider entries come from the routing file's `providers` (format bedrock or
 * vertex) as the routing capability parsed it, again after each of its reloads (SIGHUP,
 * `POST /admin/reload`), or from the plugin's options.
 */
import { definePlugin, type Plugin } from '../../core/plugin.js';
import type {} from './api.js';
import type {} from '../routing/api.js';
import { KeyedEntries, cloudEntryLink } from './keyed.js';
import { type CloudProvider, cloudProvidersFrom, cloudProvidersOf } from './entries.js';
import { CloudAuth, signingLink } from './link.js';
import { CloudRoutes } from './routes.js';

export interface CloudPluginOptions {
  /** The provider entries (default: those of the config file). */
  providers?: readonly CloudProvider[];
  env?: NodeJS.ProcessEnv;
}

export function createCloudPlugin(opts: CloudPluginOptions = {}): Plugin {
  return definePlugin({
    name: 'cloud',
    needs: ['proxy'],
    optional: ['routing'],
    setup(ctx) {
      const { app } = ctx;
      const proxy = ctx.need('proxy');
      const routing = ctx.optional('routing');
      const fromFile = (): CloudProvider[] => (routing ? cloudProvidersFrom(routing.current().file ?? {}) : cloudProvidersOf(app.config));
      let providers: readonly CloudProvider[] = opts.providers ?? fromFile();
      const routes = new CloudRoutes(() => providers, opts.env ?? process.env);
      if (routing && !opts.providers) {
        routing.onReload(() => {
          providers = fromFile();
          app.log.info({ providers: providers.map((p) => `${p.name} (${p.format}, ${p.auth.kind})`) }, 'cloud providers reloaded');
        });
      }
      proxy.addRouteResolver(routes.resolve);
      proxy.addLink(signingLink(routes, new CloudAuth()));
      app.router.prefix(['POST'], '/model/', proxy.handle, 'self');
      // Azure OpenAI and Gemini entries of the registry serve those platforms' native paths
      if (routing) {
        const keyed = new KeyedEntries(() => routing.current().registry);
        proxy.addRouteResolver(keyed.resolve);
        proxy.addLink(cloudEntryLink(keyed, app.log.child({ logger: 'headroom.cloud' })));
      }
      if (providers.length) app.log.info({ providers: providers.map((p) => `${p.name} (${p.format}, ${p.auth.kind})`) }, 'cloud providers');
    },
  });
}

export const cloudPlugin: Plugin = createCloudPlugin();
