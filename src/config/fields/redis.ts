import { field } from '../field.js';

/** The shared Redis of a fleet of instances: rate limits, response cache, live view, notifications. */
export const redisFields = {
  redisUrl: { ...field.optionalString({
    flag: 'redis-url', env: ['HEADROOM_REDIS_URL'], default: null, group: 'fleet',
    doc: 'A `redis://` (or `rediss://`) URL shared by every instance of a fleet: rate-limit buckets, the exact response cache, the fleet live view and cross-instance notifications (cache clear, stats reset, hook config) are decided there. Unset: each instance keeps them in its own memory. Redis down or slow never stops requests: limits and cache fail open, `/health` reports `redis` degraded.',
  }), secret: true },
  redisPrefix: field.string({
    flag: 'redis-prefix', env: ['HEADROOM_REDIS_PREFIX'], default: 'headroom:', group: 'fleet',
    doc: 'Prefix of every Redis key and channel of this fleet (several fleets can share one Redis).',
  }),
  redisTimeoutMs: field.int({
    flag: 'redis-timeout-ms', env: ['HEADROOM_REDIS_TIMEOUT_MS'], default: 500, min: 10, max: 10_000, group: 'fleet',
    doc: 'Longest a request waits for one Redis command (connect included) before it goes on without it (fail open).',
  }),
  instanceId: field.optionalString({
    flag: 'instance-id', env: ['HEADROOM_INSTANCE_ID'], default: null, group: 'fleet',
    doc: 'This instance\'s name in the fleet live view. Unset: `<hostname>-<pid>`.',
  }),
} as const;
