/** What the proxy path runs on: the app's funnel and request ids, the route plans (stages and forwarding chain). */
import type { Funnel } from '../../core/funnel.js';
import type { Logger } from '../../core/logger.js';
import type { ExchangeHost } from './exchange.js';
import type { RoutePlans } from './plan.js';

export interface ProxyHost extends ExchangeHost {
  readonly plans: RoutePlans;
  readonly log: Logger;
  readonly funnel: Funnel;
}
