/**
 * The stats store's schema in the shared database (`--database-url`), component `stats` of
 * `schema_version` (`src/storage/postgres/migrate.ts`). The versions follow the SQLite
 * store's (`migrations.ts`): 1 is the SQLite-era base schema (totals, projects, events,
 * hourly and daily rollups), 2 adds `attribution_day`. Events carry `uid`, the idempotency
 * key of a recorded event, so a batch replayed after an outage (or after a commit whose
 * answer was lost) is written once.
 */
import type { ComponentSchema } from '../../../storage/postgres/migrate.js';

const ROLLUP = (t: string) => `CREATE TABLE IF NOT EXISTS ${t} (
  start BIGINT NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL,
  requests BIGINT NOT NULL, tokens_saved BIGINT NOT NULL, savings_usd DOUBLE PRECISION NOT NULL,
  input_tokens BIGINT NOT NULL, input_cost_usd DOUBLE PRECISION NOT NULL, output_tokens BIGINT NOT NULL, output_cost_usd DOUBLE PRECISION NOT NULL,
  cum_tokens_saved BIGINT NOT NULL, cum_savings_usd DOUBLE PRECISION NOT NULL, cum_input_tokens BIGINT NOT NULL, cum_input_cost_usd DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (start, provider, model));`;

const TOTALS_COLUMNS = `requests BIGINT NOT NULL DEFAULT 0, tokens_saved BIGINT NOT NULL DEFAULT 0, savings_usd DOUBLE PRECISION NOT NULL DEFAULT 0,
  input_tokens BIGINT NOT NULL DEFAULT 0, input_cost_usd DOUBLE PRECISION NOT NULL DEFAULT 0,
  output_tokens BIGINT NOT NULL DEFAULT 0, output_cost_usd DOUBLE PRECISION NOT NULL DEFAULT 0`;

export const STATS_V1 = `
CREATE TABLE IF NOT EXISTS stats_totals (scope TEXT PRIMARY KEY, ${TOTALS_COLUMNS}, started_at BIGINT, last_activity_at BIGINT);
CREATE TABLE IF NOT EXISTS stats_projects (name TEXT PRIMARY KEY, ${TOTALS_COLUMNS}, last_activity_at BIGINT);
CREATE TABLE IF NOT EXISTS stats_events (
  id BIGSERIAL PRIMARY KEY, uid TEXT NOT NULL UNIQUE, ts BIGINT NOT NULL, kind TEXT NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL,
  project TEXT, requests INTEGER NOT NULL,
  input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL, tokens_saved BIGINT NOT NULL,
  new_input_tokens BIGINT NOT NULL, cache_read_tokens BIGINT NOT NULL, cache_write_tokens BIGINT NOT NULL,
  savings_usd DOUBLE PRECISION NOT NULL, input_cost_usd DOUBLE PRECISION NOT NULL, output_cost_usd DOUBLE PRECISION NOT NULL,
  checkpoint BOOLEAN NOT NULL,
  cum_tokens_saved BIGINT NOT NULL, cum_savings_usd DOUBLE PRECISION NOT NULL, cum_input_tokens BIGINT NOT NULL, cum_input_cost_usd DOUBLE PRECISION NOT NULL,
  instance TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS stats_events_ts ON stats_events (ts);
CREATE INDEX IF NOT EXISTS stats_events_checkpoint ON stats_events (id) WHERE checkpoint;
${ROLLUP('stats_rollup_hour')}
${ROLLUP('stats_rollup_day')}
INSERT INTO stats_totals (scope) VALUES ('lifetime'), ('session') ON CONFLICT DO NOTHING;
`;

export const STATS_V2 = `
CREATE TABLE IF NOT EXISTS stats_attribution_day (
  start BIGINT NOT NULL, dim TEXT NOT NULL, id TEXT NOT NULL,
  requests BIGINT NOT NULL, input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL, tokens_saved BIGINT NOT NULL,
  input_cost_usd DOUBLE PRECISION NOT NULL, output_cost_usd DOUBLE PRECISION NOT NULL, savings_usd DOUBLE PRECISION NOT NULL,
  first_ts BIGINT NOT NULL, last_ts BIGINT NOT NULL,
  PRIMARY KEY (start, dim, id));
`;

export const statsSchema: ComponentSchema = {
  component: 'stats',
  migrations: [
    { version: 1, description: 'totals, projects, events, hourly and daily rollups', sql: STATS_V1 },
    { version: 2, description: 'attribution_day (per UTC day, session or user hash)', sql: STATS_V2 },
  ],
};
