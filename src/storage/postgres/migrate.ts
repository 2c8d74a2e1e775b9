/**
 * Versioned schema migrations of the shared database, one sequence per store ("component":
 * `stats`, `budget`, `ccr`, ...), recorded in one `schema_version` table:
 *
 *   schema_version (component TEXT PRIMARY KEY, version INTEGER, applied_at TIMESTAMPTZ)
 *
 * Every instance applies what is missing when it starts (and `headroom-ts migrate` does it on
 * its own): the steps of one component run under a transaction-scoped advisory lock, so
 * instances starting together apply each step exactly once, each step in the same
 * transaction as its version bump. A database whose version of a component is NEWER than
 * this build knows is refused with {@link NewerSchemaError}: an older build must not write
 * tables whose meaning changed under it.
 */
import type { PgDatabase, Queryable } from './database.js';

export interface Migration {
  /** 1, 2, 3, ...: the version the database has once this step ran. */
  version: number;
  /** What the step does (reported by `headroom-ts migrate`). */
  description: string;
  sql: string;
}

export interface ComponentSchema {
  component: string;
  migrations: readonly Migration[];
}

export interface MigrationReport {
  component: string;
  from: number;
  to: number;
  applied: { version: number; description: string }[];
}

export class NewerSchemaError extends Error {
  override readonly name = 'NewerSchemaError';
  constructor(
    readonly component: string,
    readonly found: number,
    readonly known: number,
  ) {
    super(
      `the ${component} schema in the database is version ${found}, newer than this headroom-ts knows (${known}); ` +
        'upgrade headroom-ts on this instance (or point --database-url at another database): it refuses to write a schema it does not know',
    );
  }
}

const TABLE = `CREATE TABLE IF NOT EXISTS schema_version (
  component TEXT PRIMARY KEY, version INTEGER NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`;

/** A stable advisory-lock key per component (the lock only serialises migrations). */
function lockKey(component: string): number {
  let h = 0x48445254;
  for (const ch of component) h = (Math.imul(h, 31) + ch.charCodeAt(0)) | 0;
  return h;
}

export function latestVersion(schema: ComponentSchema): number {
  return schema.migrations.reduce((m, s) => Math.max(m, s.version), 0);
}

async function versionOf(q: Queryable, component: string): Promise<number> {
  const r = await q.query<{ version: number }>('SELECT version FROM schema_version WHERE component = $1', [component]);
  return r.rows[0]?.version ?? 0;
}

/** The version each component has in the database now (0: never migrated). */
export async function schemaVersions(db: PgDatabase, components: string[]): Promise<Record<string, number>> {
  return db.run('migrations', async (q) => {
    await q.query(TABLE);
    const out: Record<string, number> = {};
    for (const c of components) out[c] = await versionOf(q, c);
    return out;
  });
}

/** Applies the missing steps of one component; refuses a newer database. */
export async function migrateComponent(db: PgDatabase, schema: ComponentSchema): Promise<MigrationReport> {
  const known = latestVersion(schema);
  await db.run('migrations', (q) => q.query(TABLE));
  return db.tx('migrations', async (q) => {
    await q.query('SELECT pg_advisory_xact_lock($1)', [lockKey(schema.component)]);
    const from = await versionOf(q, schema.component);
    if (from > known) throw new NewerSchemaError(schema.component, from, known);
    const applied: MigrationReport['applied'] = [];
    for (const step of [...schema.migrations].sort((a, b) => a.version - b.version)) {
      if (step.version <= from) continue;
      await q.query(step.sql);
      applied.push({ version: step.version, description: step.description });
    }
    if (applied.length > 0) {
      await q.query(
        `INSERT INTO schema_version (component, version) VALUES ($1, $2)
         ON CONFLICT (component) DO UPDATE SET version = excluded.version, applied_at = now()`,
        [schema.component, known],
      );
    }
    return { component: schema.component, from, to: Math.max(from, known), applied };
  });
}

/** Applies every component's missing steps, in order; stops at the first refusal. */
export async function migrateAll(db: PgDatabase, schemas: readonly ComponentSchema[]): Promise<MigrationReport[]> {
  const out: MigrationReport[] = [];
  for (const s of schemas) out.push(await migrateComponent(db, s));
  return out;
}
