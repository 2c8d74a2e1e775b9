import { describe, expect, it } from 'vitest';
import { contentHash, normaliseHash } from '../src/compress/hash.js';
import { findMarkers, formatMarker, hasMarker, shownSummary } from '../src/compress/markers.js';

describe('hashes', () => {
  it('are 24 lowercase hex characters of SHA-256, stable', () => {
    const h = contentHash('hello');
    expect(h).toBe('2cf24dba5fb0a30e26e83b2a');
    expect(h).toMatch(/^[0-9a-f]{24}$/);
    expect(contentHash('hello')).toBe(h);
    expect(contentHash('hellp')).not.toBe(h);
  });

  it('normalise case and spaces; reject other lengths', () => {
    expect(normaliseHash(' 2CF24DBA5FB0A30E26E83B2A ')).toBe('2cf24dba5fb0a30e26e83b2a');
    expect(normaliseHash('2cf24dba5fb0')).toBeNull();
    expect(normaliseHash(42)).toBeNull();
  });
});

describe('markers', () => {
  const h = contentHash('original');
  const m = formatMarker(h, shownSummary(15, 1000, 'rows', 'omitted: 985 rows'));

  it('say the content is abbreviated, the original intact, and how to retrieve it', () => {
    expect(m).toBe(`[headroom: 15 of 1000 rows shown (abbreviated; omitted: 985 rows); the full original is intact, call headroom_retrieve with hash=${h} to read it]`);
    expect(m).not.toMatch(/corrupt|truncat|error|broken|missing/i);
  });

  it('are found with their offsets', () => {
    const text = `a\n${m}\nb ${formatMarker('0123456789abcdef01234567', 'x shown')}`;
    const found = findMarkers(text);
    expect(found.map((f) => f.hash)).toEqual([h, '0123456789abcdef01234567']);
    expect(text.slice(found[0]!.start, found[0]!.end)).toBe(m);
    expect(findMarkers('no markers here')).toEqual([]);
  });

  it('pin content carrying our marker or Headroom\'s forms', () => {
    expect(hasMarker(m)).toBe(true);
    expect(hasMarker('[305 lines compressed to 8. Retrieve more: hash=80a6e711dbe62fc84e7b2b56]')).toBe(true);
    expect(hasMarker('[Read content stale: x. Retrieve original: hash=80a6e711dbe62fc84e7b2b56]')).toBe(true);
    expect(hasMarker('{"_ccr_dropped":"<<ccr:80a6e711dbe6 12_rows_offloaded>>"}')).toBe(true);
    expect(hasMarker('[10 items compressed. hash=80a6e711dbe62fc84e7b2b56]')).toBe(true);
    expect(hasMarker('an ordinary log line with hash=abc')).toBe(false);
  });

  it('cannot be broken by a summary containing brackets or newlines', () => {
    const odd = formatMarker(h, 'weird ] summary\nwith newline');
    expect(odd.includes('\n')).toBe(false);
    expect(findMarkers(odd).map((f) => f.hash)).toEqual([h]);
  });
});
