/**
 * The CCR proxy stage. It only claims the upstream exchange (`ex.forwardWith`), so it can run
 * anywhere in the stage order: the decision is taken at forward time, on the body every other
 * stage (compression included) produced. Then:
 *
 * - the tool is added to every request that brings tools of its own, and to a tool-less one
 *   that shows a marker (`inject.ts`: decided from the request alone, so a conversation's
 *   tools array is the same on every turn);
 * - `headroom_retrieve` calls in the response are answered by the proxy (`resolve/session.ts`);
 * - requests that need neither go through the plain forwarder untouched.
 *
 * `count_tokens` gets the tool the same way (so counts match what will be sent) and is never
 * resolved. `x-headroom-bypass` and `x-headroom-mode: passthrough|audit` requests are left
 * alone (they promise the original bytes upstream), and so is everything with `--no-optimize`
 * (nothing is ever cut, so there is nothing to retrieve).
 */
import type { Config } from '../../config/index.js';
import type { Logger } from '../../core/logger.js';
import { requestedMode } from '../../core/request-mode.js';
import type { CcrStore } from '../../originals/store.js';
import type { Exchange, ProxyStage } from '../proxy/api.js';
import type { CcrSummary } from './api.js';
import { decideInjection } from './inject.js';
import { codecFor, type ResolveHost, resolveExchange } from './resolve/session.js';

export interface CcrStageDeps {
  config: Config;
  log: Logger;
  store: CcrStore;
  /** The proxy's forwarder, the app's funnel and log. */
  host: ResolveHost;
}

const APIS = new Set(['messages', 'count_tokens', 'chat', 'responses']);

export function emptyCcrSummary(): CcrSummary {
  return { toolInjected: null, clientTool: false, markers: 0, retrievals: 0, hits: 0, misses: 0, rounds: 0, tokensRetrieved: 0, dropped: 0, hashes: [] };
}

export function ccrStage(deps: CcrStageDeps): ProxyStage {
  const { store, log } = deps;
  return {
    name: 'ccr',
    order: 200,
    beforeUpstream(ex: Exchange) {
      if (!deps.config.ccrInjectTool || !APIS.has(ex.route.api) || !ex.json) return;
      if (requestedMode(ex.req.headers, deps.config.optimize) !== 'optimize') return;
      ex.forwardWith = (e) => run(e, deps.host, store, deps, log);
    },
  };
}

async function run(ex: Exchange, host: ResolveHost, store: CcrStore, deps: CcrStageDeps, log: Logger): Promise<void> {
  const t0 = performance.now();
  const body = ex.modified ? ex.forwardBody : ex.plainBody;
  const countOnly = ex.route.api === 'count_tokens';
  let decision;
  try {
    decision = decideInjection(ex, body, store);
  } catch (err) {
    log.warn({ err: (err as Error)?.message }, 'CCR tool injection failed; forwarding unchanged');
    return host.forward(ex);
  }
  if (decision.kind === 'none') {
    ex.overheadMs += performance.now() - t0;
    return host.forward(ex);
  }
  const summary = emptyCcrSummary();
  ex.ext.ccr = summary;
  if (decision.kind === 'client_tool') {
    summary.clientTool = true;
    return host.forward(ex);
  }
  summary.toolInjected = decision.reason;
  summary.markers = decision.markers;
  ex.setForwardBody(decision.body);
  ex.overheadMs += performance.now() - t0;
  const codec = countOnly ? null : codecFor(ex.route.api);
  if (!codec) return host.forward(ex);
  return resolveExchange(ex, host, codec, { store, maxRounds: deps.config.ccrMaxRetrievalRounds, summary });
}
