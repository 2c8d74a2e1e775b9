import { describe, expect, it } from 'vitest';
import { findMarkers } from '../src/compress/markers.js';
import { crushJson } from '../src/compress/transforms/json-crusher.js';
import { parseJsonExact, minifyJsonText, stringifyExact } from '../src/compress/transforms/json-values.js';
import { seeded, tctx } from './helpers/compress.js';

function rows(n: number, seed = 1) {
  const r = seeded(seed);
  return Array.from({ length: n }, (_, i) => ({
    id: i + 1,
    name: `user ${i}`,
    email: `user${i}@example.com`,
    status: 'active',
    latency_ms: Math.round(100 + (r() - 0.5) * 20),
    region: ['us', 'eu', 'ap'][i % 3],
    meta: { plan: ['free', 'pro'][i % 2], seats: 1 + (i % 5) },
  }));
}

describe('JSON values', () => {
  it('keeps numbers exactly as written: 1.0, exponents, integers above 2^53', () => {
    const text = '{"a":1.0,"b":12345678901234567890,"c":1e5,"d":0.5,"e":"1.0"}';
    expect(stringifyExact(parseJsonExact(text))).toBe(text);
  });

  it('keeps every kind of literal that would print differently, and only those', () => {
    const text = '[-0,-0.0,1.50,1E5,2e-7,0.1e+3,-12.30,9007199254740993,1234567890123456,0.1,-5,42,"v1.10 at 10.0.0.10, -0",{"k":[1e1,3.0]},true,null]';
    const v = parseJsonExact(text) as unknown[];
    expect(stringifyExact(v)).toBe(text);
    // plain literals stay numbers; the others are kept as their text
    expect(v.slice(9, 12)).toEqual([0.1, -5, 42]);
    expect(typeof v[14]).toBe('boolean');
    expect(v[12]).toBe('v1.10 at 10.0.0.10, -0');
    expect(typeof v[0]).toBe('string');
    expect(typeof v[7]).toBe('string');
  });

  it('refuses nesting deeper than 256 levels, counting brackets outside strings only', () => {
    expect(() => parseJsonExact(`${'['.repeat(300)}${']'.repeat(300)}`)).toThrow(/deeper than 256/);
    expect(parseJsonExact(`${'['.repeat(256)}${']'.repeat(256)}`)).toBeDefined();
    expect(parseJsonExact(JSON.stringify(['['.repeat(300), { a: '{'.repeat(300) }]))).toEqual(['['.repeat(300), { a: '{'.repeat(300) }]);
  });

  it('minifies whitespace outside strings only', () => {
    expect(minifyJsonText('{ "a b" : [ 1 , "x  y" ],\n  "c": {"d": "  " } }')).toBe('{"a b":[1,"x  y"],"c":{"d":"  "}}');
  });
});

describe('JSON crusher: lossless', () => {
  it('turns a small uniform array into a typed table with flattened objects, nothing dropped', () => {
    const data = rows(6);
    const out = crushJson(JSON.stringify(data, null, 2), tctx())!;
    expect(out.transform).toBe('json_compact');
    expect(out.lossy).toBe(false);
    expect(findMarkers(out.text)).toEqual([]);
    const lines = out.text.split('\n');
    expect(lines[0]).toBe('[table: 6 rows, tab-separated, empty cell = null]');
    expect(lines[1]).toBe('id:int\tname:str\temail:str\tstatus:str\tlatency_ms:int\tregion:str\tmeta.plan:str\tmeta.seats:int');
    expect(lines[2]).toBe(`1\tuser 0\tuser0@example.com\tactive\t${data[0]!.latency_ms}\tus\tfree\t1`);
    expect(lines).toHaveLength(8);
  });

  it('quotes strings that would be ambiguous (empty, tabs, newlines, leading quotes) and marks nullable columns', () => {
    const data = [
      { a: 'plain', b: 1 },
      { a: '', b: null },
      { a: 'tab\there', b: 2 },
      { a: 'line\nbreak' },
      { a: '"quoted"', b: 3 },
      ...Array.from({ length: 10 }, (_, i) => ({ a: `filler ${i}`, b: i })),
    ];
    const out = crushJson(JSON.stringify(data, null, 2), tctx())!;
    const lines = out.text.split('\n');
    expect(lines[1]).toBe('a:str\tb:int?');
    expect(lines.slice(2, 7)).toEqual(['plain\t1', '""\t', '"tab\\there"\t2', '"line\\nbreak"\t', '"\\"quoted\\""\t3']);
  });

  it('keeps 20-digit ids and 1.0 exact inside tables', () => {
    const text = `[${Array.from({ length: 10 }, (_, i) => `{"identifier": 1234567890123456789${i}, "value": 1.0}`).join(',\n ')}]`;
    const out = crushJson(text, tctx())!;
    expect(out.text).toContain('12345678901234567890\t1.0');
    expect(out.text).toContain('12345678901234567899\t1.0');
  });

  it('minifies objects without arrays and leaves tiny or scalar JSON alone', () => {
    const out = crushJson(JSON.stringify({ a: 1, b: { c: [1, 2], d: 'x' } }, null, 4), tctx())!;
    expect(out.text).toBe('{"a":1,"b":{"c":[1,2],"d":"x"}}');
    expect(crushJson('{"a":1}', tctx())).toBeNull();
    expect(crushJson('42', tctx())).toBeNull();
    expect(crushJson('not json', tctx())).toBeNull();
  });

  it('renders maps of id -> object as a table with a key column', () => {
    const map: Record<string, unknown> = {};
    for (let i = 0; i < 10; i++) map[`svc-${i}`] = { healthy: i !== 7, replicas: 3 };
    const out = crushJson(JSON.stringify(map, null, 2), tctx())!;
    expect(out.text.split('\n')[1]).toBe('key:str\thealthy:bool\treplicas:int');
    expect(out.text).toContain('svc-7\tfalse\t3');
  });

  it('reads JSON Lines as rows', () => {
    const text = rows(8).map((r) => JSON.stringify(r)).join('\n');
    const out = crushJson(text, tctx(), true)!;
    expect(out.text.startsWith('[table: 8 rows')).toBe(true);
  });
});

