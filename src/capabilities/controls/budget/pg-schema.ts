/**
 * The budget ledger's schema in the shared database, component `budget` of `schema_version`.
 *
 * - `budget_period`: one row per (scope, period): dollars settled (`spent_usd`) and dollars
 *   held by the leases of every instance (`reserved_usd`). A lease is one statement that locks
 *   the rows of a set of scopes and adds its grant to all of them, never more than
 *   `$limit - spent_usd - reserved_usd` in any; the row locks (held for that statement only)
 *   serialise the instances (`pg-ledger.ts`, `pg-lease.ts`).
 * - `budget_reservations`: what each lease still holds, one row per scope (`<lease>:<scope>`),
 *   with its instance, so settled spend is taken off exactly it and a dead instance's leases
 *   can be given back.
 * - `budget_owners`: each instance's heartbeat.
 * - `budget_settled`: idempotency keys of applied settlements (a settlement replayed after an
 *   outage is applied once).
 * - `budget_spend`: settled spend per 15-minute bucket (reports), as in the SQLite ledger.
 */
import type { ComponentSchema } from '../../../storage/postgres/migrate.js';

export const BUDGET_V1 = `
CREATE TABLE IF NOT EXISTS budget_period (
  scope TEXT NOT NULL, period_start BIGINT NOT NULL,
  spent_usd DOUBLE PRECISION NOT NULL DEFAULT 0, reserved_usd DOUBLE PRECISION NOT NULL DEFAULT 0, requests BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (scope, period_start));
CREATE TABLE IF NOT EXISTS budget_reservations (
  id TEXT PRIMARY KEY, owner TEXT NOT NULL, scope TEXT NOT NULL, period_start BIGINT NOT NULL, amount_usd DOUBLE PRECISION NOT NULL,
  created_at BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS budget_reservations_owner ON budget_reservations (owner);
CREATE TABLE IF NOT EXISTS budget_owners (owner TEXT PRIMARY KEY, updated_at BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS budget_settled (id TEXT PRIMARY KEY, at BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS budget_settled_at ON budget_settled (at);
CREATE TABLE IF NOT EXISTS budget_spend (
  scope TEXT NOT NULL, bucket BIGINT NOT NULL, spent_usd DOUBLE PRECISION NOT NULL, requests BIGINT NOT NULL,
  PRIMARY KEY (scope, bucket));
`;

export const budgetSchema: ComponentSchema = {
  component: 'budget',
  migrations: [{ version: 1, description: 'period spend and reservations, instances, settlements, spend buckets', sql: BUDGET_V1 }],
};
