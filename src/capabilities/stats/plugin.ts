/**
 * The stats capability: opens the durable store, counts every inbound request, follows each
 * conversation's prompt cache (a funnel annotator), and installs two sinks on the outcome
 * funnel (process counters; durable savings events), the `stats` service, the `store`
 * health check, the `attribution` proxy stage (hashed session and user ids, when the proxy is
 * installed) and the `/stats`, `/stats/reset`, `/stats-history` routes.
 */
import type { RequestOutcome } from '../../core/outcome.js';
import { definePlugin } from '../../core/plugin.js';
import { type Accounting, accountingOf } from './accounting.js';
import { CacheContinuityTracker } from './cache-continuity.js';
import { attributionStage } from './attribution/stage.js';
import { AttributionTracker } from './attribution/tracker.js';
import { registerStatsRoutes } from './routes.js';
import { StatsService } from './service.js';
import { openStatsStore } from './store/open.js';
import { PgStatsStore } from './store/pg.js';
import { statsSchema } from './store/pg-schema.js';
import { DEFAULT_LIMITS } from './store/types.js';
import type {} from '../storage/api.js';
import type { SavingsEvent } from './store/types.js';

export function savingsEvent(o: RequestOutcome, a: Accounting): SavingsEvent {
  return {
    ts: o.endedAt,
    kind: o.kind,
    provider: a.provider,
    model: a.model,
    project: o.project,
    inputTokens: a.inputTokens,
    outputTokens: a.outputTokens,
    tokensSaved: a.tokensSaved,
    newInputTokens: a.newInputTokens,
    cacheReadTokens: a.cacheReadTokens,
    cacheWriteTokens: a.cacheWriteTokens,
    savingsUsd: a.compressionSavingsUsd,
    inputCostUsd: a.inputCostUsd,
    outputCostUsd: a.outputCostUsd,
    session: o.ext.attribution?.session ?? null,
    user: o.ext.attribution?.user ?? null,
  };
}

export const statsPlugin = definePlugin({
  name: 'stats',
  optional: ['proxy', 'database', 'fleet'],
  provides: ['stats'],
  async setup({ app, optional }) {
    const database = optional('database');
    const shared = app.config.stateless ? null : (database?.db ?? null);
    if (shared) await database!.migrate(statsSchema);
    // with --database-url the fleet shares one store; stateless mode still keeps everything in memory
    const store = shared
      ? new PgStatsStore({ db: shared, log: app.log, flushMs: app.config.statsFlushMs, limits: { ...DEFAULT_LIMITS, retentionMs: app.config.statsRetentionDays * 86_400_000 } })
      : openStatsStore({ config: app.config, log: app.log });
    const svc = new StatsService(store);
    app.log.info({ stats_store: store.location, backend: store.backend, imported_from: store.importedFrom }, 'stats store ready');
    // the conversation's prompt-cache state, before any sink computes an outcome's figures
    const continuity = new CacheContinuityTracker();
    app.funnel.annotate({ name: 'cache-continuity', annotate: (o) => void (o.ext.cacheContinuity = continuity.observe(o)) });
    svc.inbound.attach(app.server);
    // per session and per user figures: the ids (hashed) by a proxy stage, `/stats.attribution` here, the store's `attribution_day` via the events
    const attribution = new AttributionTracker();
    svc.onReset(() => attribution.reset());
    app.statsSections.set('attribution', () => attribution.payload());
    optional('proxy')?.addStage(attributionStage);
    app.addSink({
      name: 'stats',
      outcome: (o) => {
        const a = svc.process.record(o);
        if (a) attribution.record(o, a);
      },
    });
    app.addSink({
      name: 'stats-store',
      outcome(o) {
        const a = accountingOf(o);
        if (a.counted) store.record(savingsEvent(o, a));
      },
      close: () => store.close(),
    });
    app.healthChecks.set('store', () => {
      const h = store.health();
      return {
        enabled: true,
        // a failing store keeps its backlog and retries; it does not take the proxy out of service
        ready: true,
        degraded: !h.ok,
        backend: h.backend,
        path: h.path,
        pending_events: h.pending,
        last_flush_at: h.lastFlushAt === null ? null : new Date(h.lastFlushAt).toISOString(),
        error: h.lastError,
        moved_aside: h.movedAside,
      };
    });
    // a fleet: a reset on one instance resets every instance's process figures
    const fleet = optional('fleet');
    if (fleet) {
      let fromFleet = false;
      fleet.bus.on('stats_reset', () => {
        fromFleet = true;
        try {
          svc.reset();
        } finally {
          fromFleet = false;
        }
      });
      svc.onReset(() => void (fromFleet || fleet.bus.publish('stats_reset')));
    }
    registerStatsRoutes(app, svc);
    return { stats: svc };
  },
});
