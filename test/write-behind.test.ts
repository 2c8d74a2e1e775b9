import { describe, expect, it } from 'vitest';
import { WriteBehind } from '../src/storage/write-behind.js';

interface Row {
  key: string;
  n: number;
  vital: boolean;
}

/** A database stand-in: records each chunk written; `down` makes writes throw; `gate` holds a write until released. */
function fakeDb() {
  const chunks: Row[][] = [];
  const state = { down: false, gate: null as Promise<void> | null };
  return {
    chunks,
    state,
    write: async (rows: Row[]) => {
      if (state.gate) await state.gate;
      if (state.down) throw new Error('connection refused');
      chunks.push(rows.map((r) => ({ ...r })));
    },
  };
}

const make = (db: ReturnType<typeof fakeDb>, extra: Partial<ConstructorParameters<typeof WriteBehind<Row>>[0]> = {}) =>
  new WriteBehind<Row>({ label: 'test store', write: db.write, vital: (r) => r.vital, delayMs: 10_000, ...extra });

describe('WriteBehind: one way for the shared stores to write off the request path', () => {
  it('durable() resolves once the vital rows are written, every waiter of the moment sharing one write', async () => {
    const db = fakeDb();
    const wb = make(db);
    wb.put('a', { key: 'a', n: 1, vital: true });
    wb.put('b', { key: 'b', n: 1, vital: false });
    await Promise.all([wb.durable(), wb.durable(), wb.durable()]);
    expect(db.chunks).toHaveLength(1);
    expect(db.chunks[0]!.map((r) => r.key)).toEqual(['a', 'b']);
    expect(wb.size).toBe(0);
    // nothing vital pending, nothing being written: no wait and no write
    wb.put('c', { key: 'c', n: 1, vital: false });
    await wb.durable();
    expect(db.chunks).toHaveLength(1);
    wb.close();
  });

  it('writes in chunks, merges rows of one key, and keeps a row queued again while it was being written', async () => {
    const db = fakeDb();
    const wb = make(db, { chunk: 2, merge: (old, r) => ({ ...r, vital: r.vital || old.vital }) });
    wb.put('a', { key: 'a', n: 1, vital: true });
    wb.put('a', { key: 'a', n: 2, vital: false });
    wb.put('b', { key: 'b', n: 1, vital: false });
    wb.put('c', { key: 'c', n: 1, vital: false });
    let release!: () => void;
    db.state.gate = new Promise<void>((r) => (release = r));
    const writing = wb.write();
    // queued again while its first chunk is being written: it must not be lost when that chunk completes
    wb.put('a', { key: 'a', n: 3, vital: false });
    db.state.gate = null;
    release();
    await writing;
    // the merged row kept the vital flag and the newest figures; a written again with n 3
    expect(db.chunks).toEqual([
      [{ key: 'a', n: 2, vital: true }, { key: 'b', n: 1, vital: false }],
      [{ key: 'a', n: 3, vital: true }, { key: 'c', n: 1, vital: false }],
    ]);
    expect(wb.size).toBe(0);
    wb.close();
  });

  it('a failed write keeps its rows, durable() then rejects at once, and the rows are written once when the store returns', async () => {
    const db = fakeDb();
    const wb = make(db);
    db.state.down = true;
    wb.put('a', { key: 'a', n: 1, vital: true });
    await expect(wb.durable()).rejects.toThrow('connection refused');
    expect(wb.failing).toBe(true);
    expect(wb.lastError).toBe('connection refused');
    // failing: no wait at all, the caller goes on without the store
    await expect(wb.durable()).rejects.toThrow('test store unavailable: connection refused');
    expect(wb.size).toBe(1);
    db.state.down = false;
    // the retry is scheduled by the writer itself (250 ms, doubled: 500 ms)
    const until = Date.now() + 3_000;
    while (wb.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(wb.size).toBe(0);
    expect(wb.lastError).toBeNull();
    expect(db.chunks).toEqual([[{ key: 'a', n: 1, vital: true }]]);
    wb.close();
  });

  it('bounded: past maxPending the oldest refresh goes first, a vital row only past twice the bound', () => {
    const db = fakeDb();
    const wb = make(db, { maxPending: 3 });
    wb.put('v1', { key: 'v1', n: 1, vital: true });
    wb.put('r1', { key: 'r1', n: 1, vital: false });
    wb.put('v2', { key: 'v2', n: 1, vital: true });
    wb.put('r2', { key: 'r2', n: 1, vital: false });
    expect(wb.dropped).toBe(1);
    expect(wb.size).toBe(3);
    expect(wb.unsaved).toBe(2);
    // only vital rows left to give up: kept until the set is twice the bound
    for (let i = 3; i <= 6; i++) wb.put(`v${i}`, { key: `v${i}`, n: 1, vital: true });
    expect(wb.size).toBe(6);
    wb.put('v7', { key: 'v7', n: 1, vital: true });
    expect(wb.size).toBe(6);
    expect(wb.dropped).toBe(3);
    wb.close();
  });

  it('withdraw() takes back a vital row not written yet, and only a vital one', async () => {
    const db = fakeDb();
    const wb = make(db);
    wb.put('a', { key: 'a', n: 1, vital: true });
    wb.put('b', { key: 'b', n: 1, vital: false });
    expect(wb.withdraw('b')).toBe(false);
    expect(wb.withdraw('a')).toBe(true);
    expect(wb.withdraw('a')).toBe(false);
    await wb.durable();
    expect(db.chunks).toEqual([]);
    await wb.drain();
    expect(db.chunks).toEqual([[{ key: 'b', n: 1, vital: false }]]);
    wb.close();
  });

  it('rows put without a waiter are written by the timer, delayMs after the first', async () => {
    const db = fakeDb();
    const wb = make(db, { delayMs: 30 });
    wb.put('a', { key: 'a', n: 1, vital: false });
    wb.put('b', { key: 'b', n: 1, vital: false });
    expect(db.chunks).toHaveLength(0);
    const until = Date.now() + 2_000;
    while (db.chunks.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(db.chunks).toEqual([[{ key: 'a', n: 1, vital: false }, { key: 'b', n: 1, vital: false }]]);
    wb.close();
  });
});
