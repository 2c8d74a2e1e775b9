/** What the proxy path runs on: the app's funnel and request ids, the upstream client and the stages. */
import type { Agent } from 'undici';
import type { Funnel } from '../../core/funnel.js';
import type { Logger } from '../../core/logger.js';
import type { ExchangeHost } from './exchange.js';
import type { ProxyStage } from './stage.js';

export interface ProxyHost extends ExchangeHost {
  readonly agent: Agent;
  readonly stages: readonly ProxyStage[];
  readonly log: Logger;
  readonly funnel: Funnel;
}
