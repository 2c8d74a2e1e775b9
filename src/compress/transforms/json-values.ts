/**
 * JSON helpers that never change a fact: a parser that keeps numbers whose JavaScript value
 * would print differently (`1.0`, `1e3`, integers above 2^53) as their original text, a
 * matching serialiser, and a whitespace-only minifier that works on the text itself.
 */
import { MAX_JSON_DEPTH } from '../json-depth.js';

/** Prefix of a string that stands for a number literal kept verbatim. */
export const RAW_NUMBER = '\u0001n:';

const NUMBER_RE = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

/** Offsets of string literals are skipped; every other range is scanned for number literals. */
function forEachStructuralRange(text: string, fn: (from: number, to: number) => void): void {
  const n = text.length;
  let i = 0;
  while (i < n) {
    const q = text.indexOf('"', i);
    if (q === -1) {
      fn(i, n);
      return;
    }
    if (q > i) fn(i, q);
    const end = stringEnd(text, q + 1);
    if (end === -1) return;
    i = end;
  }
}

/** The last text parsed and its value: detection and the crusher parse the same text once. */
let last: { text: string; value: unknown } | null = null;

/**
 * Parses JSON; number literals that would not print back identically are kept as RAW_NUMBER
 * strings. JSON nested deeper than the recursive transforms can walk is refused (treated as text).
 */
export function parseJsonExact(text: string): unknown {
  if (last && last.text === text) return last.value;
  const value = parseJsonUncached(text);
  last = text.length > 4096 ? { text, value } : last;
  return value;
}

/** Forgets the cached parse (called at the end of every request). */
export function clearParseCache(): void {
  last = null;
}

/**
 * Number literals of a JSON text that would not print back identically as a JavaScript
 * number, found in one pass over the text, string literals skipped with `indexOf` (a literal
 * can only change when it has a fraction, an exponent, 16+ digits or is `-0`; most have none
 * and are skipped without being sliced, and plain decimals such as `50.23` are judged from
 * their digits), and the deepest nesting of brackets on the way.
 */
function riskyNumbers(text: string): { edits: { from: number; to: number; raw: string }[]; depth: number } {
  const edits: { from: number; to: number; raw: string }[] = [];
  let depth = 0;
  let deepest = 0;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      // a string literal: to the next quote not escaped by an odd run of backslashes
      const end = stringEnd(text, i + 1);
      if (end === -1) return { edits, depth: deepest }; // unterminated: JSON.parse judges it
      i = end;
      continue;
    }
    if (c !== 45 && (c < 48 || c > 57)) {
      if (c === 91 || c === 123) {
        if (++depth > deepest) deepest = depth; // [ {
      } else if (c === 93 || c === 125) depth--; // ] }
      i++;
      continue;
    }
    const start = i;
    let digits = 0;
    let dot = false;
    let exponent = false;
    const negativeZero = c === 45 && text.charCodeAt(i + 1) === 48;
    for (; i < n; i++) {
      const d = text.charCodeAt(i);
      if (d >= 48 && d <= 57) digits++;
      else if (d === 46) dot = true;
      else if (d === 101 || d === 69) exponent = true; // e E
      else if (d !== 43 && d !== 45) break; // + - (signs)
    }
    if (!negativeZero && !exponent && digits < 16 && (!dot || plainDecimal(text, start, i))) continue;
    const raw = text.slice(start, i);
    NUMBER_RE.lastIndex = 0;
    const m = NUMBER_RE.exec(raw);
    if (!m || m.index !== 0 || m[0] !== raw) continue; // not a single literal: JSON.parse judges it
    if (String(Number(raw)) !== raw) edits.push({ from: start, to: i, raw });
  }
  return { edits, depth: deepest };
}

const isDigit = (c: number) => c >= 48 && c <= 57;

