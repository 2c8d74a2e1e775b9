/**
 * Schema migrations of the shared database against a real Postgres: from an empty database,
 * from the SQLite-era version of the stats schema, refusal of a newer schema (by the library,
 * by the proxy at start and by `headroom-ts migrate`), and the `migrate` command's report.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ALL_SCHEMAS } from '../src/compose/schemas.js';
import { statsSchema } from '../src/capabilities/stats/store/pg-schema.js';
import { createProxyApp } from '../src/compose/proxy.js';
import { configWith } from '../src/config/index.js';
import { PgDatabase } from '../src/storage/postgres/database.js';
import { migrateAll, migrateComponent, NewerSchemaError, schemaVersions } from '../src/storage/postgres/migrate.js';
import { CLI } from './helpers/child-proxy.js';
import { freshDatabase, PG_SKIP_REASON, type TestDatabase, TEST_PG_URL } from './helpers/postgres.js';

const run = promisify(execFile);
const log = pino({ level: 'silent' });
const open = (url: string) => new PgDatabase({ url, statementTimeoutMs: 5000, connectTimeoutMs: 3000, poolSize: 4 }, log);

describe.skipIf(!TEST_PG_URL)(`shared database migrations${TEST_PG_URL ? '' : ` (skipped: ${PG_SKIP_REASON})`}`, () => {
  const dbs: TestDatabase[] = [];
  const pools: PgDatabase[] = [];
  afterEach(async () => {
    for (const p of pools.splice(0)) await p.close();
    for (const d of dbs.splice(0)) await d.drop();
  });
  const fresh = async () => {
    const d = await freshDatabase();
    dbs.push(d);
    const p = open(d.url);
    pools.push(p);
    return { d, p };
  };

  it('migrates an empty database to every component\'s latest version, once', async () => {
    const { d, p } = await fresh();
    const first = await migrateAll(p, ALL_SCHEMAS);
    expect(first.map((r) => [r.component, r.from, r.to])).toEqual([['stats', 0, 2], ['budget', 0, 1], ['ccr', 0, 1], ['replay', 0, 1], ['hook', 0, 1]]);
    expect(first[0]!.applied.map((a) => a.version)).toEqual([1, 2]);
    const rows = await d.query<{ component: string; version: number }>('SELECT component, version FROM schema_version ORDER BY component');
    expect(rows).toEqual([{ component: 'budget', version: 1 }, { component: 'ccr', version: 1 }, { component: 'hook', version: 1 }, { component: 'replay', version: 1 }, { component: 'stats', version: 2 }]);
    const again = await migrateAll(p, ALL_SCHEMAS);
    expect(again.every((r) => r.applied.length === 0)).toBe(true);
    // instances starting together: each step still applied once
    const racing = await Promise.all([open(d.url), open(d.url), open(d.url)].map(async (q) => {
      pools.push(q);
      return migrateAll(q, ALL_SCHEMAS);
    }));
    expect(racing.flat().every((r) => r.applied.length === 0)).toBe(true);
  });

  it('upgrades a database at the SQLite-era stats version (1), keeping what it holds', async () => {
    const { d, p } = await fresh();
    const v1 = { component: 'stats', migrations: statsSchema.migrations.filter((m) => m.version === 1) };
    await migrateComponent(p, v1);
    await d.query("UPDATE stats_totals SET requests = 7, tokens_saved = 700 WHERE scope = 'lifetime'");
    expect((await schemaVersions(p, ['stats'])).stats).toBe(1);
    await expect(d.query('SELECT 1 FROM stats_attribution_day')).rejects.toThrow(/does not exist/);
    const [r] = await migrateAll(p, [statsSchema]);
    expect(r).toMatchObject({ component: 'stats', from: 1, to: 2, applied: [{ version: 2 }] });
    expect(await d.query("SELECT requests, tokens_saved FROM stats_totals WHERE scope = 'lifetime'")).toEqual([{ requests: '7', tokens_saved: '700' }]);
    expect(await d.query('SELECT count(*)::int AS n FROM stats_attribution_day')).toEqual([{ n: 0 }]);
  });

  it('refuses a database whose schema is newer than this build: library, proxy start and migrate command', async () => {
    const { d, p } = await fresh();
    await migrateAll(p, ALL_SCHEMAS);
    await d.query("UPDATE schema_version SET version = 99 WHERE component = 'stats'");
    await expect(migrateAll(p, ALL_SCHEMAS)).rejects.toBeInstanceOf(NewerSchemaError);
    await expect(migrateAll(p, ALL_SCHEMAS)).rejects.toThrow(/stats schema in the database is version 99, newer than this headroom-ts knows \(2\)/);

    const config = configWith({ port: 0, databaseUrl: d.url, skipUpstreamCheck: true, logLevel: 'silent', workspaceDir: '/nonexistent-headroom-test' });
    await expect(createProxyApp(config, { logger: log })).rejects.toThrow(/newer than this headroom-ts knows/);

    const cli = await run(process.execPath, [CLI, 'migrate', '--database-url', d.url]).then(() => null, (e: { code: number; stderr: string }) => e);
    expect(cli?.code).toBe(1);
    expect(cli?.stderr).toMatch(/headroom-ts migrate: the stats schema in the database is version 99, newer than this headroom-ts knows \(2\)/);
    // nothing was changed by the refusals
    expect(await d.query("SELECT version FROM schema_version WHERE component = 'stats'")).toEqual([{ version: 99 }]);
  });

  it('`headroom-ts migrate` applies the migrations and reports them; a second run says up to date', async () => {
    const { d } = await fresh();
    const first = await run(process.execPath, [CLI, 'migrate', '--json'], { env: { ...process.env, HEADROOM_DATABASE_URL: d.url } });
    const report = JSON.parse(first.stdout) as { components: { component: string; from: number; to: number; applied: unknown[] }[]; known_versions: Record<string, number> };
    expect(report.known_versions).toEqual({ stats: 2, budget: 1, ccr: 1, replay: 1, hook: 1 });
    expect(report.components.map((c) => [c.component, c.from, c.to, c.applied.length])).toEqual([['stats', 0, 2, 2], ['budget', 0, 1, 1], ['ccr', 0, 1, 1], ['replay', 0, 1, 1], ['hook', 0, 1, 1]]);
    const second = await run(process.execPath, [CLI, 'migrate', '--database-url', d.url]);
    expect(second.stdout).toMatch(/stats: up to date \(version 2\)/);
    expect(second.stdout).toMatch(/budget: up to date \(version 1\)/);
    expect(second.stdout).not.toContain(new URL(d.url).password || '\u0000');
  });

  it('`headroom-ts migrate` against a database that does not answer fails with the reason, within its deadline', async () => {
    const r = await run(process.execPath, [CLI, 'migrate', '--database-url', 'postgres://postgres@127.0.0.1:1/none'], {
      env: { ...process.env, HEADROOM_DATABASE_CONNECT_TIMEOUT_MS: '300' },
    }).then(() => null, (e: { code: number; stderr: string }) => e);
    expect(r?.code).toBe(1);
    expect(r?.stderr).toMatch(/headroom-ts migrate: cannot migrate: .*(ECONNREFUSED|connect)/);
  });
});
