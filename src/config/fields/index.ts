import type { ConfigOf } from '../field.js';
import { compressionFields } from './compression.js';
import { proxyFields } from './proxy.js';
import { serverFields } from './server.js';

/** Every configuration field of headroom-ts. Each capability adds its own group file here. */
export const allFields = {
  ...serverFields,
  ...proxyFields,
  ...compressionFields,
} as const;

export type Config = ConfigOf<typeof allFields>;
export type ConfigKey = keyof Config;
