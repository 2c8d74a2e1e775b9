/** Per-request facts the control stages share: whether a request is metered, and its estimate (computed once). */
import type { Exchange } from '../proxy/api.js';
import { estimateRequest, type RequestEstimate } from './estimate.js';

/** LLM calls that cost money: Messages, Chat Completions, Responses (not count_tokens, models or passthrough). */
export function isMetered(ex: Exchange): boolean {
  const api = ex.route.api;
  return ex.json !== null && ex.route.adapter !== null && (api === 'messages' || api === 'chat' || api === 'responses' || api === 'generate_content');
}

const estimates = new WeakMap<Exchange, RequestEstimate>();

/** The request's estimate, from the parsed body as the client sent it (before any compression). */
export function estimateOf(ex: Exchange, defaultMaxTokens: number): RequestEstimate {
  let est = estimates.get(ex);
  if (!est) {
    est = estimateRequest(ex.route.api, ex.json ?? {}, defaultMaxTokens);
    estimates.set(ex, est);
  }
  return est;
}
