/**
 * What the fleet capability offers (type-only imports): the `fleet` service, null when no
 * `--redis-url` is set (every instance then keeps its limits, cache and live view to itself).
 */
import type { FleetBus } from './bus.js';
import type { RedisLink } from './link.js';

export interface Fleet {
  /** This instance's id in the fleet (`--instance-id`, else `<hostname>-<pid>`). */
  readonly instance: string;
  /** Prefix of every key and channel. */
  readonly prefix: string;
  readonly redis: RedisLink;
  readonly bus: FleetBus;
}

declare module '../../core/plugin.js' {
  interface Services {
    fleet: Fleet | null;
  }
}

export type { RedisLink } from './link.js';
