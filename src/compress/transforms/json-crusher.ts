/**
 * The JSON crusher. Lossless first: uniform object arrays become typed tables (nested
 * objects flattened), maps of id -> object become tables with a key column, string lists
 * one item per line, and whitespace is removed everywhere else. Only when an array is large
 * and a cut shrinks it to at most half of its lossless form is it cut (see json-select.ts for
 * which rows are kept); each cut table says how many rows it shows, and the slot ends with the
 * retrieval marker. Numbers are printed exactly as written (`1.0`, 20-digit ids).
 */
import { adaptiveK, bm25, diversityOf, ERROR_WORD_RE, matchesAnchor, strideFill } from '../lexical.js';
import { formatMarker, shownSummary } from '../markers.js';
import type { TransformContext, TransformOutput } from '../types.js';
import { buildColumns, estimateTableLength, renderTable } from './json-table.js';
import { rowTexts, selectRows } from './json-select.js';
import { isPlainObject, isRawNumber, parseJsonExact, RAW_NUMBER, stringifyExact } from './json-values.js';

type Row = Record<string, unknown>;

/** Below this many characters of lossless output an array is never cut. */
export const LOSSY_MIN_CHARS = 3000;
/** A cut must at least halve the lossless form to be worth losing rows (unless a target ratio asks for less). */
const LOSSY_MAX_SHARE = 0.5;
const maxShare = (ctx: TransformContext) => (ctx.targetRatio === null ? LOSSY_MAX_SHARE : Math.min(0.9, Math.max(LOSSY_MAX_SHARE, ctx.targetRatio + 0.3)));
const MIN_ARRAY = 5;

interface Rendered {
  text: string;
  /** Items in cut arrays (original and shown); 0/0 when nothing was cut. */
  original: number;
  kept: number;
  unit: 'rows' | 'items';
}

const lossless = (text: string): Rendered => ({ text, original: 0, kept: 0, unit: 'rows' });

export function crushJson(text: string, ctx: TransformContext, jsonl = false): TransformOutput | null {
  let value: unknown;
  try {
    value = jsonl ? text.split('\n').filter((l) => l.trim()).map((l) => parseJsonExact(l)) : parseJsonExact(text.trim());
  } catch {
    return null;
  }
  const out = renderValue(value, ctx);
  if (!out) return null;
  const lossy = out.original > 0;
  let result = out.text;
  if (lossy) result += `\n${formatMarker(ctx.hash, shownSummary(out.kept, out.original, out.unit))}`;
  if (result.length >= text.length) return null;
  return {
    text: result,
    transform: lossy ? 'json_crusher' : 'json_compact',
    lossy,
    originalItems: out.original,
    keptItems: out.kept,
    unit: out.unit,
  };
}

function renderValue(value: unknown, ctx: TransformContext): Rendered | null {
  if (Array.isArray(value)) return renderArray(value, ctx);
  if (isPlainObject(value)) {
    const map = renderObjectMap(value, ctx);
    if (map) return map;
    if (hasBigArray(value, 0)) {
      const doc = renderDocument(value, '', ctx);
      const compact = stringifyExact(value);
      if (doc.original > 0 || doc.text.length < compact.length) return doc;
      return lossless(compact);
    }
    return lossless(stringifyExact(value));
  }
  return null;
}

function hasBigArray(v: unknown, depth: number): boolean {
  if (depth > 4) return false;
  if (Array.isArray(v)) return v.length >= MIN_ARRAY;
  if (isPlainObject(v)) {
    for (const k in v) if (hasBigArray(v[k], depth + 1)) return true;
  }
  return false;
}

/** `key: value` lines; big arrays (and objects holding them) become blocks under their path. */
function renderDocument(obj: Row, prefix: string, ctx: TransformContext): Rendered {
  const lines: string[] = [];
  let original = 0;
  let kept = 0;
  let unit: Rendered['unit'] = 'rows';
  for (const k in obj) {
    const v = obj[k];
    const path = prefix + k;
    if (Array.isArray(v) && v.length >= MIN_ARRAY) {
      const r = renderArray(v, ctx);
      lines.push(`${path}:`, r.text);
      original += r.original;
      kept += r.kept;
      if (r.unit === 'items') unit = 'items';
    } else if (isPlainObject(v) && hasBigArray(v, 1)) {
      const r = renderDocument(v, `${path}.`, ctx);
      lines.push(r.text);
      original += r.original;
      kept += r.kept;
      if (r.unit === 'items') unit = 'items';
    } else {
      lines.push(`${path}: ${stringifyExact(v)}`);
    }
  }
  return { text: lines.join('\n'), original, kept, unit };
}

function renderArray(arr: unknown[], ctx: TransformContext): Rendered {
  const n = arr.length;
  if (n < 2 || ctx.expired()) return lossless(stringifyExact(arr));
  if (arr.every(isPlainObject)) return renderRows(arr as Row[], ctx);
  if (arr.every((v) => typeof v === 'string' && !isRawNumber(v))) return renderStrings(arr as string[], ctx);
  if (arr.every((v) => typeof v === 'number' || isRawNumber(v))) return renderNumbers(arr as (number | string)[], ctx);
  return lossless(stringifyExact(arr));
}

