import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configWith } from '../src/config/index.js';
import { openStatsStore, storePaths } from '../src/capabilities/stats/store/open.js';
import type { SqliteStatsStore } from '../src/capabilities/stats/store/sqlite.js';
import type { SavingsEvent } from '../src/capabilities/stats/store/types.js';

let dir: string;
let warnings: string[];
const log = () => pino({ level: 'info' }, { write: (s: string) => void warnings.push(s) });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'headroom-store-'));
  warnings = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.parse('2026-03-27T09:00:00Z');

function ev(i: number, over: Partial<SavingsEvent> = {}): SavingsEvent {
  return {
    ts: T0 + i * 1000, kind: 'proxy', provider: 'anthropic', model: 'claude-sonnet-4-5', project: null,
    inputTokens: 1000, outputTokens: 100, tokensSaved: 250, newInputTokens: 400, cacheReadTokens: 0, cacheWriteTokens: 0,
    savingsUsd: 0.00075, inputCostUsd: 0.003, outputCostUsd: 0.0015, ...over,
  };
}

function open(over: Record<string, unknown> = {}): SqliteStatsStore {
  return openStatsStore({ config: configWith({ workspaceDir: dir, ...over }), log: log() });
}

describe('SQLite stats store', () => {
  it('restart keeps lifetime, session, projects, history and rollups', async () => {
    const a = open();
    for (let i = 0; i < 10; i++) a.record(ev(i, { project: i % 2 ? 'alpha' : 'beta', tokensSaved: i === 3 ? 0 : 250 }));
    await a.flush();
    const before = { life: await a.lifetime(), session: await a.session(T0 + 20_000), projects: await a.projects(), hist: await a.history(100), hourly: await a.rollups('hour'), daily: await a.rollups('day') };
    await a.close();
    const b = open();
    expect(await b.lifetime()).toEqual(before.life);
    expect(await b.session(T0 + 20_000)).toEqual(before.session);
    expect(await b.projects()).toEqual(before.projects);
    expect(await b.history(100)).toEqual(before.hist);
    expect(await b.rollups('hour')).toEqual(before.hourly);
    expect(await b.rollups('day')).toEqual(before.daily);
    expect(before.daily.reduce((n, r) => n + r.requests, 0)).toBe(10);
    expect(before.life).toMatchObject({ requests: 10, tokensSaved: 2250, inputTokens: 10_000 });
    expect(before.hist.stored).toBe(9); // only requests that saved tokens are checkpoints
    expect(before.hist.points.at(-1)).toMatchObject({ cumTokensSaved: 2250, cumInputTokens: 10_000 });
    expect(before.projects.alpha!.requests).toBe(5);
    b.record(ev(11));
    await b.close();
    const c = open();
    expect((await c.lifetime()).requests).toBe(11);
    await c.close();
  });

  it('a background flush writes a large window in several short transactions, losing nothing', async () => {
    const s = open({ statsFlushMs: 10 });
    const [others, commitsBefore] = s.version().split(':').map(Number);
    for (let i = 0; i < 100; i++) s.record(ev(i, { project: i % 2 ? 'alpha' : 'beta' }));
    // the timer flush writes 32 events per transaction and yields between them
    for (let i = 0; i < 500 && s.health().pending > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(s.health().pending).toBe(0);
    expect((await s.lifetime()).requests).toBe(100);
    expect((await s.projects()).alpha!.requests).toBe(50);
    expect((await s.rollups('hour')).reduce((n, r) => n + r.requests, 0)).toBe(100);
    const [othersAfter, commitsAfter] = s.version().split(':').map(Number);
    expect(othersAfter).toBe(others);
    expect(commitsAfter! - commitsBefore!).toBe(4 + 1); // 32 + 32 + 32 + 4 events, and the first flush's retention prune
    await s.close();
  });

  it('rolls the display session over after 60 minutes without requests', async () => {
    const s = open();
    s.record(ev(0));
    s.record(ev(60));
    s.record(ev(0, { ts: T0 + 2 * 3_600_000 }));
    await s.flush();
    const sess = await s.session(T0 + 2 * 3_600_000 + 1000);
    expect(sess.requests).toBe(1);
    expect(sess.startedAt).toBe(T0 + 2 * 3_600_000);
    expect((await s.session(T0 + 4 * 3_600_000)).startedAt).toBeNull();
    await s.close();
  });

  it('keeps at most 50 projects, evicting the smallest', async () => {
    const s = open();
    for (let i = 0; i < 55; i++) s.record(ev(i, { project: `p${i}`, tokensSaved: 1000 + i }));
    await s.flush();
    const names = Object.keys(await s.projects());
    expect(names).toHaveLength(50);
    expect(names).not.toContain('p0');
    expect(names).toContain('p54');
    await s.close();
  });

  it('prunes events and rollup rows beyond retention without touching lifetime', async () => {
    const s = open({ statsRetentionDays: 1 });
    const now = Date.now();
    s.record(ev(0, { ts: now - 3 * 86_400_000 }));
    s.record(ev(0, { ts: now - 1000 }));
    await s.flush();
    s.prune(now);
    expect(s.eventCount()).toBe(1);
    expect((await s.rollups('hour')).every((r) => r.start >= now - 86_400_000 - 3_600_000)).toBe(true);
    expect(await s.rollups('day')).toHaveLength(1);
    expect((await s.lifetime()).requests).toBe(2);
    await s.close();
  });

  it.each([
    ['garbage', (p: string) => writeFileSync(p, 'this is not a database at all '.repeat(20))],
    ['a truncated store', (p: string) => {
      const db = new Database(p);
      db.exec('CREATE TABLE t (v TEXT)');
      const ins = db.prepare('INSERT INTO t VALUES (?)');
      db.transaction(() => { for (let i = 0; i < 5000; i++) ins.run('x'.repeat(200)); })();
      db.close();
      truncateSync(p, Math.floor(statSync(p).size / 2));
    }],
    ['another program\'s SQLite database', (p: string) => {
      const db = new Database(p);
      db.exec('CREATE TABLE customers (id INTEGER)');
      db.close();
    }],
  ])('moves %s aside with a warning and starts fresh', async (_name, make) => {
    const path = storePaths(configWith({ workspaceDir: dir })).store;
    make(path);
    const original = readFileSync(path);
    const s = open();
    const moved = readdirSync(dir).filter((f) => f.includes('.corrupt-') && !f.endsWith('-wal') && !f.endsWith('-shm'));
    expect(moved).toHaveLength(1);
    expect(readFileSync(join(dir, moved[0]!)).equals(original)).toBe(true);
    expect(warnings.join('')).toContain('moved aside');
    expect(s.health().movedAside).toBe(join(dir, moved[0]!));
    s.record(ev(0));
    await s.flush();
    expect((await s.lifetime()).requests).toBe(1);
    await s.close();
  });

  it('uses an empty (0-byte) file as a new store', async () => {
    const path = storePaths(configWith({ workspaceDir: dir })).store;
    writeFileSync(path, '');
    const s = open();
    expect(s.health().movedAside).toBeNull();
    await s.close();
  });
});

const v3 = {
  schema_version: 3,
  lifetime: { requests: 40, tokens_saved: 12500, compression_savings_usd: 0.04, total_input_tokens: 50000, total_input_cost_usd: 0.15 },
  display_session: { requests: 3, tokens_saved: 900, compression_savings_usd: 0.003, total_input_tokens: 3000, total_input_cost_usd: 0.01, savings_percent: 23.08, started_at: '2026-03-27T08:30:00Z', last_activity_at: '2026-03-27T09:00:00Z' },
  history: [
    { timestamp: '2026-03-25T10:00:00Z', provider: 'anthropic', model: 'claude-sonnet-4-5', total_tokens_saved: 9000, compression_savings_usd: 0.027, total_input_tokens: 30000, total_input_cost_usd: 0.09 },
    { timestamp: '2026-03-26T10:00:00Z', provider: 'anthropic', model: 'claude-sonnet-4-5', total_tokens_saved: 11000, compression_savings_usd: 0.033, total_input_tokens: 40000, total_input_cost_usd: 0.12 },
    { timestamp: 'not a time', total_tokens_saved: 99999 },
    { timestamp: '2026-03-27T09:00:00', provider: 'openai', model: 'gpt-4o', total_tokens_saved: 12000, compression_savings_usd: 0.038, total_input_tokens: 48000, total_input_cost_usd: 0.14 },
  ],
  projects: { 'my%20app': { requests: 10, tokens_saved: 5000, compression_savings_usd: 0.015, total_input_tokens: 20000, total_input_cost_usd: 0.06, last_activity_at: '2026-03-27T09:00:00Z' } },
};

const v2 = {
  schema_version: 2,
  lifetime: { requests: 5, tokens_saved: 700, compression_savings_usd: 0.002 },
  display_session: { requests: 1, tokens_saved: 100, started_at: 'garbage', last_activity_at: '2026-01-01T00:00:00Z' },
  history: [['2026-03-20T10:00:00Z', 300, 0.001], ['2026-03-21T10:00:00Z', 800, 0.0024, 2000, 0.006]],
};

describe('import of a Headroom proxy_savings.json', () => {
  it('imports schema 3 once: lifetime, session, projects, history; the first point is a baseline', async () => {
    writeFileSync(join(dir, 'proxy_savings.json'), JSON.stringify(v3, null, 2));
    const s = open();
    expect(s.health().importedFrom).toBe(join(dir, 'proxy_savings.json'));
    expect(await s.lifetime()).toMatchObject({ requests: 40, tokensSaved: 12500, inputTokens: 50000 });
    const hist = await s.history(100);
    expect(hist.points.map((p) => p.cumTokensSaved)).toEqual([9000, 11000, 12000]);
    expect(hist.points[2]).toMatchObject({ provider: 'openai', model: 'gpt-4o', ts: Date.parse('2026-03-27T09:00:00Z') });
    const hourly = await s.rollups('hour');
    // deltas: the baseline point contributes nothing, then +2000 and +1000
    expect(hourly.map((r) => r.tokensSaved)).toEqual([0, 2000, 1000]);
    expect(Object.keys(await s.projects())).toEqual(['my app']);
    expect((await s.session(Date.parse('2026-03-27T09:10:00Z'))).requests).toBe(3);
    s.record(ev(0, { ts: Date.parse('2026-03-27T09:20:00Z') }));
    await s.close();
    const again = open();
    expect((await again.lifetime()).requests).toBe(41);
    expect((await again.history(100)).points).toHaveLength(4);
    await again.close();
  });

  it('imports schema 2 with legacy array points and a broken session', async () => {
    writeFileSync(join(dir, 'proxy_savings.json'), JSON.stringify(v2));
    const s = open();
    expect(await s.lifetime()).toMatchObject({ requests: 5, tokensSaved: 800, inputTokens: 2000 });
    expect((await s.session(Date.parse('2026-01-01T00:10:00Z'))).startedAt).toBeNull();
    expect((await s.history(10)).points.map((p) => p.cumTokensSaved)).toEqual([300, 800]);
    await s.close();
  });

  it('a HEADROOM_SAVINGS_PATH ending in .json is imported and the store lives beside it', async () => {
    const json = join(dir, 'custom', 'savings.json');
    writeFileSync(join(dir, 'x'), '');
    rmSync(join(dir, 'x'));
    expect(storePaths({ savingsPath: json, workspaceDir: dir }).store).toBe(join(dir, 'custom', 'savings.sqlite'));
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'custom'));
    writeFileSync(json, JSON.stringify(v3));
    const s = open({ savingsPath: json });
    expect(s.location).toBe(join(dir, 'custom', 'savings.sqlite'));
    expect((await s.lifetime()).tokensSaved).toBe(12500);
    await s.close();
    expect(readFileSync(json, 'utf8')).toBe(JSON.stringify(v3)); // never rewritten
  });

  it('a Headroom JSON file found at the store path is moved aside and imported', async () => {
    const path = storePaths(configWith({ workspaceDir: dir })).store;
    writeFileSync(path, JSON.stringify(v3));
    const s = open();
    expect(s.health().movedAside).not.toBeNull();
    expect((await s.lifetime()).tokensSaved).toBe(12500);
    await s.close();
  });
});

