/**
 * Route plans: what runs for one route (provider + API), resolved once and reused for every
 * request of that route: its stages (by `order`, only those whose `apis` name the route's API)
 * and its forwarding chain (its links by `position`, filtered by API and provider, around the
 * terminal relay).
 * Adding a stage or a link (at setup) drops the plans built so far.
 */
import type { Logger } from '../../core/logger.js';
import type { ProviderRoute } from '../../providers/routes.js';
import { compose, type Dispatch, type ForwardLink, type LinkContext } from './chain.js';
import type { Exchange } from './exchange.js';
import { type CompletedResponse, DEFAULT_STAGE_ORDER, type ProxyStage } from './stage.js';

export interface RoutePlan {
  /** The stages that apply to the route, in run order. */
  readonly stages: readonly ProxyStage[];
  /** The route's forwarding chain. */
  readonly dispatch: Dispatch;
  runResponseStages(ex: Exchange, completed: CompletedResponse): void;
}

const applies = (apis: readonly string[] | undefined, api: string) => apis === undefined || apis.includes(api);

export class RoutePlans {
  private readonly plans = new Map<string, RoutePlan>();
  /** Every stage, in run order. */
  readonly stages: ProxyStage[] = [];
  private readonly links: ForwardLink[] = [];

  constructor(
    private readonly terminal: Dispatch,
    private readonly log: Logger,
  ) {}

  addStage(stage: ProxyStage): void {
    const order = stage.order ?? DEFAULT_STAGE_ORDER;
    const at = this.stages.findIndex((s) => (s.order ?? DEFAULT_STAGE_ORDER) > order);
    if (at === -1) this.stages.push(stage);
    else this.stages.splice(at, 0, stage);
    this.plans.clear();
  }

  addLink(link: ForwardLink): void {
    if (this.links.some((l) => l.name === link.name)) throw new Error(`forwarding link "${link.name}" is already registered`);
    this.links.push(link);
    this.plans.clear();
  }

  /** The plan of a route, built on its first request. */
  for(route: ProviderRoute): RoutePlan {
    const key = `${route.provider}/${route.api}`;
    let plan = this.plans.get(key);
    if (!plan) {
      plan = this.build(route);
      this.plans.set(key, plan);
    }
    return plan;
  }

  private build(route: ProviderRoute): RoutePlan {
    const api = route.api;
    const stages = this.stages.filter((s) => applies(s.apis, api));
    const after = stages.filter((s) => s.afterResponse);
    const log = this.log;
    const runResponseStages = (ex: Exchange, completed: CompletedResponse) => {
      for (const stage of after) {
        try {
          stage.afterResponse!(ex, completed);
        } catch (err) {
          log.error({ err: err instanceof Error ? err.message : String(err), stage: stage.name }, 'response stage failed');
        }
      }
    };
    const ctx: LinkContext = { api, responseStages: after.length, runResponseStages };
    const dispatch = compose(this.links.filter((l) => applies(l.apis, api) && applies(l.providers, route.provider)), this.terminal, ctx);
    return { stages, dispatch, runResponseStages };
  }
}