function renderRows(rows: Row[], ctx: TransformContext): Rendered {
  const compact = () => stringifyExact(rows);
  const columns = buildColumns(rows);
  if (columns.length === 0) return lossless(compact());
  const tableLen = estimateTableLength(rows, columns);
  if (rows.length >= MIN_ARRAY * 2 && tableLen >= LOSSY_MIN_CHARS && !ctx.expired()) {
    const sel = selectRows(rows, columns, rowTexts(rows), ctx);
    if (sel.keep.length < rows.length) {
      const subset = sel.keep.map((i) => rows[i] as Row);
      const cut = renderTable(rows, buildColumns(subset), sel.keep);
      if (cut.length <= maxShare(ctx) * tableLen) return { text: cut, original: rows.length, kept: sel.keep.length, unit: 'rows' };
    }
  }
  const table = renderTable(rows, columns, null);
  const c = compact();
  return lossless(table.length < c.length ? table : c);
}

/** `{"a": {...}, "b": {...}, ...}` with many entries: a table with a `key` column. */
function renderObjectMap(obj: Row, ctx: TransformContext): Rendered | null {
  const keys = Object.keys(obj);
  if (keys.length < 8) return null;
  if (!keys.every((k) => isPlainObject(obj[k]))) return null;
  const keyName = keys.some((k) => Object.prototype.hasOwnProperty.call(obj[k], 'key')) ? '_key' : 'key';
  const rows = keys.map((k) => ({ [keyName]: k, ...(obj[k] as Row) }));
  const r = renderRows(rows, ctx);
  const compact = stringifyExact(obj);
  return r.original > 0 || r.text.length < compact.length ? r : null;
}

function quoteLine(s: string): string {
  return s === '' || s.charCodeAt(0) === 34 || /[\n\r]/.test(s) || s !== s.trim() ? JSON.stringify(s) : s;
}

function renderStrings(items: string[], ctx: TransformContext): Rendered {
  const n = items.length;
  const full = `[list: ${n} strings, one per line]\n${items.map(quoteLine).join('\n')}`;
  if (n < MIN_ARRAY * 2 || full.length < LOSSY_MIN_CHARS || ctx.expired()) {
    const compact = stringifyExact(items);
    return lossless(full.length < compact.length ? full : compact);
  }
  const k = adaptiveK(n, diversityOf(items), Math.min(8, n), Math.max(8, ctx.maxItems * 2), ctx.targetRatio);
  const lower = items.map((s) => s.toLowerCase());
  const keep = new Set<number>();
  const seen = new Set<string>();
  const take = (i: number) => {
    if (keep.has(i) || seen.has(items[i] as string)) return;
    seen.add(items[i] as string);
    keep.add(i);
  };
  for (const i of [0, 1, 2, n - 2, n - 1]) take(i);
  for (let i = 0; i < n; i++) if (matchesAnchor(ctx.query, lower[i] as string)) take(i);
  const errors = items.map((s, i) => (ERROR_WORD_RE.test(s) ? i : -1)).filter((i) => i >= 0);
  if (errors.length <= Math.max(k, 0.1 * n)) for (const i of errors) take(i);
  if (ctx.query.terms.length) {
    const scores = bm25(ctx.query, lower);
    scores.forEach((s, i) => s >= 0.5 && take(i));
  }
  if (keep.size < k) {
    const taken = new Set(keep);
    for (const i of strideFill(0, n, k - keep.size, taken)) take(i);
  }
  const order = [...keep].sort((a, b) => a - b);
  const cut = `[list: ${order.length} of ${n} strings, # = position in the original]\n${order.map((i) => `${i}\t${quoteLine(items[i] as string)}`).join('\n')}`;
  if (order.length < n && cut.length <= maxShare(ctx) * full.length) return { text: cut, original: n, kept: order.length, unit: 'items' };
  return lossless(full);
}

function renderNumbers(items: (number | string)[], ctx: TransformContext): Rendered {
  const n = items.length;
  const compact = stringifyExact(items);
  if (n < 20 || compact.length < LOSSY_MIN_CHARS || ctx.expired()) return lossless(compact);
  const xs = items.map((v) => (typeof v === 'number' ? v : Number(v.slice(RAW_NUMBER.length))));
  const sorted = [...xs].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(n - 1, Math.floor(p * (n - 1)))] as number;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const med = q(0.5);
  const mad = [...xs].map((v) => Math.abs(v - med)).sort((a, b) => a - b)[Math.floor(n / 2)] as number;
  const keep = new Set<number>([0, 1, n - 2, n - 1]);
  xs.forEach((v, i) => {
    if (mad > 0 ? (0.6745 * Math.abs(v - med)) / mad > 3.5 : v !== med) keep.add(i);
  });
  const k = adaptiveK(n, 1, 10, Math.max(10, ctx.maxItems * 2), ctx.targetRatio);
  if (keep.size < k) strideFill(0, n, k - keep.size, keep);
  const order = [...keep].sort((a, b) => a - b);
  const raw = (i: number) => {
    const v = items[i] as number | string;
    return typeof v === 'number' ? String(v) : v.slice(RAW_NUMBER.length);
  };
  const fmt = (x: number) => String(Math.round(x * 1e4) / 1e4);
  const text =
    `[numbers: ${order.length} of ${n} values shown as position:value; min=${fmt(sorted[0] as number)} max=${fmt(sorted[n - 1] as number)} ` +
    `mean=${fmt(mean)} median=${fmt(med)} p25=${fmt(q(0.25))} p75=${fmt(q(0.75))}]\n${order.map((i) => `${i}:${raw(i)}`).join(', ')}`;
  if (order.length < n && text.length <= maxShare(ctx) * compact.length) return { text, original: n, kept: order.length, unit: 'items' };
  return lossless(compact);
}