describe('stateless mode', () => {
  it('reads an existing store into memory and writes nothing', async () => {
    const a = open();
    a.record(ev(0));
    await a.close();
    const path = storePaths(configWith({ workspaceDir: dir })).store;
    const bytes = readFileSync(path);
    const listing = readdirSync(dir).sort();
    const s = open({ stateless: true });
    expect(s.backend).toBe('memory');
    expect((await s.lifetime()).requests).toBe(1);
    s.record(ev(1));
    await s.flush();
    expect((await s.lifetime()).requests).toBe(2);
    await s.close();
    expect(readFileSync(path).equals(bytes)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(listing);
  });

  it('creates no files in an empty workspace', async () => {
    const s = open({ stateless: true });
    s.record(ev(0));
    await s.close();
    expect(readdirSync(dir)).toEqual([]);
    expect(existsSync(storePaths(configWith({ workspaceDir: dir })).store)).toBe(false);
  });
});

describe('an unusable store location', () => {
  it('keeps stats in memory, reports the store degraded, and still works', async () => {
    const notADir = join(dir, 'a-file');
    writeFileSync(notADir, 'x');
    const s = open({ savingsPath: join(notADir, 'stats.sqlite') });
    expect(s.backend).toBe('memory');
    expect(s.health().ok).toBe(false);
    expect(s.health().lastError).toContain('could not be opened');
    expect(warnings.join('')).toContain('serving from memory, keeping the file and retrying in the background');
    s.record(ev(0));
    await s.flush();
    expect((await s.lifetime()).requests).toBe(1);
    await s.close();
  });
});
