/**
 * The fleet capability: the shared Redis of several instances (`--redis-url`). Provides the
 * connection (failing open), this instance's id and the notification bus; the capabilities
 * that decide things fleet-wide use it when present (controls: rate limits and the response
 * cache; live: the fleet view; stats and hook: notifications). Adds the `redis` health check,
 * degraded (never unready) while Redis is unreachable or failing.
 */
import { hostname } from 'node:os';
import { definePlugin } from '../../core/plugin.js';
import type {} from './api.js';
import { FleetBus } from './bus.js';
import { RedisLink, safeRedisUrl } from './link.js';

export const fleetPlugin = definePlugin({
  name: 'fleet',
  provides: ['fleet'],
  setup({ app }) {
    const c = app.config;
    if (!c.redisUrl) {
      app.healthChecks.set('redis', () => ({ enabled: false, ready: true }));
      return { fleet: null };
    }
    const instance = c.instanceId ?? `${hostname()}-${process.pid}`;
    const redis = new RedisLink(c.redisUrl, c.redisTimeoutMs, app.log);
    const bus = new FleetBus(redis, c.redisPrefix, instance, app.log);
    app.onClose(() => {
      bus.close();
      redis.close();
    });
    app.healthChecks.set('redis', () => ({
      enabled: true,
      // Redis down: requests still flow (limits and cache fail open), so the instance stays ready
      ready: true,
      degraded: redis.degraded,
      url: safeRedisUrl(c.redisUrl!),
      connected: redis.connected,
      instance,
      failures: redis.failures,
      error: redis.degraded ? redis.lastError : null,
    }));
    app.log.info({ redis: safeRedisUrl(c.redisUrl), instance, prefix: c.redisPrefix }, 'fleet: shared redis');
    return { fleet: { instance, prefix: c.redisPrefix, redis, bus } };
  },
});