/**
 * A decimal of at most 15 digits that prints back as written: `-?int.frac` with no leading
 * zero, no trailing zero in the fraction and, below 1, at most five zeros after the point
 * (`0.000001` is the smallest printed without an exponent). Fifteen digits identify a double,
 * so the shortest text that reads back as its value is this one.
 */
function plainDecimal(text: string, start: number, end: number): boolean {
  let p = start;
  if (text.charCodeAt(p) === 45) p++;
  const intStart = p;
  while (p < end && isDigit(text.charCodeAt(p))) p++;
  const intLen = p - intStart;
  if (intLen === 0 || p >= end || text.charCodeAt(p) !== 46) return false;
  const zeroInt = text.charCodeAt(intStart) === 48;
  if (zeroInt && intLen > 1) return false;
  p++;
  const fracStart = p;
  while (p < end && isDigit(text.charCodeAt(p))) p++;
  if (p !== end || p === fracStart || text.charCodeAt(end - 1) === 48) return false;
  if (zeroInt) {
    let z = fracStart;
    while (z < end && text.charCodeAt(z) === 48) z++;
    if (z - fracStart > 5) return false;
  }
  return true;
}

function parseJsonUncached(text: string): unknown {
  const { edits, depth } = riskyNumbers(text);
  // nesting is judged on the brackets outside strings, before parsing (the walkers that follow recurse)
  if (depth > MAX_JSON_DEPTH) throw new SyntaxError(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  if (edits.length === 0) return JSON.parse(text);
  let out = '';
  let at = 0;
  for (const e of edits) {
    out += text.slice(at, e.from) + JSON.stringify(RAW_NUMBER + e.raw);
    at = e.to;
  }
  out += text.slice(at);
  return JSON.parse(out);
}

/** A RAW_NUMBER string. */
export type RawNumber = `\u0001n:${string}`;

export function isRawNumber(v: unknown): v is RawNumber {
  return typeof v === 'string' && v.startsWith(RAW_NUMBER);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Compact JSON with RAW_NUMBER strings printed as the original number literals. */
export function stringifyExact(v: unknown): string {
  if (typeof v === 'string') return isRawNumber(v) ? v.slice(RAW_NUMBER.length) : JSON.stringify(v);
  if (v === null || typeof v !== 'object') return v === undefined ? 'null' : JSON.stringify(v);
  if (Array.isArray(v)) {
    let s = '[';
    for (let i = 0; i < v.length; i++) s += (i ? ',' : '') + stringifyExact(v[i]);
    return `${s}]`;
  }
  let s = '{';
  let first = true;
  for (const k in v as Record<string, unknown>) {
    const x = (v as Record<string, unknown>)[k];
    if (x === undefined) continue;
    s += `${first ? '' : ','}${JSON.stringify(k)}:${stringifyExact(x)}`;
    first = false;
  }
  return `${s}}`;
}

/** Removes whitespace outside string literals (the values are untouched, byte for byte). */
export function minifyJsonText(text: string): string {
  let out = '';
  forEachStructuralRangeWithStrings(text, (seg, isString) => {
    out += isString ? seg : seg.replace(/\s+/g, '');
  });
  return out;
}

function forEachStructuralRangeWithStrings(text: string, fn: (seg: string, isString: boolean) => void): void {
  let at = 0;
  forEachStructuralRange(text, (from, to) => {
    if (from > at) fn(text.slice(at, from), true);
    fn(text.slice(from, to), false);
    at = to;
  });
  if (at < text.length) fn(text.slice(at), true);
}

/** The index just past the closing quote of a JSON string whose body starts at `from`, or -1 when unterminated. */
function stringEnd(text: string, from: number): number {
  let j = from;
  for (;;) {
    const e = text.indexOf('"', j);
    if (e === -1) return -1;
    let k = e - 1;
    let slashes = 0;
    while (text.charCodeAt(k) === 92) {
      slashes++;
      k--;
    }
    if (slashes % 2 === 0) return e + 1;
    j = e + 1;
  }
}
