/**
 * The Postgres store of originals writes a batch (new originals and refreshes) in one
 * statement, and what it wrote is what another instance reads.
 */
import pg from 'pg';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ccrSchema } from '../src/originals/pg-schema.js';
import { PgCcrStore } from '../src/originals/pg-store.js';
import { PgDatabase } from '../src/storage/postgres/database.js';
import { migrateComponent } from '../src/storage/postgres/migrate.js';
import { freshDatabase, PG_SKIP_REASON, type TestDatabase, TEST_PG_URL } from './helpers/postgres.js';

const log = pino({ level: 'silent' });

const entry = (i: number) => ({
  hash: i.toString(16).padStart(24, '0'), original: `original ${i} `.repeat(20), toolName: i % 2 ? 'bash' : null, originalItems: 10 + i,
  keptItems: 2, unit: 'lines', transforms: ['log_compressor'], replayed: false, originalTokens: 400 + i, compressedTokens: 40,
});

describe.skipIf(!TEST_PG_URL)(`CCR store batches on Postgres${TEST_PG_URL ? '' : ` (skipped: ${PG_SKIP_REASON})`}`, () => {
  const dbs: TestDatabase[] = [];
  const closers: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
    for (const d of dbs.splice(0)) await d.drop();
  });

  it('new originals and refreshes of one batch are one statement; another instance retrieves them', async () => {
    const d = await freshDatabase();
    dbs.push(d);
    const db = new PgDatabase({ url: d.url, statementTimeoutMs: 5000, connectTimeoutMs: 3000, poolSize: 2 }, log);
    closers.push(() => db.close());
    const sent: string[] = [];
    db.pool.on('connect', (client: pg.PoolClient) => {
      const query = client.query.bind(client) as (...a: unknown[]) => unknown;
      (client as { query: unknown }).query = (...args: unknown[]) => {
        const a = args[0] as string | { text: string };
        sent.push(typeof a === 'string' ? a : a.text);
        return query(...args);
      };
    });
    await migrateComponent(db, ccrSchema);
    let now = Date.now();
    const opts = { ttlMs: 3_600_000, maxBytes: 50_000_000, maxEntries: 10_000, now: () => now, db, log, flushDelayMs: 5 };
    const one = new PgCcrStore(opts);
    closers.push(() => one.close());
    one.put(Array.from({ length: 30 }, (_, i) => entry(i)));
    await one.durable();
    sent.splice(0);
    now += 60_000;
    one.put([entry(3), entry(4), entry(30)]); // two refreshes, one new
    expect(one.get(entry(5).hash, { touch: true }).status).toBe('available'); // a retrieval refreshes too
    one.recordRetrieval({ hash: entry(5).hash, query: null, itemsRetrieved: 1, totalItems: 1, toolName: null, retrievalType: 'full', via: 'api', at: now });
    await one.durable();
    await one.drain();
    expect(sent.filter((t) => !t.startsWith('DELETE'))).toHaveLength(1);

    const rows = await d.query<{ hash: string; last_used: number; retrievals: number }>(
      'SELECT hash, last_used::float8 AS last_used, retrievals FROM ccr_originals WHERE hash = ANY($1) ORDER BY hash', [[3, 4, 5, 30, 6].map((i) => entry(i).hash)]);
    expect(rows.map((r) => [r.hash, r.last_used === now, r.retrievals])).toEqual([
      [entry(3).hash, true, 0], [entry(4).hash, true, 0], [entry(5).hash, true, 1], [entry(6).hash, false, 0], [entry(30).hash, true, 0],
    ]);

    const two = new PgCcrStore(opts);
    closers.push(() => two.close());
    await two.prefetch([entry(30).hash, entry(7).hash]);
    const got = two.get(entry(30).hash);
    expect(got.status).toBe('available');
    if (got.status === 'available') expect(got.entry).toMatchObject({ original: entry(30).original, toolName: null, originalItems: 40, transforms: ['log_compressor'] });
    expect(two.get(entry(7).hash).status).toBe('available');
  });
});
