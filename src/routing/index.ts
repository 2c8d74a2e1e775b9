/**
 * Routing: the provider registry, model resolution, fallbacks, key rotation and circuit
 * breakers. A library: it knows nothing of the App or the proxy that will use it.
 */
export { API_FORMATS, type ApiFormat, PROVIDER_NAME, wireFormatOf, type RoutingFile, RoutingConfigError, parseRoutingFile, routingFileSchema } from './schema.js';
export { PASSTHRU, envPrefix, envSettings, type EnvProviderSettings } from './env.js';
export {
  type AliasPattern,
  MAX_ALIAS_CHAIN,
  type ModelTarget,
  type Provider,
  type Registry,
  type RegistryInput,
  RoutingError,
  buildRegistry,
  explicitTarget,
  refOf,
  splitRef,
} from './registry.js';
export { type ResolvedModel, resolveModel, targetsFor, upstreamUrl } from './resolve.js';
export { KeyPool, KeyRotation, shouldRotateKey } from './keys.js';
export {
  type AttemptFailure,
  BreakerSet,
  type BreakerOptions,
  type BreakerSnapshot,
  type BreakerState,
  CircuitBreaker,
  DEFAULT_COOLDOWN_MS,
  DEFAULT_FAILURE_THRESHOLD,
  shouldFallback,
} from './breaker.js';
export { globMatch } from './glob.js';
