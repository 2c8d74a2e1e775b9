/**
 * The `virtual_key` stage (order 5, before every other control): with a `keys:` section, a
 * request that presents no known virtual key gets 401 and a model its key does not allow gets
 * 403, in the route's provider shape, before anything is forwarded. An admitted request
 * carries its key's name in `outcome.ext.virtualKey` (never the key or its hash). The provider
 * a key may use is checked where the upstream is known, in the `credentials` link.
 */
import type { Exchange, ProxyStage, StageReply } from '../../proxy/api.js';
import { bindKey, VirtualKeys } from './registry.js';

export const VIRTUAL_KEY_STAGE_ORDER = 5;

const HOW = 'send it as `x-api-key`, `Authorization: Bearer` or `api-key`';

function refusal(ex: Exchange, status: 401 | 403, message: string): StageReply {
  return { status, body: ex.route.errors.errorBody(status, 'unauthorized', message), errorType: 'unauthorized', errorMessage: message };
}

export function virtualKeyStage(keys: VirtualKeys): ProxyStage {
  return {
    name: 'virtual_key',
    order: VIRTUAL_KEY_STAGE_ORDER,
    beforeUpstream(ex) {
      const key = keys.match(ex.req.headers, ex.authorizationIsProxyToken);
      if (!key) {
        const message = VirtualKeys.presentsAny(ex.req.headers, ex.authorizationIsProxyToken)
          ? 'Invalid API key: this proxy accepts only the virtual keys it issued (the key is not one of them).'
          : `Missing API key: this proxy accepts only the virtual keys it issued; ${HOW}.`;
        return refusal(ex, 401, message);
      }
      bindKey(ex, key);
      const model = ex.facts?.model;
      if (typeof model === 'string' && model !== '' && !VirtualKeys.allowsModel(key, model)) {
        return refusal(ex, 403, `The virtual key "${key.name}" may not use model ${JSON.stringify(model.slice(0, 200))} (allowed: ${(key.models ?? []).join(', ')}).`);
      }
      return;
    },
  };
}
