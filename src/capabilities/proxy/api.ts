/**
 * What the proxy capability offers other capabilities (type-only imports): the `proxy`
 * service (stages, forwarding links, the upstream client) and the types of the request path
 * (`Exchange`, `ProxyStage`, `ForwardLink`, ...).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Agent } from 'undici';
import type { RouteRequest } from '../../core/router.js';
import type { ProviderRoute } from '../../providers/routes.js';
import type { ForwardLink } from './chain.js';
import type { ProxyStage } from './stage.js';

export type { Exchange, ExchangeHost } from './exchange.js';
export type { CallFailure, CallHandler, Dispatch, FlowControl, ForwardCall, ForwardLink, LinkContext } from './chain.js';
export type { CompletedResponse, ProxyStage, StageReply } from './stage.js';
export type { UpstreamTarget } from './target.js';

export interface ProxyService {
  /** The keep-alive client every upstream call goes through. */
  readonly agent: Agent;
  /** The stages, in the order they run. */
  readonly stages: readonly ProxyStage[];
  /** Adds a stage; stages run by `order` (see `stage.ts`), then in the order added. */
  addStage(stage: ProxyStage): void;
  /** Adds a link to the forwarding chain, at its `position` (see `chain.ts`). */
  addLink(link: ForwardLink): void;
  /**
   * Adds provider routes of another capability (the cloud platforms' paths): consulted before
   * the built-in ones; null: not one of its paths.
   */
  addRouteResolver(resolve: RouteResolver): void;
  /** The proxy's request handler, for the router entries of added routes. */
  readonly handle: (r: RouteRequest) => Promise<void>;
}

export type RouteResolver = (method: string, path: string, headers: IncomingHttpHeaders) => ProviderRoute | null;

declare module '../../core/plugin.js' {
  interface Services {
    proxy: ProxyService;
  }
}

/** A request translated between API formats (`links/translation.ts`). */
export interface TranslationSummary {
  /** The client's format (`anthropic`, `openai`). */
  from: string;
  /** The upstream's format. */
  to: string;
  /** Request fields the target format has no counterpart for (names only). */
  dropped: string[];
}

declare module '../../core/outcome.js' {
  interface OutcomeExtensions {
    translation?: TranslationSummary;
  }
}
