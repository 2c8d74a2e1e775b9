import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BoundedOriginals } from '../src/originals/sink.js';
import { MemoryReplayStore, SqliteReplayStore } from '../src/compress/replay.js';

const HOUR = 3_600_000;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'headroom-replay-'));
  dirs.push(d);
  return d;
}

describe('replay map (memory)', () => {
  it('stores compressed text and "left as is" decisions', () => {
    const s = new MemoryReplayStore({ ttlMs: HOUR, maxBytes: 1 << 20 });
    s.putMany([{ key: 'a', compressed: 'short' }, { key: 'b', compressed: null }]);
    expect(s.get('a')).toEqual({ compressed: 'short' });
    expect(s.get('b')).toEqual({ compressed: null });
    expect(s.get('c')).toBeUndefined();
    expect(s.stats()).toMatchObject({ backend: 'memory', entries: 2, hits: 2, misses: 1 });
  });

  it('expires entries a TTL after their last use (sliding)', () => {
    let now = 0;
    const s = new MemoryReplayStore({ ttlMs: HOUR, maxBytes: 1 << 20, now: () => now });
    s.putMany([{ key: 'a', compressed: 'x' }]);
    now = HOUR - 1;
    expect(s.get('a')).toBeDefined(); // refreshed
    now = 2 * HOUR - 2;
    expect(s.get('a')).toBeDefined();
    now = 4 * HOUR;
    expect(s.get('a')).toBeUndefined();
  });

  it('drops the least recently used entries beyond the byte budget', () => {
    const s = new MemoryReplayStore({ ttlMs: HOUR, maxBytes: 2000 });
    s.putMany([{ key: 'a', compressed: 'x'.repeat(400) }, { key: 'b', compressed: 'y'.repeat(400) }]);
    s.get('a');
    s.putMany([{ key: 'c', compressed: 'z'.repeat(400) }]);
    expect(s.get('b')).toBeUndefined();
    expect(s.get('a')).toBeDefined();
    expect(s.get('c')).toBeDefined();
    expect(s.stats().evictions).toBe(1);
  });
});

describe('replay map (SQLite)', () => {
  it('survives a restart: decisions written in a batch are loaded again', () => {
    const path = join(tmp(), 'replay.db');
    const a = new SqliteReplayStore({ path, ttlMs: HOUR, maxBytes: 1 << 20, flushDelayMs: 10_000 });
    a.putMany([{ key: 'k1', compressed: 'compressed one' }, { key: 'k2', compressed: null }]);
    expect(a.stats().pendingWrites).toBe(2);
    a.close(); // flushes
    const b = new SqliteReplayStore({ path, ttlMs: HOUR, maxBytes: 1 << 20 });
    expect(b.get('k1')).toEqual({ compressed: 'compressed one' });
    expect(b.get('k2')).toEqual({ compressed: null });
    expect(b.stats()).toMatchObject({ backend: 'sqlite', entries: 2, path });
    b.close();
  });

  it('does not load expired decisions', () => {
    const path = join(tmp(), 'replay.db');
    let now = 1_000_000;
    const a = new SqliteReplayStore({ path, ttlMs: HOUR, maxBytes: 1 << 20, now: () => now });
    a.putMany([{ key: 'old', compressed: 'x' }]);
    a.flush();
    now += 2 * HOUR;
    a.putMany([{ key: 'new', compressed: 'y' }]);
    a.close();
    const b = new SqliteReplayStore({ path, ttlMs: HOUR, maxBytes: 1 << 20, now: () => now });
    expect(b.get('old')).toBeUndefined();
    expect(b.get('new')).toEqual({ compressed: 'y' });
    b.close();
  });

  it('writes off the request path, on a timer', () => {
    const path = join(tmp(), 'replay.db');
    // fake timers: the flush timer fires exactly when advanced past its delay, on any machine
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const a = new SqliteReplayStore({ path, ttlMs: HOUR, maxBytes: 1 << 20, flushDelayMs: 500 });
      const onDisk = new Database(path, { readonly: true });
      const rows = () => onDisk.prepare('SELECT key, compressed FROM replay').all();
      a.putMany([{ key: 'k', compressed: 'v' }]);
      expect(a.stats().pendingWrites).toBe(1); // nothing written by the call itself
      expect(rows()).toEqual([]);
      vi.advanceTimersByTime(499);
      expect(rows()).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(a.stats().pendingWrites).toBe(0);
      expect(rows()).toEqual([{ key: 'k', compressed: 'v' }]); // by the timer, before any close
      onDisk.close();
      a.close();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('originals sink', () => {
  it('keeps recent originals within its budget', () => {
    const sink = new BoundedOriginals(150, 10);
    const entry = (hash: string, original: string) => ({ hash, original, toolName: null, originalItems: 1, keptItems: 0, unit: 'rows', transforms: [] });
    sink.put([entry('a', 'x'.repeat(30)), entry('b', 'y'.repeat(30))]);
    expect(sink.get('A')?.original).toBe('x'.repeat(30));
    sink.put([entry('c', 'z'.repeat(30))]);
    expect(sink.get('a')).toBeUndefined();
    expect(sink.size).toBe(2);
  });
});

describe('replay map backend choice', () => {
  it('keeps decisions in memory, reports the map degraded and retries when the database cannot be opened', async () => {
    const { startHarness } = await import('./helpers/harness.js');
    const { writeFileSync } = await import('node:fs');
    const dir = tmp();
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'x');
    const h = await startHarness({ config: { workspaceDir: file } });
    try {
      expect(h.logs.some((l) => l.includes('cannot open the replay map; serving from memory'))).toBe(true);
      const health = (await (await fetch(`${h.url}/health`)).json()) as { checks: { compression: { status: string; degraded: boolean; replay: { error: string } } } };
      expect(health.checks.compression).toMatchObject({ status: 'degraded', degraded: true });
      expect(health.checks.compression.replay.error).toMatch(/could not be opened.*retried/);
    } finally {
      await h.close();
    }
  });

  it('uses memory when stateless', async () => {
    const { startHarness } = await import('./helpers/harness.js');
    const h = await startHarness({ config: { stateless: true } });
    try {
      const health = (await (await fetch(`${h.url}/health`)).json()) as { checks: { compression: { status: string; replay: { backend: string } } } };
      expect(health.checks.compression).toMatchObject({ status: 'healthy', replay: { backend: 'memory' } });
    } finally {
      await h.close();
    }
  });
});
