import type { Field } from '../field.js';
import { field } from '../field.js';

/** A `postgres://` (or `postgresql://`) URL, or null; the value may hold a password, so it is never echoed. */
function databaseUrl(): Field<string | null> {
  const base = field.optionalString({
    flag: 'database-url', env: ['HEADROOM_DATABASE_URL'], default: null, group: 'storage',
    doc: 'A `postgres://user:pass@host:port/db` URL: the stats store (events, rollups, lifetime/session/project totals, `/stats-history`), the budget ledger and the CCR store of originals then live in this shared database, so every instance of a fleet sees the same figures, budgets and originals. Unset: embedded SQLite files in the workspace (the default). Schema changes are applied at start (or by `headroom-ts migrate`); a database written by a newer version is refused.',
  });
  return {
    ...base,
    accepted: 'a postgres:// URL (empty = unset)',
    secret: true,
    parse(raw) {
      const v = base.parse(raw);
      if (v === null) return null;
      let u: URL;
      try {
        u = new URL(v);
      } catch {
        throw new Error('not a postgres:// URL');
      }
      if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw new Error('not a postgres:// URL');
      return v;
    },
  };
}

/** Shared storage: where the durable stores live when several instances share them. */
export const storageFields = {
  databaseUrl: databaseUrl(),
  databaseStatementTimeoutMs: field.int({
    flag: 'database-statement-timeout-ms', env: ['HEADROOM_DATABASE_STATEMENT_TIMEOUT_MS'], default: 2000, min: 50, max: 600_000, group: 'storage',
    doc: 'Longest a statement may run on the `--database-url` database (server `statement_timeout` and a client-side deadline); a request never waits longer on a slow or dead database.',
  }),
  databaseConnectTimeoutMs: field.int({
    flag: 'database-connect-timeout-ms', env: ['HEADROOM_DATABASE_CONNECT_TIMEOUT_MS'], default: 1500, min: 50, max: 600_000, group: 'storage',
    doc: 'Longest a connection to the `--database-url` database may take to open.',
  }),
  databasePoolSize: field.int({
    flag: 'database-pool-size', env: ['HEADROOM_DATABASE_POOL_SIZE'], default: 10, min: 1, max: 1000, group: 'storage',
    doc: 'Connections each instance keeps to the `--database-url` database.',
  }),
  budgetOnStoreFailure: field.enum({
    flag: 'budget-on-store-failure', env: ['HEADROOM_BUDGET_ON_STORE_FAILURE'], default: 'open', group: 'storage',
    values: ['open', 'closed'] as const,
    doc: 'What the budget does while its shared store (`--database-url`) cannot be reached: `open` decides from the last figures it read plus what this instance spent since (exact within the instance; the fleet may overshoot by what the other instances admit meanwhile), `closed` refuses metered requests with 503 until the store answers again.',
  }),
} as const;
