/**
 * Budgets and originals shared by several instances through a real Postgres.
 *
 * - 60 concurrent reservations across 3 ledgers on one database: exactly the requests that
 *   fit are admitted, never more (the reservation is one statement, `pg-ledger.ts`); with two
 *   limited scopes, the tighter one decides and a refused request reserves in neither.
 * - 60 concurrent requests spread over 3 proxies (held upstream by a gate, so every admitted
 *   request is in flight when the limit is reached): a per-key budget for 20 admits exactly
 *   20 and the settled spend stays within the limit (the documented bound: actual costs did
 *   not exceed their reservations).
 * - An original stored by one instance is retrieved through another (`/v1/retrieve`).
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { estimateRequest, reservationFor } from '../src/capabilities/controls/estimate.js';
import { PgBudgetLedger } from '../src/capabilities/controls/budget/pg-ledger.js';
import type { ReserveResult } from '../src/capabilities/controls/budget/ledger.js';
import { PeriodClock } from '../src/capabilities/controls/period.js';
import { accountingOf } from '../src/capabilities/stats/accounting.js';
import { ALL_SCHEMAS } from '../src/compose/schemas.js';
import { contentHash } from '../src/compress/hash.js';
import { MockUpstream } from '../src/mock/upstream.js';
import { PgDatabase } from '../src/storage/postgres/database.js';
import { migrateAll } from '../src/storage/postgres/migrate.js';
import { startControlsHarness } from './helpers/controls.js';
import { FAKE_ANTHROPIC_KEY, type Harness, startHarness } from './helpers/harness.js';
import { anthropicHeaders, send } from './helpers/http.js';
import { freshDatabase, PG_SKIP_REASON, type TestDatabase, TEST_PG_URL } from './helpers/postgres.js';
import { UpstreamGate } from './helpers/upstream-gate.js';

type Json = Record<string, any>;
const log = pino({ level: 'silent' });
const MODEL = 'claude-sonnet-4-6';
const body = JSON.stringify({ model: MODEL, max_tokens: 200, messages: [{ role: 'user', content: 'Summarise the build log.' }] });
const reservation = reservationFor('anthropic', MODEL, estimateRequest('messages', JSON.parse(body) as Json, 4096));

describe.skipIf(!TEST_PG_URL)(`a fleet sharing Postgres: budgets and originals${TEST_PG_URL ? '' : ` (skipped: ${PG_SKIP_REASON})`}`, () => {
  const dbs: TestDatabase[] = [];
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
    for (const d of dbs.splice(0)) await d.drop();
  });
  const fresh = async () => {
    const d = await freshDatabase();
    dbs.push(d);
    return d;
  };

  it('60 concurrent reservations across 3 ledgers: exactly the 20 that fit are admitted', async () => {
    const d = await fresh();
    const pools = [0, 1, 2].map(() => new PgDatabase({ url: d.url, statementTimeoutMs: 5000, connectTimeoutMs: 3000, poolSize: 10 }, log));
    for (const p of pools) closers.push(() => p.close());
    await migrateAll(pools[0]!, ALL_SCHEMAS);
    const ledgers = pools.map((db, i) => new PgBudgetLedger({ db, log, onStoreFailure: 'open', owner: `test-${i}`, flushMs: 10 }));
    for (const l of ledgers) closers.push(() => l.close());
    const window = new PeriodClock('daily', 'UTC').at(Date.now());
    const refs = [{ scope: 'global', limit: null }, { scope: 'key:abc', limit: 1.0 }];
    const results = (await Promise.all(Array.from({ length: 60 }, (_, i) => ledgers[i % 3]!.reserve(refs, window, 0.05)))) as ReserveResult[];
    const admitted = results.filter((r) => r.ok);
    expect(admitted).toHaveLength(20);
    const [row] = await d.query<{ reserved_usd: number; spent_usd: number }>("SELECT reserved_usd, spent_usd FROM budget_period WHERE scope = 'key:abc'");
    expect(row!.reserved_usd).toBeCloseTo(1.0, 9);
    // settle each at 80 % of its reservation: $0.20 is free again, for exactly 4 more
    admitted.forEach((r, i) => r.ok && ledgers[i % 3]!.settle(r.reservation, 0.04));
    await Promise.all(ledgers.map((l) => l.write()));
    const [after] = await d.query<{ reserved_usd: number; spent_usd: number; requests: string }>("SELECT reserved_usd, spent_usd, requests FROM budget_period WHERE scope = 'key:abc'");
    expect(after!.reserved_usd).toBeCloseTo(0, 9);
    expect(after!.spent_usd).toBeCloseTo(0.8, 9);
    expect(Number(after!.requests)).toBe(20);
    const more = (await Promise.all(Array.from({ length: 12 }, (_, i) => ledgers[i % 3]!.reserve(refs, window, 0.05)))) as ReserveResult[];
    expect(more.filter((r) => r.ok)).toHaveLength(4);
  });

  it('two limited scopes, 60 concurrent reservations across 3 ledgers: all scopes or none, the tighter one decides', async () => {
    const d = await fresh();
    const pools = [0, 1, 2].map(() => new PgDatabase({ url: d.url, statementTimeoutMs: 5000, connectTimeoutMs: 3000, poolSize: 10 }, log));
    for (const p of pools) closers.push(() => p.close());
    await migrateAll(pools[0]!, ALL_SCHEMAS);
    const ledgers = pools.map((db, i) => new PgBudgetLedger({ db, log, onStoreFailure: 'open', owner: `two-${i}`, flushMs: 10 }));
    for (const l of ledgers) closers.push(() => l.close());
    const window = new PeriodClock('daily', 'UTC').at(Date.now());
    // no row exists yet for either scope: the first reservations create them
    const refs = [{ scope: 'key:abc', limit: 1.0 }, { scope: 'team:t', limit: 0.3 }];
    const results = (await Promise.all(Array.from({ length: 60 }, (_, i) => ledgers[i % 3]!.reserve(refs, window, 0.05)))) as ReserveResult[];
    expect(results.filter((r) => r.ok)).toHaveLength(6);
    const refused = results.find((r) => !r.ok) as { ok: false; state: { scope: string } };
    expect(refused.state.scope).toBe('team:t');
    const rows = await d.query<{ scope: string; reserved_usd: number }>('SELECT scope, reserved_usd FROM budget_period ORDER BY scope');
    // the 54 refused reserved nothing in the scope that had room
    expect(rows.map((r) => [r.scope, Math.round(r.reserved_usd * 1e6) / 1e6])).toEqual([['key:abc', 0.3], ['team:t', 0.3]]);
    const [held] = await d.query<{ n: string }>('SELECT count(*) AS n FROM budget_reservations');
    expect(Number(held!.n)).toBe(12);
    results.forEach((r, i) => r.ok && ledgers[i % 3]!.settle(r.reservation, 0.05));
    await Promise.all(ledgers.map((l) => l.write()));
    const after = await d.query<{ scope: string; reserved_usd: number; spent_usd: number; requests: string }>('SELECT scope, reserved_usd, spent_usd, requests FROM budget_period ORDER BY scope');
    for (const r of after) {
      expect(r.reserved_usd).toBeCloseTo(0, 9);
      expect(r.spent_usd).toBeCloseTo(0.3, 9);
      expect(Number(r.requests)).toBe(6);
    }
    const [left] = await d.query<{ n: string }>('SELECT count(*) AS n FROM budget_reservations');
    expect(Number(left!.n)).toBe(0);
  });

  it('a per-key budget for 20 requests, 60 concurrent requests over 3 proxies: 20 admitted, spend within the limit', async () => {
    const d = await fresh();
    const mock = new MockUpstream();
    await mock.start();
    closers.push(() => mock.close());
    const gate = new UpstreamGate(mock.url);
    await gate.start();
    closers.push(() => gate.stop());
    const limit = 20.5 * reservation;
    const proxies: Harness[] = [];
    for (let i = 0; i < 3; i++) {
      const h = await startControlsHarness({ config: { budgetPerKey: limit, databaseUrl: d.url, skipUpstreamCheck: true, logLevel: 'warn' }, upstreamUrl: gate.url });
      proxies.push(h);
      closers.push(() => h.close());
    }
    const pending = Array.from({ length: 60 }, (_, i) => send(`${proxies[i % 3]!.url}/v1/messages`, { body, headers: anthropicHeaders(FAKE_ANTHROPIC_KEY) }));
    // every admitted request is held upstream: in flight when the limit is reached
    const refusedSoFar = () => proxies.reduce((n, h) => n + h.outcomes.length, 0);
    for (let i = 0; i < 1500 && !(gate.held === 20 && refusedSoFar() === 40); i++) await new Promise((r) => setTimeout(r, 10));
    expect([gate.held, refusedSoFar()]).toEqual([20, 40]);
    gate.open();
    const responses = await Promise.all(pending);
    expect(responses.filter((r) => r.status === 200)).toHaveLength(20);
    const refused = responses.filter((r) => r.status === 429);
    expect(refused).toHaveLength(40);
    expect(refused[0]!.json()).toMatchObject({ type: 'error', error: { type: 'budget_exceeded' } });
    await Promise.all(proxies.map((h) => h.waitForOutcomes(20)));
    const actual = proxies.flatMap((h) => h.outcomes).reduce((s, o) => s + (accountingOf(o).cost?.totalUsd ?? 0), 0);
    expect(actual).toBeGreaterThan(0);
    expect(actual).toBeLessThanOrEqual(limit);
    for (const h of proxies) await h.app.service('controls')!.budget!.ledger.flush();
    let spent = 0;
    for (let i = 0; i < 200; i++) {
      const rows = await d.query<{ spent_usd: number; reserved_usd: number; requests: string }>("SELECT spent_usd, reserved_usd, requests FROM budget_period WHERE scope LIKE 'key:%'");
      spent = rows[0]?.spent_usd ?? 0;
      if (Number(rows[0]?.requests ?? 0) === 20 && rows[0]!.reserved_usd < 1e-9) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(spent).toBeCloseTo(actual, 9);
    expect(spent).toBeLessThanOrEqual(limit);
    const stats = (await (await fetch(`${proxies[1]!.url}/stats`)).json()) as Json;
    expect(stats.budget.store).toMatchObject({ backend: 'postgres', ok: true });
  });

  it('an original stored by one instance is retrieved through another', async () => {
    const d = await fresh();
    const a = await startHarness({ config: { databaseUrl: d.url, skipUpstreamCheck: true, logLevel: 'warn' } });
    closers.push(() => a.close());
    const b = await startHarness({ config: { databaseUrl: d.url, skipUpstreamCheck: true, logLevel: 'warn' } });
    closers.push(() => b.close());
    const original = Array.from({ length: 50 }, (_, i) => `row ${i}: status=ok latency=${i * 3}ms`).join('\n');
    const hash = contentHash(original);
    const store = a.app.service('originals')!;
    store.put([{ hash, original, toolName: 'Bash', originalItems: 50, keptItems: 5, unit: 'lines', transforms: ['log_compressor'] }]);
    await store.durable!();
    const miss = await fetch(`${b.url}/v1/retrieve/${'0'.repeat(24)}`);
    expect(miss.status).toBe(404);
    const hit = await fetch(`${b.url}/v1/retrieve/${hash}`);
    expect(hit.status).toBe(200);
    expect(((await hit.json()) as Json).original_content).toBe(original);
    const byPrefix = await fetch(`${b.url}/v1/retrieve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ hash: hash.slice(0, 12), query: 'latency=30ms' }) });
    expect(byPrefix.status).toBe(200);
    expect(((await byPrefix.json()) as Json).search).toBeTruthy();
    const health = (await (await fetch(`${b.url}/health`)).json()) as Json;
    expect(health.checks.ccr).toMatchObject({ backend: 'postgres', persistent: true, degraded: false });
  });

  it('hook settings changed on one instance apply on the other (PUT /hooks/aperture/config)', async () => {
    const d = await fresh();
    const config = { databaseUrl: d.url, hook: true, hookPoolSize: 1, skipUpstreamCheck: true, logLevel: 'warn' } as const;
    const a = await startHarness({ config });
    closers.push(() => a.close());
    const b = await startHarness({ config });
    closers.push(() => b.close());
    const put = await fetch(`${a.url}/hooks/aperture/config`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ protect_recent: 3, target_ratio: 0.4 }) });
    expect(put.status).toBe(200);
    let seen: Json = {};
    for (let i = 0; i < 200; i++) {
      seen = (await (await fetch(`${b.url}/hooks/aperture/config`)).json()) as Json;
      if (seen.protect_recent === 3) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(seen).toMatchObject({ protect_recent: 3, target_ratio: 0.4 });
    // a third instance starting later reads them at start
    const c = await startHarness({ config });
    closers.push(() => c.close());
    expect(((await (await fetch(`${c.url}/hooks/aperture/config`)).json()) as Json).protect_recent).toBe(3);
  });
});
