/**
 * CCR on the proxy path: a stage and a link of the forwarding chain.
 *
 * The `ccr` stage (order 200) only takes the request in: it applies (`--ccr-inject-tool`,
 * `optimize` mode) or not. The `ccr` link (position 500, between the usage observer and the
 * retries) acts at forward time, on the body every stage (compression included) produced:
 *
 * - the tool is added to every request that brings tools of its own, and to a tool-less one
 *   that shows a marker (`inject.ts`: decided from the request alone, so a conversation's
 *   tools array is the same on every turn);
 * - `headroom_retrieve` calls in the response are answered by the proxy (`resolve/session.ts`),
 *   each follow-up round going down the rest of the chain like the client's own call;
 * - requests that need neither pass down the chain untouched.
 *
 * `count_tokens` gets the tool the same way (so counts match what will be sent) and is never
 * resolved. `x-headroom-bypass` and `x-headroom-mode: passthrough|audit` requests are left
 * alone (they promise the original bytes upstream), and so is everything with `--no-optimize`
 * (nothing is ever cut, so there is nothing to retrieve).
 */
import type { Config } from '../../config/index.js';
import type { Logger } from '../../core/logger.js';
import type { ApiKind } from '../../core/outcome.js';
import { requestedMode } from '../../core/request-mode.js';
import type { CcrStore } from '../../originals/store.js';
import type { CallHandler, Dispatch, Exchange, ForwardCall, ForwardLink, ProxyStage } from '../proxy/api.js';
import type { CcrSummary } from './api.js';
import { decideInjection } from './inject.js';
import { codecFor, resolveCall } from './resolve/session.js';

export interface CcrPathDeps {
  config: Config;
  log: Logger;
  store: CcrStore;
}

const APIS: readonly ApiKind[] = ['messages', 'count_tokens', 'chat', 'responses'];
/** The link's place in the chain (the proxy's `LINK_POSITION.ccr`). */
const POSITION = 500;

export function emptyCcrSummary(): CcrSummary {
  return { toolInjected: null, clientTool: false, markers: 0, retrievals: 0, hits: 0, misses: 0, rounds: 0, tokensRetrieved: 0, dropped: 0, hashes: [] };
}

/** The `ccr` stage and the `ccr` link; the stage tells the link which requests it takes. */
export function ccrPath(deps: CcrPathDeps): { stage: ProxyStage; link: ForwardLink } {
  const taken = new WeakSet<Exchange>();
  const stage: ProxyStage = {
    name: 'ccr',
    order: 200,
    apis: APIS,
    beforeUpstream(ex: Exchange) {
      if (!deps.config.ccrInjectTool || !ex.json) return;
      if (requestedMode(ex.req.headers, deps.config.optimize) !== 'optimize') return;
      taken.add(ex);
    },
  };
  const link: ForwardLink = {
    name: 'ccr',
    position: POSITION,
    apis: APIS,
    wrap: (next) => (call, out) => {
      if (call.round !== 0 || !taken.has(call.ex)) return next(call, out);
      run(call, next, out, deps);
    },
  };
  return { stage, link };
}

function run(call: ForwardCall, next: Dispatch, out: CallHandler, deps: CcrPathDeps): void {
  const { ex } = call;
  const { log, store } = deps;
  const prior = ex.rec.ext.ccr;
  // another attempt of the same request (routing's fallback or key rotation): the tool is in already
  if (prior && prior.toolInjected !== null) return resolveWith(call, next, out, deps, prior);
  const t0 = performance.now();
  const body = ex.modified ? ex.forwardBody : ex.plainBody;
  let decision;
  try {
    decision = decideInjection(ex, body, store);
  } catch (err) {
    log.warn({ err: (err as Error)?.message }, 'CCR tool injection failed; forwarding unchanged');
    return next(call, out);
  }
  if (decision.kind === 'none') {
    ex.rec.overheadMs += performance.now() - t0;
    return next(call, out);
  }
  const summary = emptyCcrSummary();
  ex.rec.ext.ccr = summary;
  if (decision.kind === 'client_tool') {
    summary.clientTool = true;
    return next(call, out);
  }
  summary.toolInjected = decision.reason;
  summary.markers = decision.markers;
  ex.setForwardBody(decision.body);
  ex.rec.overheadMs += performance.now() - t0;
  resolveWith(call, next, out, deps, summary);
}

/** Answers the call's `headroom_retrieve` calls in the proxy (follow-up rounds down `next`). */
function resolveWith(call: ForwardCall, next: Dispatch, out: CallHandler, deps: CcrPathDeps, summary: CcrSummary): void {
  const { ex } = call;
  const { log, store } = deps;
  const codec = ex.route.api === 'count_tokens' ? null : codecFor(ex.route.api);
  if (!codec) return next(call, out);
  resolveCall(call, next, out, codec, { store, maxRounds: deps.config.ccrMaxRetrievalRounds, summary }, log).catch((err: unknown) => {
    log.error({ err: (err as Error)?.message ?? String(err) }, 'CCR resolution failed');
    out.onError({ kind: 'other', midBody: ex.res.headersSent, status: 500, type: 'internal', message: `CCR resolution failed: ${(err as Error)?.message ?? String(err)}` });
  });
}
