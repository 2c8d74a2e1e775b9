/**
 * The storage capability: the shared Postgres database of a fleet (`--database-url`), as the
 * `database` service the stats, controls and CCR capabilities use when it is configured
 * (without it they keep their SQLite files), a `database` health check that names every store
 * whose operations fail (degraded, still serving), and the store-failure counts for the
 * metrics (`headroom_store_failures_total`).
 */
import { definePlugin } from '../../core/plugin.js';
import type {} from './api.js';
import { openSharedDatabase, type SharedDatabase } from './shared.js';

export const storagePlugin = definePlugin({
  name: 'storage',
  provides: ['database'],
  setup({ app }) {
    const shared = openSharedDatabase(app.config, app.log);
    if (!shared) {
      const none: SharedDatabase = { db: null, migrated: false, migrationError: null, migrate: async () => undefined };
      return { database: none };
    }
    app.onClose(() => shared.close());
    app.healthChecks.set('database', () => {
      const db = shared.db as NonNullable<SharedDatabase['db']>;
      const stores: Record<string, unknown> = {};
      const failing: string[] = [];
      for (const [label, h] of db.all()) {
        if (label === 'migrations' && shared.migrated) continue;
        stores[label] = { ok: h.ok, error: h.lastError, failing_since: h.failingSince === null ? null : new Date(h.failingSince).toISOString(), failures: h.failures };
        if (!h.ok) failing.push(label);
      }
      return {
        enabled: true,
        // the proxy keeps serving through an outage (writes buffered); degraded names the stores
        ready: true,
        degraded: failing.length > 0 || !shared.migrated,
        backend: 'postgres',
        url: db.where,
        migrated: shared.migrated,
        degraded_stores: failing,
        error: failing.length ? `Postgres unavailable for: ${failing.join(', ')}` : shared.migrationError,
        stores,
      };
    });
    return { database: shared };
  },
});
