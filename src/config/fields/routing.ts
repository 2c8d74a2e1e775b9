import { field } from '../field.js';

/**
 * Routing: where the provider registry (`providers`, `model_aliases`, `fallbacks`) is read from,
 * and the circuit breakers. The registry sections themselves are file sections, not options
 * (see `../sections.ts`): the routing capability reads them from this file at start-up and on
 * every reload (`SIGHUP`, `POST /admin/reload`).
 */
export const routingFields = {
  routingConfig: field.optionalString({
    flag: 'routing-config', env: ['HEADROOM_ROUTING_CONFIG'], default: null, group: 'routing', defaultText: 'the --config file',
    doc: 'YAML/JSON file whose `providers`, `model_aliases` and `fallbacks` sections make the provider registry (see docs/routing.md); read at start-up and again on `SIGHUP` or `POST /admin/reload`. Default: the `--config` file. Without either, requests go to `--anthropic-api-url` / `--openai-api-url` as before.',
  }),
  routingBreakerFailures: field.int({
    flag: 'routing-breaker-failures', env: ['HEADROOM_ROUTING_BREAKER_FAILURES'], default: 5, min: 1, max: 1000, group: 'routing',
    doc: 'Consecutive failed attempts (connect errors, timeouts, 429, 5xx) after which a provider\'s circuit breaker opens and the provider is skipped.',
  }),
  routingBreakerCooldownSeconds: field.number({
    flag: 'routing-breaker-cooldown-seconds', env: ['HEADROOM_ROUTING_BREAKER_COOLDOWN_SECONDS'], default: 30, min: 0, max: 3600, group: 'routing',
    doc: 'How long an open circuit breaker skips its provider before one probe request is let through (its success closes the breaker).',
  }),
} as const;
