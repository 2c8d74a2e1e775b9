/**
 * The CCR store: hash lookups (case, prefixes, `hash=`), sliding TTL, byte and entry budgets
 * (least recently used first), why a miss happened, retrieval counts, and the SQLite backend
 * surviving a restart (and opening files written by earlier versions).
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { OriginalEntry } from '../src/originals/sink.js';
import { SqliteCcrStore } from '../src/originals/sqlite-store.js';
import { type CcrStoreOptions, MemoryCcrStore, normaliseLookupHash } from '../src/originals/store.js';
import { answerRetrieve, parseRetrieveArgs } from '../src/capabilities/ccr/tool.js';
import { contentHash } from '../src/compress/hash.js';

function entry(original: string, extra: Partial<OriginalEntry> = {}): OriginalEntry {
  return { hash: contentHash(original), original, toolName: 'search', originalItems: 100, keptItems: 10, unit: 'rows', transforms: ['json_rows'], ...extra };
}

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

const base = (c: { now: () => number }, extra: Partial<CcrStoreOptions> = {}): CcrStoreOptions => ({
  ttlMs: 60_000, maxBytes: 10 * 1024 * 1024, maxEntries: 1000, now: c.now, ...extra,
});

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('memory store', () => {
  it('finds an original by its hash in any case, with a hash= prefix, or by a unique prefix', () => {
    const s = new MemoryCcrStore(base(clock()));
    const e = entry('the original text '.repeat(20));
    s.put([e]);
    for (const q of [e.hash, e.hash.toUpperCase(), `hash=${e.hash}`, ` ${e.hash} `, e.hash.slice(0, 12)]) {
      const l = s.get(q);
      expect(l.status, q).toBe('available');
      if (l.status === 'available') expect(l.entry.original).toBe(e.original);
    }
    expect(normaliseLookupHash('not-a-hash')).toBeNull();
    const bad = s.get('zzzz');
    expect(bad).toMatchObject({ status: 'missing', reason: 'invalid' });
    expect(s.get('0123456789ab0123456789ab')).toMatchObject({ status: 'missing', reason: 'unknown' });
  });

  it('TTL slides with use and an expired original reports its age', () => {
    const c = clock();
    const s = new MemoryCcrStore(base(c));
    const e = entry('expiring original '.repeat(10));
    s.put([e]);
    c.advance(50_000);
    expect(s.get(e.hash, { touch: true }).status).toBe('available'); // refreshes
    c.advance(50_000);
    expect(s.has(e.hash)).toBe(true);
    s.put([e]); // a re-offer refreshes too
    c.advance(59_000);
    expect(s.get(e.hash).status).toBe('available');
    c.advance(2_000);
    expect(s.has(e.hash)).toBe(false);
    const l = s.get(e.hash);
    expect(l).toMatchObject({ status: 'expired', reason: 'expired', ageSeconds: 61 });
    expect(s.stats()).toMatchObject({ entries: 0, expired: 1, puts: 1, refreshes: 1 });
    // asked again later: still reported as expired (tombstone)
    expect(s.get(e.hash)).toMatchObject({ status: 'expired' });
  });

  it('evicts least recently used originals beyond the byte budget and the entry cap', () => {
    const c = clock();
    const s = new MemoryCcrStore(base(c, { maxBytes: 3 * (256 + 2000 * 2), maxEntries: 1000 }));
    const es = ['a', 'b', 'c', 'd'].map((ch) => entry(ch.repeat(2000)));
    s.put(es.slice(0, 3));
    s.get(es[0]!.hash, { touch: true }); // a becomes most recent
    s.put([es[3]!]);
    expect(s.has(es[1]!.hash)).toBe(false); // b was least recently used
    expect(s.has(es[0]!.hash) && s.has(es[2]!.hash) && s.has(es[3]!.hash)).toBe(true);
    expect(s.get(es[1]!.hash)).toMatchObject({ status: 'missing', reason: 'evicted' });
    expect(s.stats().evictions).toBe(1);
    expect(s.stats().bytes).toBeLessThanOrEqual(s.stats().maxBytes);

    const capped = new MemoryCcrStore(base(c, { maxEntries: 2 }));
    capped.put(es);
    expect(capped.stats().entries).toBe(2);
    expect(capped.has(es[3]!.hash)).toBe(true);
  });

  it('answers retrieve calls: whole original, a query, a miss with an actionable message; counts retrievals', () => {
    const s = new MemoryCcrStore(base(clock()));
    const lines = Array.from({ length: 200 }, (_, i) => (i === 137 ? 'ERROR payment gateway timeout' : `INFO request ${i} ok`)).join('\n');
    const e = entry(lines, { unit: 'lines' });
    s.put([e]);
    const full = answerRetrieve(s, parseRetrieveArgs(JSON.stringify({ hash: e.hash })), 'proxy');
    expect(full).toMatchObject({ hit: true, text: lines });
    const q = answerRetrieve(s, parseRetrieveArgs({ hash: e.hash, query: 'payment timeout' }), 'proxy');
    expect(q.text).toContain('L138: ERROR payment gateway timeout');
    expect(q.text).not.toContain('request 3 ok');
    const miss = answerRetrieve(s, parseRetrieveArgs('{"hash":"abcdefabcdefabcdefabcdef"}'), 'proxy');
    expect(miss.hit).toBe(false);
    expect(miss.text).toMatch(/run the tool or command that produced it again/);
    const l = s.get(e.hash);
    expect(l.status === 'available' && l.entry.retrievals).toBe(2);
    expect(s.recentRetrievals().map((r) => r.retrievalType)).toEqual(['search', 'full']);
  });
});

describe('SQLite store', () => {
  it('survives a restart: originals and retrieval counts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ccr-store-'));
    dirs.push(dir);
    const path = join(dir, 'ccr_store.db');
    const c = clock(Date.now());
    const e = entry('persisted original '.repeat(50));
    const a = new SqliteCcrStore({ ...base(c), path });
    a.put([e]);
    a.get(e.hash, { touch: true });
    a.recordRetrieval({ hash: e.hash, query: null, itemsRetrieved: 100, totalItems: 100, toolName: 'search', retrievalType: 'full', via: 'api', at: c.now() });
    a.close();

    const b = new SqliteCcrStore({ ...base(c), path });
    const l = b.get(e.hash);
    expect(l.status).toBe('available');
    if (l.status === 'available') {
      expect(l.entry.original).toBe(e.original);
      expect(l.entry).toMatchObject({ toolName: 'search', originalItems: 100, keptItems: 10, unit: 'rows', transforms: ['json_rows'], retrievals: 1 });
    }
    expect(b.stats()).toMatchObject({ backend: 'sqlite', entries: 1, path });
    b.close();
    // the file holds the originals' table only
    const db = new Database(path, { readonly: true });
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[];
    db.close();
    expect(tables.map((t) => t.name)).toEqual(['ccr_originals']);
  });

  it('opens a file written by an earlier version (with its ccr_sessions table) and serves its originals', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ccr-store-'));
    dirs.push(dir);
    const path = join(dir, 'ccr_store.db');
    const c = clock(Date.now());
    const a = new SqliteCcrStore({ ...base(c), path });
    const e = entry('original from an earlier version '.repeat(40));
    a.put([e]);
    a.close();
    // what earlier versions also kept in the file: conversations given the retrieve tool
    const old = new Database(path);
    old.exec('CREATE TABLE IF NOT EXISTS ccr_sessions (key TEXT PRIMARY KEY, last_used INTEGER NOT NULL)');
    old.prepare('INSERT INTO ccr_sessions (key, last_used) VALUES (?, ?)').run('conv-1', c.now());
    old.close();

    const b = new SqliteCcrStore({ ...base(c), path });
    const l = b.get(e.hash);
    expect(l.status === 'available' && l.entry.original).toBe(e.original);
    const s = b.stats();
    expect(s).toMatchObject({ backend: 'sqlite', entries: 1, degraded: false, lastError: null, movedAside: null });
    expect(s).not.toHaveProperty('stickyConversations');
    // new writes go on working with the old table present
    const e2 = entry('a new original '.repeat(40));
    b.put([e2]);
    b.flush();
    expect(b.stats()).toMatchObject({ pendingWrites: 0, lastError: null });
    b.close();
    const again = new SqliteCcrStore({ ...base(c), path });
    expect(again.get(e2.hash).status).toBe('available');
    again.close();
  });

  it('does not load expired originals at startup and persists evictions', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ccr-store-'));
    dirs.push(dir);
    const path = join(dir, 'ccr_store.db');
    const c = clock(Date.now());
    const old = entry('old original '.repeat(40));
    const a = new SqliteCcrStore({ ...base(c), path });
    a.put([old]);
    a.flush();
    c.advance(30_000);
    const fresh = entry('fresh original '.repeat(40));
    a.put([fresh]);
    a.close();
    c.advance(40_000); // old is now 70 s old (TTL 60 s), fresh 40 s
    const b = new SqliteCcrStore({ ...base(c), path });
    expect(b.has(old.hash)).toBe(false);
    expect(b.has(fresh.hash)).toBe(true);
    b.close();
  });

  it('reads an original another process stored in the same database', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ccr-store-'));
    dirs.push(dir);
    const path = join(dir, 'ccr_store.db');
    const c = clock(Date.now());
    const a = new SqliteCcrStore({ ...base(c), path });
    const b = new SqliteCcrStore({ ...base(c), path });
    const e = entry('shared original '.repeat(30));
    a.put([e]);
    a.flush();
    expect(b.get(e.hash).status).toBe('available');
    a.close();
    b.close();
  });
});
