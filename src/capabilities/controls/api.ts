/** What the controls capability offers (type-only imports): the `controls` service, its budget, limiter and response cache (null when off). */
import type { BudgetControl } from './budget/control.js';
import type { ResponseCacheStage } from './cache/stage.js';
import type { RateLimiter } from './rate-limit/limiter.js';

export interface Controls {
  budget: BudgetControl | null;
  limiter: RateLimiter | null;
  cache: ResponseCacheStage | null;
}

declare module '../../core/plugin.js' {
  interface Services {
    controls: Controls;
  }
}
