/**
 * What the hook capability offers (type-only imports): the `hook` service (settings, worker
 * pool, handler) and the `hook` outcome extension (the facts of one Aperture hook call).
 */
import type { HookFacts } from './facts.js';
import type { HookService } from './service.js';

export type { HookFacts, HookOutcomeName } from './facts.js';
export type { HookService } from './service.js';

declare module '../../core/plugin.js' {
  interface Services {
    /** Null: installed on the proxy, but the hook is off (`--hook` not set). */
    hook: HookService | null;
  }
}

declare module '../../core/outcome.js' {
  interface OutcomeExtensions {
    /** Facts of an Aperture hook call (kind `hook` only). */
    hook?: HookFacts;
  }
}
