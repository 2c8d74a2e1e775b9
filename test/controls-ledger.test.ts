import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BudgetLedger, initBudgetSchema, LEASE_TTL_MS, type ScopeRef } from '../src/capabilities/controls/budget/ledger.js';
import { BUDGET_FILE, openBudgetDb } from '../src/capabilities/controls/budget/store.js';
import { type BudgetPeriod, periodWindow } from '../src/capabilities/controls/period.js';
import { createLogger, silentLogger } from '../src/core/logger.js';

let dir: string;
const open: Database.Database[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'headroom-ledger-'));
});
afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

function fileDb(): Database.Database {
  const { db } = openBudgetDb({ workspaceDir: dir, stateless: false }, silentLogger());
  open.push(db);
  return db;
}

const global = (limit: number | null): ScopeRef[] => [{ scope: 'global', limit }];

describe('budget ledger: exact reservations', () => {
  it('admits exactly as many reservations as fit, then settles to the actual cost', () => {
    const t = Date.parse('2026-03-10T12:00:00Z');
    const ledger = new BudgetLedger({ db: fileDb(), log: silentLogger(), now: () => t });
    const w = periodWindow('daily', t);
    const results = Array.from({ length: 50 }, () => ledger.reserve(global(1.05), w, 0.1));
    const admitted = results.filter((r) => r.ok);
    expect(admitted).toHaveLength(10);
    const state = ledger.state({ scope: 'global', limit: 1.05 }, w);
    expect(state.inflight).toBeCloseTo(1, 10);
    expect(state.remaining).toBeCloseTo(0.05, 10);
    // settle half of them at a fraction of the reservation: room for more
    for (const r of admitted.slice(0, 5)) if (r.ok) ledger.settle(r.reservation, 0.02);
    expect(state.spent).toBeCloseTo(0.1, 10);
    expect(state.inflight).toBeCloseTo(0.5, 10);
    const more = Array.from({ length: 10 }, () => ledger.reserve(global(1.05), w, 0.1)).filter((r) => r.ok);
    expect(more).toHaveLength(4); // 1.05 - 0.1 spent - 0.5 in flight = 0.45
    ledger.close();
  });

  it('a failed or aborted request (no usage) releases its whole reservation', () => {
    const t = Date.parse('2026-03-10T12:00:00Z');
    const ledger = new BudgetLedger({ db: fileDb(), log: silentLogger(), now: () => t });
    const w = periodWindow('daily', t);
    const r = ledger.reserve(global(1), w, 0.9);
    expect(r.ok).toBe(true);
    expect(ledger.reserve(global(1), w, 0.2).ok).toBe(false);
    if (r.ok) ledger.settle(r.reservation, 0);
    expect(ledger.reserve(global(1), w, 0.2).ok).toBe(true);
    ledger.close();
  });

  it('reserves in every scope or in none', () => {
    const t = Date.parse('2026-03-10T12:00:00Z');
    const ledger = new BudgetLedger({ db: fileDb(), log: silentLogger(), now: () => t });
    const w = periodWindow('daily', t);
    const refs: ScopeRef[] = [{ scope: 'global', limit: 10 }, { scope: 'key:aaaa', limit: 0.25 }];
    expect(ledger.reserve(refs, w, 0.1).ok).toBe(true);
    expect(ledger.reserve(refs, w, 0.1).ok).toBe(true);
    const refused = ledger.reserve(refs, w, 0.1);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.state.scope).toBe('key:aaaa');
    // the refused request took nothing from the global scope
    expect(ledger.state(refs[0]!, w).inflight).toBeCloseTo(0.2, 10);
    // another key is not affected
    expect(ledger.reserve([{ scope: 'global', limit: 10 }, { scope: 'key:bbbb', limit: 0.25 }], w, 0.1).ok).toBe(true);
    ledger.close();
  });

  it('a budget of 0 refuses every priced request', () => {
    const t = Date.now();
    const ledger = new BudgetLedger({ db: fileDb(), log: silentLogger(), now: () => t });
    expect(ledger.reserve(global(0), periodWindow('daily', t), 0.000001).ok).toBe(false);
    ledger.close();
  });
});

