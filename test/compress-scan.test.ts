import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeString, field, fieldString, type JNode, scanJson } from '../src/compress/json-scan.js';
import { applySplices, jsonStringBytes } from '../src/compress/splice.js';

/** Rebuilds a value from scanned nodes (strings decoded, scalars parsed) to compare with JSON.parse. */
function rebuild(buf: Buffer, n: JNode): unknown {
  if (n.t === 's') return decodeString(buf, n);
  if (n.t === 'v') return JSON.parse(buf.toString('utf8', n.s, n.e));
  if (n.t === 'a') return n.items.map((x) => rebuild(buf, x));
  const o: Record<string, unknown> = {};
  n.keys.forEach((k, i) => {
    Object.defineProperty(o, k, { value: rebuild(buf, n.vals[i] as JNode), enumerable: true, writable: true, configurable: true });
  });
  return o;
}

describe('JSON scanner', () => {
  it('records exact byte ranges, including multi-byte text and escapes', () => {
    const text = '{ "a" : "h\\u00e9llo \\"q\\" é😀", "b":[1, true ,null,{"c":"\\\\"}] }';
    const buf = Buffer.from(text);
    const root = scanJson(buf);
    const a = field(root, 'a')!;
    expect(a.t).toBe('s');
    expect(buf.toString('utf8', a.s, a.e)).toBe('"h\\u00e9llo \\"q\\" é😀"');
    expect(fieldString(buf, root, 'a')).toBe('héllo "q" é😀');
    const b = field(root, 'b')!;
    expect(b.t === 'a' && b.items.map((x) => x.t)).toEqual(['v', 'v', 'v', 'o']);
    expect(fieldString(buf, b.t === 'a' ? b.items[3] : undefined, 'c')).toBe('\\');
  });

  it('agrees with JSON.parse on arbitrary JSON (pretty and compact)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (value, pretty) => {
        const text = JSON.stringify(value, null, pretty ? 2 : undefined) ?? 'null';
        const buf = Buffer.from(text);
        const root = scanJson(buf);
        expect(root.s).toBe(0);
        expect(rebuild(buf, root)).toEqual(JSON.parse(text));
      }),
      { numRuns: 300, seed: 42 },
    );
  });

  it('rejects malformed input instead of guessing', () => {
    for (const bad of ['{"a":1', '[1,2', '{"a" 1}', '"abc', '{"a":1} x', '']) expect(() => scanJson(Buffer.from(bad))).toThrow();
  });
});

describe('splicing', () => {
  it('replaces only the given ranges and copies every other byte', () => {
    const buf = Buffer.from('{"x":"old","y":  "keep  me" , "z":"old2"}');
    const root = scanJson(buf);
    const x = field(root, 'x')!;
    const z = field(root, 'z')!;
    const out = applySplices(buf, [
      { start: z.s, end: z.e, bytes: jsonStringBytes('new "2"') },
      { start: x.s, end: x.e, bytes: jsonStringBytes('n\n1') },
    ]);
    expect(out.toString()).toBe('{"x":"n\\n1","y":  "keep  me" , "z":"new \\"2\\""}');
    expect(applySplices(buf, [])).toBe(buf);
  });

  it('refuses overlapping ranges', () => {
    const buf = Buffer.from('0123456789');
    expect(() => applySplices(buf, [{ start: 1, end: 5, bytes: Buffer.from('a') }, { start: 4, end: 6, bytes: Buffer.from('b') }])).toThrow();
  });
});
