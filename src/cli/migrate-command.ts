/**
 * `headroom-ts migrate`: applies the schema migrations the stores need and reports them.
 *
 * - With `--database-url` (or `HEADROOM_DATABASE_URL`): every store's component in the shared
 *   database (`schema_version` table), each step once, under an advisory lock so instances
 *   starting meanwhile do not race it. A database written by a newer version is refused (exit
 *   1, with the reason); so is a database that cannot be reached.
 * - Without: the SQLite stats store in the workspace (`meta.schema_version`).
 *
 * The proxy applies the same migrations when it starts; this command lets an operator apply
 * them ahead of a rolling upgrade, and see where a database stands.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Command } from 'commander';
import pino from 'pino';
import { loadConfig } from '../config/index.js';
import type { Config } from '../config/index.js';
import { ALL_SCHEMAS } from '../compose/schemas.js';
import { pgDatabase } from '../capabilities/storage/shared.js';
import { openStatsStore, storePaths } from '../capabilities/stats/store/open.js';
import { SCHEMA_VERSION } from '../capabilities/stats/store/migrations.js';
import { describePgError } from '../storage/postgres/database.js';
import { latestVersion, type MigrationReport, migrateAll, NewerSchemaError } from '../storage/postgres/migrate.js';

function sqliteVersion(path: string): number {
  if (!existsSync(path)) return 0;
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
    return row ? Number.parseInt(row.value, 10) || 0 : 0;
  } catch {
    return 0;
  } finally {
    db.close();
  }
}

async function migrateSqlite(config: Config): Promise<MigrationReport[]> {
  const path = storePaths(config).store;
  const from = sqliteVersion(path);
  if (from > SCHEMA_VERSION) throw new NewerSchemaError('stats', from, SCHEMA_VERSION);
  const store = openStatsStore({ config, log: pino({ level: 'silent' }) });
  await store.close();
  const to = sqliteVersion(path);
  return [{ component: 'stats', from, to, applied: to > from ? [{ version: to, description: `SQLite stats store ${path}` }] : [] }];
}

function print(where: string, reports: MigrationReport[]): void {
  process.stdout.write(`${where}\n`);
  for (const r of reports) {
    const what = r.applied.length ? `migrated ${r.from} -> ${r.to}: ${r.applied.map((a) => `${a.version} (${a.description})`).join(', ')}` : `up to date (version ${r.to})`;
    process.stdout.write(`  ${r.component}: ${what}\n`);
  }
}

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('Apply the stores\' schema migrations (the shared --database-url database, else the workspace\'s SQLite stats store) and report them.')
    .option('--database-url <url>', 'the shared postgres:// database (default: HEADROOM_DATABASE_URL)')
    .option('--workspace-dir <dir>', 'the workspace of the SQLite stores (without a database URL)')
    .option('--json', 'print JSON')
    .action(async (opts: { databaseUrl?: string; workspaceDir?: string; json?: boolean }) => {
      const overrides: Record<string, string> = {};
      if (opts.databaseUrl !== undefined) overrides.databaseUrl = opts.databaseUrl;
      if (opts.workspaceDir !== undefined) overrides.workspaceDir = opts.workspaceDir;
      const { config } = loadConfig({ env: process.env, overrides });
      const log = pino({ level: 'silent' });
      let reports: MigrationReport[];
      let where: string;
      try {
        if (config.databaseUrl) {
          const db = pgDatabase(config, log);
          where = db.where;
          try {
            reports = await migrateAll(db, ALL_SCHEMAS);
          } finally {
            await db.close();
          }
        } else {
          where = storePaths(config).store;
          reports = await migrateSqlite(config);
        }
      } catch (err) {
        const reason = err instanceof NewerSchemaError ? err.message : `cannot migrate: ${describePgError(err)}`;
        process.stderr.write(`headroom-ts migrate: ${reason}\n`);
        process.exit(1);
      }
      if (opts.json) {
        const known = Object.fromEntries(ALL_SCHEMAS.map((s) => [s.component, latestVersion(s)]));
        process.stdout.write(`${JSON.stringify({ database: where, known_versions: config.databaseUrl ? known : { stats: SCHEMA_VERSION }, components: reports }, null, 2)}\n`);
      } else print(where, reports);
    });
}
