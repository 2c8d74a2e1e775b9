/**
 * What the proxy capability offers other capabilities (type-only imports): the `proxy`
 * service (stages, the upstream forwarder, exchanges for requests answered off the proxy
 * path) and the types of the request path (`Exchange`, `ProxyStage`, ...).
 */
import type { Agent } from 'undici';
import type { OutcomeKind } from '../../core/outcome.js';
import type { RouteRequest } from '../../core/router.js';
import type { ProviderRoute } from '../../providers/routes.js';
import type { Exchange } from './exchange.js';
import type { ForwardOptions } from './forward.js';
import type { CompletedResponse, ProxyStage } from './stage.js';

export type { Exchange, ExchangeHost } from './exchange.js';
export type { ForwardOptions, RelayTap } from './forward.js';
export type { CompletedResponse, ProxyStage, StageReply } from './stage.js';

export interface ProxyService {
  /** The keep-alive client every upstream call goes through. */
  readonly agent: Agent;
  /** The stages, in the order they run. */
  readonly stages: readonly ProxyStage[];
  /** Adds a stage; stages run by `order` (see `stage.ts`), then in the order added. */
  addStage(stage: ProxyStage): void;
  /** Forwards an exchange upstream (retries, relay, usage): for stages that drive the upstream exchange themselves (`ex.forwardWith`). */
  forward(ex: Exchange, opts?: ForwardOptions): Promise<void>;
  /** Runs every stage's `afterResponse` on a completed non-streaming response. */
  runResponseStages(ex: Exchange, completed: CompletedResponse): void;
  /** An exchange for a request answered off the proxy path (`/v1/compress`): one outcome, tracked for shutdown. */
  exchange(r: RouteRequest, route: ProviderRoute, kind: OutcomeKind): Exchange;
}

declare module '../../core/plugin.js' {
  interface Services {
    proxy: ProxyService;
  }
}
