import type { ConfigOf } from '../field.js';
import { dashboardFields } from './dashboard.js';
import { controlsFields } from './controls.js';
import { hookFields } from './hook.js';
import { keysFields } from './keys.js';
import { liveFields } from './live.js';
import { observabilityFields } from './observability.js';
import { otelFields } from './otel.js';
import { ccrFields } from './ccr.js';
import { compatFields } from './compat.js';
import { compressionFields } from './compression.js';
import { proxyFields } from './proxy.js';
import { routingFields } from './routing.js';
import { azureGeminiFields } from './azure-gemini.js';
import { redisFields } from './redis.js';
import { serverFields } from './server.js';
import { storageFields } from './storage.js';

/** Every configuration field of headroom-ts. Each capability adds its own group file here. */
export const allFields = {
  ...serverFields,
  ...proxyFields,
  ...azureGeminiFields,
  ...liveFields,
  ...observabilityFields,
  ...otelFields,
  ...compressionFields,
  ...compatFields,
  ...ccrFields,
  ...dashboardFields,
  ...controlsFields,
  ...hookFields,
  ...routingFields,
  ...keysFields,
  ...redisFields,
  ...storageFields,
} as const;

export type Config = ConfigOf<typeof allFields>;
export type ConfigKey = keyof Config;
