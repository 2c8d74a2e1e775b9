/**
 * The controls capability: spend budgets, rate limits and the exact response cache, as proxy
 * stages, plus the outcome sink that settles them, their `/stats` blocks (`budget`,
 * `rate_limiter`, `cache`), health checks, Prometheus families and `POST /cache/clear`.
 *
 * Needs the proxy (its stages) and the stats service (a request's cost); adds its families to
 * the metrics registry when the metrics capability is installed. Stage order (`order`, see
 * `proxy/stage.ts`), whatever order the plugins are listed in:
 *   100 `unpriced`: billable requests no control can price are refused (with a budget or limit);
 *   110 `rate_limit`: the cheapest refusal, and it must count every request;
 *   120 `response_cache`: keyed on the body as the client sent it; a hit costs nothing, so it
 *       is served even when the budget is spent;
 *   130 `budget`: reserves the request's worst-case cost;
 *   then CCR and compression (other capabilities), then the upstream call.
 */
import type { Config } from '../../config/index.js';
import { sendJson } from '../../core/http.js';
import { definePlugin, type Plugin } from '../../core/plugin.js';
import { checkAccess, type RouteRequest } from '../../core/router.js';
import { BudgetControl, budgetConfigured } from './budget/control.js';
import { openBudgetDb } from './budget/store.js';
import { RedisResponseCache } from './cache/redis.js';
import { PgBudgetLedger } from './budget/pg-ledger.js';
import { budgetSchema } from './budget/pg-schema.js';
import type { BudgetStoreInfo } from './budget/control.js';
import type {} from '../storage/api.js';
import { ResponseCacheStage } from './cache/stage.js';
import { registerControlMetrics } from './metrics.js';
import { RateLimiter } from './rate-limit/limiter.js';
import { RedisBuckets } from './rate-limit/redis.js';
import { unpricedStage } from './unpriced.js';
import { credentialsLink, DEFAULT_KEY_ENV, defaultServerKeys } from './keys/credentials.js';
import { VirtualKeyLimits } from './keys/limits.js';
import { VirtualKeys } from './keys/registry.js';
import { VirtualKeySpend } from './keys/spend.js';
import { virtualKeyStage } from './keys/stage.js';

/** Requests per minute when the limiter is turned on without `--rpm` (Headroom's default). */
export const DEFAULT_RPM = 60;