describe('budget ledger: durable and shared between processes', () => {
  it('spend survives closing and reopening the store', () => {
    const t = Date.parse('2026-03-10T12:00:00Z');
    const w = periodWindow('daily', t);
    const a = new BudgetLedger({ db: fileDb(), log: silentLogger(), now: () => t });
    for (let i = 0; i < 3; i++) {
      const r = a.reserve(global(1), w, 0.2);
      if (r.ok) a.settle(r.reservation, 0.15);
    }
    a.close();
    open[0]!.close();
    const b = new BudgetLedger({ db: fileDb(), log: silentLogger(), now: () => t });
    expect(b.state({ scope: 'global', limit: 1 }, w).spent).toBeCloseTo(0.45, 10);
    expect(b.reserve(global(1), w, 0.5).ok).toBe(true);
    expect(b.reserve(global(1), w, 0.1).ok).toBe(false);
    b.close();
  });

  it('two processes on one file never admit more than the limit together', () => {
    const t = Date.parse('2026-03-10T12:00:00Z');
    const w = periodWindow('daily', t);
    const a = new BudgetLedger({ db: fileDb(), log: silentLogger(), now: () => t, owner: 'a' });
    const b = new BudgetLedger({ db: fileDb(), log: silentLogger(), now: () => t, owner: 'b' });
    let admitted = 0;
    for (let i = 0; i < 50; i++) if ((i % 2 ? a : b).reserve(global(1.05), w, 0.1).ok) admitted++;
    expect(admitted).toBe(10);
    a.close();
    b.close();
  });

  it('spare lease returns to the pool at the next flush; settled spend is seen by the other process', () => {
    const t = Date.parse('2026-03-10T12:00:00Z');
    const w = periodWindow('daily', t);
    const a = new BudgetLedger({ db: fileDb(), log: silentLogger(), now: () => t, owner: 'a' });
    const b = new BudgetLedger({ db: fileDb(), log: silentLogger(), now: () => t, owner: 'b' });
    const r = a.reserve(global(10), w, 1);
    expect(r.ok).toBe(true);
    // a holds 1 in flight plus spare: b sees less than 9 available
    expect(b.reserve(global(10), w, 9).ok).toBe(false);
    if (r.ok) a.settle(r.reservation, 0.5);
    a.flush();
    expect(b.reserve(global(10), w, 9.5).ok).toBe(true);
    expect(b.reserve(global(10), w, 0.001).ok).toBe(false);
    a.close();
    b.close();
  });

  it('the lease of a process that stopped refreshing it is ignored after the TTL', () => {
    let t = Date.parse('2026-03-10T12:00:00Z');
    const w = periodWindow('daily', t);
    const dead = new BudgetLedger({ db: fileDb(), log: silentLogger(), now: () => t, owner: 'dead' });
    expect(dead.reserve(global(1), w, 0.9).ok).toBe(true);
    const live = new BudgetLedger({ db: fileDb(), log: silentLogger(), now: () => t, owner: 'live' });
    expect(live.reserve(global(1), w, 0.5).ok).toBe(false);
    t += LEASE_TTL_MS + 1;
    expect(live.reserve(global(1), w, 0.5).ok).toBe(true);
    live.close();
  });

  it('when the store fails, decisions go on from the last known figures and health says so', () => {
    const t = Date.parse('2026-03-10T12:00:00Z');
    const w = periodWindow('daily', t);
    const lines: string[] = [];
    const log = createLogger({ level: 'warn', destination: { write: (s: string) => void lines.push(s) } });
    const db = fileDb();
    const ledger = new BudgetLedger({ db, log, now: () => t });
    const r = ledger.reserve(global(1), w, 0.3);
    if (r.ok) ledger.settle(r.reservation, 0.3);
    ledger.flush();
    db.close();
    expect(ledger.reserve(global(1), w, 0.5).ok).toBe(true);
    expect(ledger.reserve(global(1), w, 0.5).ok).toBe(false); // 0.3 spent + 0.5 in flight
    expect(ledger.health().ok).toBe(false);
    expect(lines.join('')).toContain('budget store unavailable; deciding from the last known figures');
  });

  it('stateless mode keeps the budget in memory and writes no file', () => {
    const { db, backend, path } = openBudgetDb({ workspaceDir: dir, stateless: true }, silentLogger());
    open.push(db);
    expect(backend).toBe('memory');
    expect(path).toBeNull();
    const ledger = new BudgetLedger({ db, log: silentLogger() });
    expect(ledger.reserve(global(1), periodWindow('daily', Date.now()), 0.5).ok).toBe(true);
    ledger.close();
    expect(() => new Database(join(dir, BUDGET_FILE), { fileMustExist: true })).toThrow();
  });

  it('a file that is not a budget store is moved aside with a warning', () => {
    writeFileSync(join(dir, BUDGET_FILE), 'this is not a database at all, just text '.repeat(10));
    const lines: string[] = [];
    const log = createLogger({ level: 'warn', destination: { write: (s: string) => void lines.push(s) } });
    const r = openBudgetDb({ workspaceDir: dir, stateless: false }, log);
    open.push(r.db);
    expect(r.backend).toBe('sqlite');
    expect(lines.join('')).toContain('budget store is unusable; moved aside');
  });

  it('an unusable location falls back to memory with the reason', () => {
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'x');
    const r = openBudgetDb({ workspaceDir: join(file, 'sub'), stateless: false }, silentLogger());
    open.push(r.db);
    expect(r.backend).toBe('memory');
    expect(r.openError).toBeTruthy();
  });
});