describe('JSON crusher: lossy cuts', () => {
  it('keeps first/last rows, every error, rare values, rare keys and anomalies, in order, with a marker', () => {
    const data: Record<string, unknown>[] = rows(400, 3);
    data[57]!.status = 'failed';
    data[57]!.error = 'connection refused by db-3';
    data[123]!.latency_ms = 9000;
    data[250]!.status = 'suspended';
    data[311]!.debug_token = 'only-here';
    const out = crushJson(JSON.stringify(data, null, 2), tctx())!;
    expect(out.transform).toBe('json_crusher');
    expect(out.lossy).toBe(true);
    expect(out.originalItems).toBe(400);
    expect(out.keptItems).toBeLessThan(40);
    const kept = out.text.split('\n').filter((l) => /^\d+\t/.test(l)).map((l) => Number(l.split('\t')[0]));
    for (const i of [0, 1, 2, 57, 123, 250, 311, 398, 399]) expect(kept).toContain(i);
    expect([...kept].sort((a, b) => a - b)).toEqual(kept);
    expect(out.text).toContain('connection refused by db-3');
    const markers = findMarkers(out.text);
    expect(markers).toHaveLength(1);
    expect(out.text.split('\n').at(-1)).toContain(`${out.keptItems} of 400 rows shown`);
  });

  it('keeps rows matching the question\'s exact anchors and the best by score', () => {
    const data = Array.from({ length: 300 }, (_, i) => ({ id: `doc_${i}`, score: Math.round((1 - i / 300) * 1e4) / 1e4, title: `Result ${i}`, body: 'lorem ipsum dolor sit amet' }));
    (data[222] as Record<string, unknown>).ref = 'INC-77123';
    const out = crushJson(JSON.stringify(data), tctx('what happened in INC-77123?'))!;
    const kept = out.text.split('\n').filter((l) => /^\d+\t/.test(l)).map((l) => Number(l.split('\t')[0]));
    expect(kept).toContain(222);
    expect(kept.slice(0, 4)).toEqual([0, 1, 2, 3]);
  });

  it('does not cut when the lossless table is small, or when the cut would not halve it', () => {
    const out = crushJson(JSON.stringify(rows(20), null, 2), tctx())!;
    expect(out.lossy).toBe(false);
  });

  it('honours target_ratio', () => {
    const out = crushJson(JSON.stringify(rows(400, 2)), tctx('', { targetRatio: 0.3 }));
    expect(out!.keptItems).toBeGreaterThanOrEqual(120);
  });

  it('cuts arrays inside documents and lists each path', () => {
    const doc = { total: 400, page: 1, results: rows(400, 4), next: 'cursor-2' };
    const out = crushJson(JSON.stringify(doc, null, 2), tctx())!;
    expect(out.text.startsWith('total: 400\npage: 1\nresults:\n[table:')).toBe(true);
    expect(out.text).toContain('next: "cursor-2"');
    expect(out.lossy).toBe(true);
  });

  it('cuts long string and number lists, keeping errors and outliers', () => {
    const paths = Array.from({ length: 500 }, (_, i) => `src/module_${i}/file_${i}.ts`);
    paths[321] = 'src/broken/compile failed here.ts';
    const s = crushJson(JSON.stringify(paths, null, 1), tctx())!;
    expect(s.lossy).toBe(true);
    expect(s.text).toContain('321\tsrc/broken/compile failed here.ts');
    const r = seeded(9);
    const nums = Array.from({ length: 1500 }, () => Math.round(50 + r() * 10));
    nums[444] = 9999;
    const n = crushJson(JSON.stringify(nums), tctx())!;
    expect(n.lossy).toBe(true);
    expect(n.text).toContain('444:9999');
    expect(n.text).toMatch(/min=\d+ max=9999/);
  });

  it('is deterministic', () => {
    const text = JSON.stringify(rows(300, 5));
    expect(crushJson(text, tctx('user 42'))!.text).toBe(crushJson(text, tctx('user 42'))!.text);
  });
});
