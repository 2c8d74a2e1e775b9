/**
 * What the routing capability offers (type-only imports): the `routing` service (reload, the
 * registry's providers, the breakers) and the `routing` outcome extension (the requested
 * model, the provider and model that answered, every attempt).
 */
import type { BreakerSnapshot, Registry } from '../../routing/index.js';

/** One routing attempt: a target (and key) tried, or skipped because its breaker was open. */
export interface RoutingAttempt {
  provider: string;
  model: string;
  /** Upstream status; null when no response arrived (or the attempt was skipped). */
  status: number | null;
  /** Failure kind when no response arrived (`connect`, `timeout`, ...), `breaker_open` when skipped. */
  error: string | null;
  /** Dispatch -> response headers or failure, retries of the same target included (0 when skipped). */
  durationMs: number;
  /** Position of the server-side key in the provider's pool (never the key); null: the client's key. */
  key: number | null;
}

export interface RoutingSummary {
  /** The model the client asked for. */
  requestedModel: string;
  /** The provider and model of the last attempt (the one that answered, when one did). */
  provider: string;
  model: string;
  /** How the model was resolved: alias, pattern, explicit, default, fallback. */
  via: string;
  /** The alias or pattern that matched. */
  alias: string | null;
  /** The provider speaks another format than the client. */
  translated: boolean;
  /** The wire format of that provider (`openai`, `anthropic`, `gemini`, `azure`): prices a Gemini or Azure target at the platform's price. */
  format?: string;
  attempts: RoutingAttempt[];
}

export interface ReloadResult {
  ok: boolean;
  /** The file read (null: no routing file, only the default providers). */
  file: string | null;
  providers: string[];
  aliases: number;
  patterns: number;
  fallbacks: number;
  /** Why the new file was refused (the old registry stays). */
  error?: string;
}

/** The `routing` section of `/stats` (its wire schema: `routingSectionSchema` in the stats capability). */
export interface RoutingSection {
  file: string | null;
  providers: string[];
  aliases: number;
  patterns: number;
  fallbacks: number;
  breakers: Record<string, { state: 'closed' | 'open' | 'half-open'; consecutive_failures: number; retry_at: string | null; opened: number }>;
  attempts: Record<string, { ok: number; failed: number; skipped: number }>;
}

export interface RoutingService {
  /** Re-reads the routing file; a bad file keeps the registry in use. */
  reload(): ReloadResult;
  /** Names of the registered providers. */
  providers(): string[];
  breakers(): Record<string, BreakerSnapshot>;
  /** The registry in use and the routing file it was built from (null: no file). */
  current(): { registry: Registry; file: Readonly<Record<string, unknown>> | null };
  /** Called after each successful reload (a refused file keeps the registry and calls nothing). */
  onReload(listener: () => void): void;
}

declare module '../../core/plugin.js' {
  interface Services {
    routing: RoutingService;
  }
}

declare module '../../core/outcome.js' {
  interface OutcomeExtensions {
    routing?: RoutingSummary;
  }
}
