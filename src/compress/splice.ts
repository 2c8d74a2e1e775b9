/** Replaces byte ranges of a buffer; everything outside the ranges is copied verbatim. */

export interface Splice {
  /** Byte offsets in the original buffer, `start` inclusive, `end` exclusive. */
  start: number;
  end: number;
  bytes: Buffer;
}

export function applySplices(buf: Buffer, splices: readonly Splice[]): Buffer {
  if (splices.length === 0) return buf;
  const sorted = [...splices].sort((a, b) => a.start - b.start);
  const parts: Buffer[] = [];
  let at = 0;
  for (const sp of sorted) {
    if (sp.start < at || sp.end < sp.start || sp.end > buf.length) throw new Error('overlapping or out-of-range splice');
    if (sp.start > at) parts.push(buf.subarray(at, sp.start));
    parts.push(sp.bytes);
    at = sp.end;
  }
  if (at < buf.length) parts.push(buf.subarray(at));
  return Buffer.concat(parts);
}

/** A JSON string literal (with quotes) for `text`, as bytes. */
export function jsonStringBytes(text: string): Buffer {
  return Buffer.from(JSON.stringify(text), 'utf8');
}
