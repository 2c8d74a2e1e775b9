/**
 * The `unpriced` stage: with a budget or a rate limit configured, a billable request that
 * headroom-ts cannot price before it runs (a message batch, embeddings, images, audio,
 * fine-tuning, ...: see `unpricedBillable`) is refused with 403 in the provider's shape instead
 * of being forwarded past the limits. Without either control such requests pass through.
 */
import { unpricedBillable } from '../../providers/routes.js';
import type { Exchange, ProxyStage, StageReply } from '../proxy/api.js';

export function unpricedStage(controls: string): ProxyStage {
  return {
    name: 'unpriced',
    order: 100,
    beforeUpstream(ex: Exchange): StageReply | undefined {
      // LLM routes are estimated and metered; a passthrough with usage read afterwards (Bedrock Converse) is not
      if (ex.route.adapter && ex.route.api !== 'passthrough') return;
      const what = unpricedBillable(ex.info.method, ex.path);
      if (!what) return;
      const message = `headroom-ts cannot price ${what} (${ex.info.method} ${ex.path}) before it runs, so with ${controls} configured it refuses it rather than let it through unmetered; send it to the provider directly.`;
      return { status: 403, body: ex.route.errors.errorBody(403, 'invalid_request', message), errorType: 'invalid_request', errorMessage: message };
    },
  };
}