describe('budget ledger: periods reset at their boundary (injected clock)', () => {
  const cases: [BudgetPeriod, string, string][] = [
    ['hourly', '2026-03-10T14:20:00Z', '2026-03-10T15:00:00Z'],
    ['daily', '2026-03-10T08:00:00Z', '2026-03-11T00:00:00Z'],
    ['weekly', '2026-03-12T08:00:00Z', '2026-03-16T00:00:00Z'], // Thursday -> next Monday
    ['monthly', '2026-02-10T08:00:00Z', '2026-03-01T00:00:00Z'],
  ];
  it.each(cases)('%s', (period, startText, boundaryText) => {
    let t = Date.parse(startText);
    const db = new Database(':memory:');
    open.push(db);
    initBudgetSchema(db);
    const ledger = new BudgetLedger({ db, log: silentLogger(), now: () => t });
    const reserve = () => ledger.reserve(global(1), periodWindow(period, t), 0.4);
    for (let i = 0; i < 2; i++) {
      const r = reserve();
      expect(r.ok).toBe(true);
      if (r.ok) ledger.settle(r.reservation, 0.4);
    }
    ledger.flush();
    expect(reserve().ok).toBe(false);
    t = Date.parse(boundaryText) - 1;
    expect(reserve().ok).toBe(false);
    expect(ledger.state({ scope: 'global', limit: 1 }, periodWindow(period, t)).spent).toBeCloseTo(0.8, 10);
    t = Date.parse(boundaryText);
    expect(ledger.state({ scope: 'global', limit: 1 }, periodWindow(period, t)).spent).toBe(0);
    expect(reserve().ok).toBe(true);
    ledger.close();
  });

  it('a request settled after the boundary is charged to the period it reserved in', () => {
    let t = Date.parse('2026-03-10T23:59:59Z');
    const db = new Database(':memory:');
    open.push(db);
    initBudgetSchema(db);
    const ledger = new BudgetLedger({ db, log: silentLogger(), now: () => t });
    const day1 = periodWindow('daily', t);
    const r = ledger.reserve(global(1), day1, 0.5);
    t = Date.parse('2026-03-11T00:00:05Z');
    if (r.ok) ledger.settle(r.reservation, 0.3);
    ledger.flush();
    expect(ledger.state({ scope: 'global', limit: 1 }, day1).spent).toBeCloseTo(0.3, 10);
    expect(ledger.state({ scope: 'global', limit: 1 }, periodWindow('daily', t)).spent).toBe(0);
    ledger.close();
  });
});
