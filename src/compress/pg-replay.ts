/** The replay map's shared backend in Postgres (`--database-url`): component `replay` of `schema_version`. */
import type { ComponentSchema } from '../storage/postgres/migrate.js';
import type { PgDatabase } from '../storage/postgres/database.js';
import type { SharedDecision, SharedReplayBackend } from './shared-replay.js';

const LABEL = 'replay map';

export const replaySchema: ComponentSchema = {
  component: 'replay',
  migrations: [{
    version: 1,
    description: 'replay decisions (content hash -> compressed text, or null for unchanged)',
    sql: `CREATE TABLE IF NOT EXISTS replay_decisions (key TEXT PRIMARY KEY, compressed TEXT, last_used BIGINT NOT NULL);
          CREATE INDEX IF NOT EXISTS replay_decisions_last_used ON replay_decisions (last_used);`,
  }],
};

export class PgReplayBackend implements SharedReplayBackend {
  readonly kind = 'postgres';
  readonly where: string;

  constructor(private readonly db: PgDatabase) {
    this.where = db.where;
  }

  async fetch(keys: readonly string[], since: number): Promise<SharedDecision[]> {
    const r = await this.db.run(LABEL, (q) =>
      q.query<{ key: string; compressed: string | null; last_used: number }>({
        name: 'replay-fetch',
        text: 'SELECT key, compressed, last_used FROM replay_decisions WHERE key = ANY($1::text[]) AND last_used >= $2',
        values: [keys, since],
      }));
    return r.rows.map((x) => ({ key: x.key, compressed: x.compressed, lastUsed: Number(x.last_used) }));
  }

  async write(entries: readonly SharedDecision[]): Promise<void> {
    if (entries.length === 0) return;
    await this.db.run(LABEL, (q) =>
      q.query({
        name: 'replay-write',
        text: `INSERT INTO replay_decisions (key, compressed, last_used)
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
         ON CONFLICT (key) DO UPDATE SET last_used = greatest(replay_decisions.last_used, excluded.last_used)`,
        values: [entries.map((e) => e.key), entries.map((e) => e.compressed), entries.map((e) => e.lastUsed)],
      }));
  }

  async purge(before: number): Promise<void> {
    await this.db.run(LABEL, (q) => q.query('DELETE FROM replay_decisions WHERE last_used < $1', [before]));
  }
}
