/**
 * A stand-in for the routing link in tests of what comes after it: a plugin whose link (at the
 * routing position) sets `call.target` from the request's model by the rules given, the way
 * routing does from the config file.
 */
import type { ForwardLink } from '../../src/capabilities/proxy/api.js';
import { LINK_POSITION } from '../../src/capabilities/proxy/chain.js';
import type { UpstreamTarget } from '../../src/capabilities/proxy/target.js';
import { definePlugin, type Plugin } from '../../src/core/plugin.js';

/** A model prefix (`claude-`) -> the target its requests go to. */
export type TargetRules = Record<string, UpstreamTarget>;

export function targetRoutePlugin(rules: () => TargetRules): Plugin {
  const link: ForwardLink = {
    name: 'test-routing',
    position: LINK_POSITION.routing,
    wrap: (next) => (call, handler) => {
      const model = call.ex.json?.model;
      if (typeof model !== 'string') return next(call, handler);
      const hit = Object.entries(rules()).find(([prefix]) => model.startsWith(prefix));
      next(hit ? { ...call, target: hit[1] } : call, handler);
    },
  };
  return definePlugin({
    name: 'test-routing',
    needs: ['proxy'],
    setup(ctx) {
      ctx.need('proxy').addLink(link);
    },
  });
}
