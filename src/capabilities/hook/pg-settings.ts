/** The hook's settings in the shared database (`--database-url`): component `hook` of `schema_version`. */
import type { PgDatabase } from '../../storage/postgres/database.js';
import type { ComponentSchema } from '../../storage/postgres/migrate.js';
import type { SettingsRemote } from './settings-remote.js';

const LABEL = 'hook settings';

export const hookSchema: ComponentSchema = {
  component: 'hook',
  migrations: [{
    version: 1,
    description: 'the hook settings of the fleet (one row, versioned)',
    sql: 'CREATE TABLE IF NOT EXISTS hook_settings (id INTEGER PRIMARY KEY, settings JSONB NOT NULL, version BIGINT NOT NULL, updated_at BIGINT NOT NULL)',
  }],
};

export class PgHookSettings implements SettingsRemote {
  readonly where: string;

  constructor(private readonly db: PgDatabase) {
    this.where = db.where;
  }

  async read(): Promise<{ json: unknown; version: number } | null> {
    const r = await this.db.run(LABEL, (q) => q.query<{ settings: unknown; version: number }>('SELECT settings, version FROM hook_settings WHERE id = 1'));
    const row = r.rows[0];
    return row ? { json: row.settings, version: Number(row.version) } : null;
  }

  async write(json: unknown): Promise<number> {
    const r = await this.db.run(LABEL, (q) =>
      q.query<{ version: number }>(
        `INSERT INTO hook_settings (id, settings, version, updated_at) VALUES (1, $1, 1, $2)
         ON CONFLICT (id) DO UPDATE SET settings = excluded.settings, version = hook_settings.version + 1, updated_at = excluded.updated_at
         RETURNING version`,
        [JSON.stringify(json), Date.now()],
      ));
    return Number(r.rows[0]?.version ?? 0);
  }
}
