/**
 * Schema versions of the stats store (`meta.schema_version`). A file written by an older
 * version is upgraded in place when it is opened, one step at a time, each step in its own
 * transaction with the version bump; what the file already holds is kept.
 *
 * - 1: totals, projects, events, hourly and daily rollups.
 * - 2: `attribution_day` (per UTC day, session or user hash: requests, tokens, spend, savings).
 */
import type { Database as Db } from 'better-sqlite3';
import { ATTRIBUTION_SCHEMA } from './attribution-table.js';

export const SCHEMA_VERSION = 2;

/** The step that brings a store from version `n - 1` to `n`. */
const STEPS: Record<number, string> = {
  2: ATTRIBUTION_SCHEMA,
};

/** The store's version (a fresh file: 0). */
export function schemaVersion(db: Db): number {
  const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
  const n = row ? Number.parseInt(row.value, 10) : 0;
  return Number.isFinite(n) ? n : 0;
}

/**
 * Upgrades the store to {@link SCHEMA_VERSION} (the base tables exist). A file from a newer
 * version is left as it is: its extra tables are not ours to touch, and the ones we use exist.
 * Returns the version the file had.
 */
export function migrate(db: Db): number {
  const from = schemaVersion(db);
  for (let v = Math.max(from, 1) + 1; v <= SCHEMA_VERSION; v++) {
    const step = STEPS[v];
    const run = () => {
      if (step) db.exec(step);
      db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(String(v));
    };
    // opening runs inside a transaction already (`SqliteFile`); on its own, each step gets one
    if (db.inTransaction) run();
    else db.transaction(run).immediate();
  }
  return from;
}
