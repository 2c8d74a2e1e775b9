/**
 * The `model` link (position 650: after translation, before signing): a call whose target
 * speaks the client's own format (an Azure OpenAI one for an OpenAI client too) is sent with the target's model name (an alias resolved,
 * `provider:` stripped, a fallback's model) by splicing the body's `model` value; nothing else
 * of the body changes. A translated call is left to the translation link, which writes the
 * target's model itself.
 */
import { wireFormatOf } from '../../routing/index.js';
import type { ForwardLink } from '../proxy/api.js';
import { spliceModel } from './model-splice.js';
import { API_FORMAT_OF } from './target.js';

export const MODEL_LINK_POSITION = 650;

export function modelLink(): ForwardLink {
  return {
    name: 'model',
    position: MODEL_LINK_POSITION,
    apis: ['messages', 'chat'],
    wrap: (next, ctx) => {
      const clientFormat = API_FORMAT_OF[ctx.api];
      return (call, handler) => {
        const t = call.target;
        if (!t || wireFormatOf(t.format) !== clientFormat) return next(call, handler);
        const ex = call.ex;
        const body = call.body ?? (ex.modified ? ex.forwardBody : ex.plainBody);
        const t0 = performance.now();
        const out = spliceModel(body, t.model);
        ex.rec.overheadMs += performance.now() - t0;
        if (out === null) return next(call, handler);
        next({ ...call, body: out }, handler);
      };
    },
  };
}
