/** What the controls capability offers (type-only imports): the `controls` service, its budget, limiter and response cache (null when off). */
import type { BudgetControl } from './budget/control.js';
import type { ResponseCacheStage } from './cache/stage.js';
import type { RateLimiter } from './rate-limit/limiter.js';
import type { VirtualKeys } from './keys/registry.js';

export interface Controls {
  budget: BudgetControl | null;
  limiter: RateLimiter | null;
  cache: ResponseCacheStage | null;
  /** The `keys:` section's virtual keys (null: none configured, client keys pass through). */
  keys: VirtualKeys | null;
}

declare module '../../core/plugin.js' {
  interface Services {
    controls: Controls;
  }
}

declare module '../../core/outcome.js' {
  interface OutcomeExtensions {
    /** The name of the virtual key the request was admitted with (`keys:`); never the key or its hash. */
    virtualKey?: string;
  }
}
