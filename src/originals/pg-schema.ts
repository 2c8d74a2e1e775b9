/** The store of originals in the shared database: component `ccr` of `schema_version`. */
import type { ComponentSchema } from '../storage/postgres/migrate.js';

export const CCR_V1 = `
CREATE TABLE IF NOT EXISTS ccr_originals (
  hash TEXT PRIMARY KEY, original TEXT NOT NULL, tool_name TEXT,
  original_items INTEGER NOT NULL DEFAULT 0, kept_items INTEGER NOT NULL DEFAULT 0, unit TEXT NOT NULL DEFAULT '',
  transforms TEXT NOT NULL DEFAULT '[]', original_tokens INTEGER NOT NULL DEFAULT 0, compressed_tokens INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL, last_used BIGINT NOT NULL, retrievals INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS ccr_originals_last_used ON ccr_originals (last_used);
CREATE INDEX IF NOT EXISTS ccr_originals_prefix ON ccr_originals (hash text_pattern_ops);
`;

export const ccrSchema: ComponentSchema = {
  component: 'ccr',
  migrations: [{ version: 1, description: 'originals of lossy cuts', sql: CCR_V1 }],
};
