/**
 * The `routing` link (position 100, outermost): resolves the model the client asked for (an
 * alias, `provider:model`, a wildcard alias, else a bare model for the default provider of the
 * client's format) against the registry in use and keeps, per request, the ordered targets to
 * try (the resolved one, then its fallbacks) for the `fallback` link. A model naming an unknown
 * provider is answered in the client's error shape without an upstream call. A request that
 * resolves to the default upstream unchanged gets no plan: it is forwarded exactly as before.
 */
import type { ApiFormat, ResolvedModel } from '../../routing/index.js';
import { RoutingError, resolveModel, targetsFor } from '../../routing/index.js';
import type { Exchange, ForwardLink } from '../proxy/api.js';
import type { RoutingSummary } from './api.js';
import type { RoutingState, Snapshot } from './state.js';
import { API_FORMAT_OF } from './target.js';

export const ROUTING_LINK_POSITION = 100;

/** What the routing link decided for one request, read by the fallback link. */
export interface RoutePlan {
  readonly snapshot: Snapshot;
  readonly clientFormat: ApiFormat;
  readonly targets: readonly ResolvedModel[];
  readonly summary: RoutingSummary;
}

export function routingLink(state: RoutingState, plans: WeakMap<Exchange, RoutePlan>): ForwardLink {
  return {
    name: 'routing',
    position: ROUTING_LINK_POSITION,
    apis: ['messages', 'chat'],
    // a cloud platform's own paths (Azure deployments share the chat API) go to that platform
    providers: ['anthropic', 'openai'],
    wrap: (next, ctx) => {
      const clientFormat = API_FORMAT_OF[ctx.api]!;
      return (call, handler) => {
        const snapshot = state.current;
        const ex = call.ex;
        const model = ex.json?.model;
        if (snapshot.inert || call.round !== 0 || call.target || typeof model !== 'string') return next(call, handler);
        const t0 = performance.now();
        let targets: ResolvedModel[];
        try {
          targets = targetsFor(snapshot.registry, resolveModel(snapshot.registry, model, clientFormat), clientFormat);
        } catch (err) {
          if (!(err instanceof RoutingError)) throw err;
          ex.rec.overheadMs += performance.now() - t0;
          handler.onError({ kind: 'other', midBody: false, status: err.status, type: 'invalid_request', message: err.message });
          return;
        }
        const first = targets[0]!;
        const passthrough =
          targets.length === 1 && first.provider.builtIn && !first.translate && first.model === model && !snapshot.pools.has(first.provider.name);
        if (!passthrough) {
          const summary: RoutingSummary = {
            requestedModel: model,
            provider: first.provider.name,
            model: first.model,
            via: first.via,
            alias: first.alias,
            translated: first.translate,
            format: first.provider.format,
            attempts: [],
          };
          ex.rec.ext.routing = summary;
          plans.set(ex, { snapshot, clientFormat, targets, summary });
        }
        ex.rec.overheadMs += performance.now() - t0;
        next(call, handler);
      };
    },
  };
}