export interface ControlsOptions {
  /** Clock for budget periods, buckets and cache TTLs (tests). */
  now?: () => number;
  /** Budget store write interval (default 250 ms). */
  budgetFlushMs?: number;
  /** Where the default providers' server-side keys are read with virtual keys on (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

import type { Controls } from './api.js';

export type { Controls } from './api.js';

/** Effective limiter rates: `--rpm`/`--tpm` as given; `--rate-limit` alone means 60 requests/min. */
export function limiterRates(c: Pick<Config, 'rateLimit' | 'rpm' | 'tpm'>): { rpm: number | null; tpm: number | null } {
  const rpm = c.rpm ?? (c.rateLimit ? DEFAULT_RPM : null);
  return { rpm, tpm: c.tpm };
}

export function createControlsPlugin(opts: ControlsOptions = {}): Plugin {
  return definePlugin({
    name: 'controls',
    needs: ['proxy', 'stats'],
    optional: ['metrics', 'database', 'fleet'],
    provides: ['controls'],
    async setup(ctx) {
      const { app } = ctx;
      const proxy = ctx.need('proxy');
      const stats = ctx.need('stats');
      const c = app.config;
      const now = opts.now ?? Date.now;
      const keys = c.keys ? new VirtualKeys(c.keys) : null;
      const controls: Controls = { budget: null, limiter: null, cache: null, keys };
      // with a fleet Redis, rate-limit buckets and the response cache are shared by every instance
      const fleet = ctx.optional('fleet');

      let budgetStore: BudgetStoreInfo | null = null;
      const database = ctx.optional('database');
      const shared = c.stateless ? null : (database?.db ?? null);
      if (budgetConfigured(c) && shared) {
        await database!.migrate(budgetSchema);
        // the fleet's ledger in the shared database: leases granted by one atomic statement, requests admitted from them in memory
        const book = new PgBudgetLedger({ db: shared, log: app.log, now, onStoreFailure: c.budgetOnStoreFailure, ...(opts.budgetFlushMs ? { flushMs: opts.budgetFlushMs } : {}) });
        budgetStore = { backend: 'postgres', path: shared.where, openError: null, movedAside: null };
        const budget = new BudgetControl({ config: c, store: null, book, log: app.log, accounting: (o) => stats.accountingOf(o), now });
        controls.budget = budget;
        app.onClose(() => budget.close());
      } else if (budgetConfigured(c)) {
        const store = openBudgetDb(c, app.log);
        budgetStore = store;
        const budget = new BudgetControl({ config: c, store, log: app.log, accounting: (o) => stats.accountingOf(o), now, keyBudget: (name) => keys?.named(name)?.budgetUsd ?? null, ...(opts.budgetFlushMs ? { flushMs: opts.budgetFlushMs } : {}) });
        controls.budget = budget;
        app.onClose(() => {
          void budget.close();
          store.close();
        });
      }
      const statusHeaders = controls.budget ? controls.budget.statusHeaders.bind(controls.budget) : undefined;

      // the fleet's buckets sweep what they owe Redis on a timer: stopped with the app
      const redisBuckets: RedisBuckets[] = [];
      const bucketsIn = (prefix: string, brpm: number | null, btpm: number | null): RedisBuckets => {
        const b = new RedisBuckets(fleet!.redis, prefix, brpm, btpm);
        redisBuckets.push(b);
        return b;
      };
      app.onClose(() => {
        for (const b of redisBuckets) b.close();
      });
      const { rpm, tpm } = limiterRates(c);
      if (rpm !== null || tpm !== null) {
        controls.limiter = new RateLimiter({
          rpm, tpm, by: c.rateLimitBy, defaultMaxTokens: c.budgetDefaultMaxTokens, now, ...(statusHeaders ? { extraHeaders: statusHeaders } : {}),
          ...(fleet ? { backend: bucketsIn(fleet.prefix, rpm, tpm) } : {}),
        });
      }
      if (c.cache) {
        controls.cache = new ResponseCacheStage({
          ttlSeconds: c.cacheTtl, maxBytes: c.cacheMaxBytes, maxEntries: c.cacheMaxEntries, now, ...(statusHeaders ? { extraHeaders: statusHeaders } : {}),
          ...(fleet ? { shared: new RedisResponseCache(fleet.redis, fleet.prefix, c.cacheMaxBytes, c.cacheMaxEntries) } : {}),
        });
        const local = controls.cache;
        fleet?.bus.on('cache_clear', () => void local.clear());
      }
      const { budget, limiter, cache } = controls;

      // virtual keys: admission (401/403) first, the proxy's own provider key on every call, per-key limits
      let keyLimits: VirtualKeyLimits | null = null;
      let keySpend: VirtualKeySpend | null = null;
      if (keys) {
        proxy.addStage(virtualKeyStage(keys));
        const serverKeys = defaultServerKeys(opts.env ?? process.env);
        proxy.addLink(credentialsLink(c, serverKeys));
        const sharedBuckets = fleet
          ? (name: string, krpm: number | null, ktpm: number | null) => bucketsIn(`${fleet.prefix}vk:${Buffer.from(name).toString('hex')}:`, krpm, ktpm)
          : undefined;
        keyLimits = new VirtualKeyLimits(keys, c.budgetDefaultMaxTokens, now, sharedBuckets);
        if (keyLimits.size > 0) proxy.addStage(keyLimits);
        const spend = new VirtualKeySpend(keys, (o) => stats.accountingOf(o), now);
        keySpend = spend;
        stats.onReset(() => spend.reset());
        const missing = Object.entries(DEFAULT_KEY_ENV).filter(([p]) => !serverKeys.has(p)).map(([, name]) => name);
        app.log.info({ virtual_keys: keys.keys.length, server_keys_from_env: [...serverKeys.keys()] }, 'virtual keys enabled: client keys are checked and never forwarded');
        if (missing.length) {
          app.log.warn({ missing }, `virtual keys are on and ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not set: requests to that default provider are refused unless the provider registry gives it a key`);
        }
      }

      // a virtual key's own rate limit counts as a rate limit (its budget already made `budget`)
      const rateLimited = limiter !== null || (keyLimits?.size ?? 0) > 0;
      if (rateLimited || budget) proxy.addStage(unpricedStage([budget ? 'a budget' : null, rateLimited ? 'a rate limit' : null].filter(Boolean).join(' and ')));
      if (limiter) proxy.addStage(limiter);
      if (cache) proxy.addStage(cache);
      if (budget) proxy.addStage(budget);
      if (limiter || budget || keys) {
        app.addSink({
          name: 'controls',
          outcome(o) {
            limiter?.settle(o);
            budget?.settle(o);
            keyLimits?.settle(o);
            keySpend?.add(o);
          },
        });
      }

      app.statsSections.set('budget', () => (budget && budgetStore ? budget.statsBlock(budgetStore) : null));
      app.statsSections.set('rate_limiter', () => limiter?.statsBlock() ?? null);
      app.statsSections.set('cache', () => cache?.statsBlock() ?? null);
      app.statsSections.set('by_virtual_key', () => keySpend?.block((name) => ({
        budget_usd: keys?.named(name)?.budgetUsd ?? null,
        budget_spent_usd: budget?.keySpent(name) ?? null,
        rate_limited: keyLimits?.rejected(name) ?? 0,
      })) ?? null);

      app.healthChecks.set('cache', () => (cache ? { enabled: true, ready: true, entries: cache.lru.size, bytes: cache.lru.bytes } : { enabled: false, ready: true }));
      app.healthChecks.set('rate_limiter', () => (limiter ? { enabled: true, ready: true, requests_per_minute: rpm, tokens_per_minute: tpm, shared: fleet ? 'redis' : null } : { enabled: false, ready: true }));
      if (budget && budgetStore) {
        const store = budgetStore;
        app.healthChecks.set('budget', () => {
          const h = budget.ledger.health();
          // an unavailable store degrades exactness across processes; requests are still decided
          return {
            enabled: true, ready: true, degraded: !h.ok || store.openError !== null, backend: store.backend, path: store.path,
            error: h.lastError ?? (store.openError === null ? null : `budget store could not be opened (spend kept in memory; the file is kept and opening it is retried): ${store.openError}`),
            moved_aside: store.movedAside,
          };
        });
      }

      const audit = app.log.child({ logger: 'headroom.audit' });
      app.router.add('POST', '/cache/clear', async ({ req, res, path }: RouteRequest) => {
        if (checkAccess('admin', req, res, app.config)) {
          if (!cache) sendJson(res, 200, { status: 'cache disabled' });
          else if (fleet) {
            // the shared entries go at once; the notification clears anything an instance holds itself
            const r = await cache.clearShared();
            void fleet.bus.publish('cache_clear');
            if (r) sendJson(res, 200, { status: 'cleared', entries_removed: r.entries, bytes_freed: r.bytes, fleet: true });
            else sendJson(res, 503, { error: { type: 'redis_unavailable', message: 'The shared response cache (Redis) could not be reached; nothing was cleared. Retry when /health reports redis healthy.' } });
          } else {
            const r = cache.clear();
            sendJson(res, 200, { status: 'cleared', entries_removed: r.entries, bytes_freed: r.bytes });
          }
        }
        audit.info({
          event: 'headroom_admin_audit', action: 'admin_request', method: req.method, path,
          source_ip: req.socket.remoteAddress ?? null, status_code: res.statusCode,
        }, 'admin request');
      }, 'self');

      const metrics = ctx.optional('metrics');
      if (metrics) registerControlMetrics(metrics, controls);

      if (budget || limiter || cache) {
        app.log.info({
          budget: budget ? { limit_usd: c.budget, per_key_usd: c.budgetPerKey, per_project_usd: c.budgetPerProject, period: c.budgetPeriod, timezone: budget.timezone, store: budgetStore?.path ?? 'memory' } : null,
          rate_limit: limiter ? { rpm, tpm, by: c.rateLimitBy } : null,
          cache: cache ? { ttl_seconds: c.cacheTtl, max_bytes: c.cacheMaxBytes, max_entries: c.cacheMaxEntries } : null,
        }, 'controls enabled');
      }
      return { controls };
    },
  });
}

export const controlsPlugin: Plugin = createControlsPlugin();
