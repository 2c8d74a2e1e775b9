/**
 * Byte-level helpers for request bodies: the ranges of the top-level fields (found by skipping
 * values, without building a tree, so it is cheap on large bodies), the first items of an
 * array, and insertion of JSON text at the end of an array or object. Everything outside the
 * inserted bytes is kept as received.
 */
import { applySplices, type Splice } from '../compress/splice.js';

export interface Range {
  /** First byte of the value. */
  s: number;
  /** One past its last byte. */
  e: number;
}

export interface TopLevel {
  /** Offset of the root object's closing `}`. */
  close: number;
  /** Value range of each top-level key (the last duplicate wins, as in JSON.parse). */
  keys: Map<string, Range>;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

const isWs = (c: number | undefined) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

function ws(buf: Buffer, pos: number): number {
  while (pos < buf.length && isWs(buf[pos])) pos++;
  return pos;
}

/** End (exclusive) of the string literal starting at `pos` (a quote). */
function skipString(buf: Buffer, pos: number): number {
  let i = pos + 1;
  for (;;) {
    const j = buf.indexOf(QUOTE, i);
    if (j === -1) throw new Error('unterminated string');
    let k = j - 1;
    let slashes = 0;
    while (k > pos && buf[k] === BACKSLASH) {
      slashes++;
      k--;
    }
    if (slashes % 2 === 0) return j + 1;
    i = j + 1;
  }
}

/** End (exclusive) of the JSON value starting at `pos` (no whitespace before it). */
export function skipValue(buf: Buffer, pos: number): number {
  const c = buf[pos];
  if (c === QUOTE) return skipString(buf, pos);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    let i = pos;
    const n = buf.length;
    while (i < n) {
      const d = buf[i] as number;
      if (d === QUOTE) {
        i = skipString(buf, i);
        continue;
      }
      if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    throw new Error('unterminated value');
  }
  let i = pos;
  while (i < buf.length) {
    const d = buf[i] as number;
    if (d === 0x2c || d === 0x5d || d === 0x7d || isWs(d)) break;
    i++;
  }
  if (i === pos) throw new Error(`unexpected byte at ${pos}`);
  return i;
}

function keyAt(buf: Buffer, s: number, e: number): string {
  const inner = buf.subarray(s + 1, e - 1);
  return inner.indexOf(BACKSLASH) === -1 ? inner.toString('utf8') : (JSON.parse(buf.toString('utf8', s, e)) as string);
}

/** The top-level fields of a JSON object body; null when the body is not an object. */
export function topLevel(buf: Buffer): TopLevel | null {
  try {
    let pos = ws(buf, 0);
    if (buf[pos] !== 0x7b) return null;
    pos = ws(buf, pos + 1);
    const keys = new Map<string, Range>();
    if (buf[pos] === 0x7d) return { close: pos, keys };
    for (;;) {
      if (buf[pos] !== QUOTE) return null;
      const ke = skipString(buf, pos);
      const key = keyAt(buf, pos, ke);
      pos = ws(buf, ke);
      if (buf[pos] !== 0x3a) return null;
      pos = ws(buf, pos + 1);
      const ve = skipValue(buf, pos);
      keys.set(key, { s: pos, e: ve });
      pos = ws(buf, ve);
      const d = buf[pos];
      if (d === 0x2c) {
        pos = ws(buf, pos + 1);
        continue;
      }
      if (d === 0x7d) return { close: pos, keys };
      return null;
    }
  } catch {
    return null;
  }
}

/** Ranges of the first `max` items of the array at `r`. */
export function arrayItems(buf: Buffer, r: Range, max: number): Range[] {
  const out: Range[] = [];
  if (buf[r.s] !== 0x5b) return out;
  let pos = ws(buf, r.s + 1);
  if (buf[pos] === 0x5d) return out;
  while (out.length < max) {
    const e = skipValue(buf, pos);
    out.push({ s: pos, e });
    pos = ws(buf, e);
    if (buf[pos] !== 0x2c) break;
    pos = ws(buf, pos + 1);
  }
  return out;
}

/** Whether the array at `r` has no items. */
export function isEmptyArray(buf: Buffer, r: Range): boolean {
  return buf[ws(buf, r.s + 1)] === 0x5d;
}

/** Inserts JSON values (already serialised) at the end of the array at `r`. */
export function appendToArray(buf: Buffer, r: Range, values: readonly Buffer[]): Splice {
  const close = r.e - 1;
  const parts: Buffer[] = [];
  values.forEach((v, i) => {
    if (i > 0 || !isEmptyArray(buf, r)) parts.push(COMMA);
    parts.push(v);
  });
  return { start: close, end: close, bytes: Buffer.concat(parts) };
}

/** Adds `"key":value` at the end of the root object. */
export function appendField(buf: Buffer, top: TopLevel, key: string, value: Buffer): Splice {
  const prefix = top.keys.size > 0 ? ',' : '';
  return { start: top.close, end: top.close, bytes: Buffer.concat([Buffer.from(`${prefix}${JSON.stringify(key)}:`), value]) };
}

const COMMA = Buffer.from(',');

export { applySplices };
