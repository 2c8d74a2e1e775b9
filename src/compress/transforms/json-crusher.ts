/**
 * The JSON crusher. Lossless first: uniform object arrays become typed tables (nested
 * objects flattened, constant and position-linear columns stated once), maps of id -> object
 * become tables with a key column, string lists one item per line (repeated strings once, with
 * their positions), arrays mixing objects, strings and numbers in runs are rendered run by
 * run, and whitespace is removed everywhere else. An array of 25+ items is cut only when its
 * lossless form is over ~1 KB and the cut at least halves it (see json-select.ts for which rows
 * are kept; short error-bearing outputs keep every error row); each cut says how many items it
 * shows, and the slot ends with the retrieval marker. Numbers are printed exactly as written
 * (`1.0`, 20-digit ids).
 */
import { adaptiveK, bm25, diversityOf, hasErrorSignal, matchesAnchor, strideFill } from '../lexical.js';
import { formatMarker, shownSummary } from '../markers.js';
import type { TransformContext, TransformOutput } from '../types.js';
import { buildColumns, estimateTableLength, renderTable } from './json-table.js';
import { rowTexts, selectRows } from './json-select.js';
import { isPlainObject, isRawNumber, parseJsonExact, RAW_NUMBER, stringifyExact } from './json-values.js';

type Row = Record<string, unknown>;

/** Below this many characters of lossless output an array is never cut. */
export const LOSSY_MIN_CHARS = 1000;
/** Arrays with fewer items are short enough to be read whole: never cut. */
const LOSSY_MIN_ITEMS = 25;
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
      // a cut is kept as it is: the compact form (a 1 MB serialisation) is only needed to compare
      if (doc.original > 0) return doc;
      const compact = stringifyExact(value);
      return doc.text.length < compact.length ? doc : lossless(compact);
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

type ItemKind = 'object' | 'string' | 'number' | 'other';

function itemKind(v: unknown): ItemKind {
  if (isPlainObject(v)) return 'object';
  if (typeof v === 'number' || isRawNumber(v)) return 'number';
  if (typeof v === 'string') return 'string';
  return 'other';
}

/** Runs of a mixed array shorter than this are not worth their own section. */
const MIN_RUN = 5;
const MAX_RUNS = 12;

function renderArray(arr: unknown[], ctx: TransformContext, offset = 0): Rendered {
  const n = arr.length;
  if (n < 2 || ctx.expired()) return lossless(stringifyExact(arr));
  if (arr.every(isPlainObject)) return renderRows(arr as Row[], ctx, offset);
  if (arr.every((v) => typeof v === 'string' && !isRawNumber(v))) return renderStrings(arr as string[], ctx, offset);
  if (arr.every((v) => typeof v === 'number' || isRawNumber(v))) return renderNumbers(arr as (number | string)[], ctx, offset);
  return renderMixed(arr, ctx, offset);
}

/** Arrays mixing objects, strings and numbers in long runs: each run rendered as its own array. */
function renderMixed(arr: unknown[], ctx: TransformContext, offset: number): Rendered {
  const runs: { kind: ItemKind; from: number; to: number }[] = [];
  for (let i = 0; i < arr.length; i++) {
    const kind = itemKind(arr[i]);
    const last = runs[runs.length - 1];
    if (last && last.kind === kind) last.to = i + 1;
    else runs.push({ kind, from: i, to: i + 1 });
    if (runs.length > MAX_RUNS) return lossless(stringifyExact(arr));
  }
  if (runs.some((r) => r.to - r.from < MIN_RUN || r.kind === 'other')) return lossless(stringifyExact(arr));
  const label = { object: 'objects', string: 'strings', number: 'numbers', other: 'values' };
  const parts = [`[array: ${arr.length} items in ${runs.length} runs: ${runs.map((r) => `${r.from + offset}-${r.to - 1 + offset} ${label[r.kind]}`).join(', ')}]`];
  let cut = false;
  let kept = 0;
  for (const r of runs) {
    const sub = renderArray(arr.slice(r.from, r.to), ctx, offset + r.from);
    parts.push(`items ${r.from + offset}-${r.to - 1 + offset}:`, sub.text);
    cut ||= sub.original > 0;
    kept += sub.original > 0 ? sub.kept : r.to - r.from;
  }
  const text = parts.join('\n');
  const compact = stringifyExact(arr);
  if (!cut) return lossless(text.length < compact.length ? text : compact);
  return { text, original: arr.length, kept, unit: 'items' };
}

function renderRows(rows: Row[], ctx: TransformContext, offset = 0): Rendered {
  const compact = () => stringifyExact(rows);
  const columns = buildColumns(rows);
  if (columns.length === 0) return lossless(compact());
  const tableLen = estimateTableLength(rows, columns);
  if (!ctx.losslessOnly && rows.length >= LOSSY_MIN_ITEMS && tableLen >= LOSSY_MIN_CHARS && !ctx.expired()) {
    const sel = selectRows(rows, columns, rowTexts(rows), ctx);
    if (sel.keep.length < rows.length) {
      const subset = sel.keep.map((i) => rows[i] as Row);
      const cut = renderTable(rows, buildColumns(subset), sel.keep, offset);
      if (cut.length <= maxShare(ctx) * tableLen) return { text: cut, original: rows.length, kept: sel.keep.length, unit: 'rows' };
    }
  }
  const table = renderTable(rows, columns, null, offset);
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
  return r.original > 0 || r.text.length < stringifyExact(obj).length ? r : null;
}

function quoteLine(s: string): string {
  return s === '' || s.charCodeAt(0) === 34 || /[\n\r]/.test(s) || s !== s.trim() ? JSON.stringify(s) : s;
}

/** A list with many repeats, losslessly: each distinct string once, with the positions it holds. */
function groupedStrings(items: readonly string[], offset: number): string | null {
  const positions = new Map<string, number[]>();
  items.forEach((s, i) => {
    let p = positions.get(s);
    if (!p) positions.set(s, (p = []));
    p.push(i + offset);
  });
  if (positions.size > 0.5 * items.length) return null;
  const lines = [...positions.entries()].map(([s, p]) => `${quoteLine(s)}\t@${p.join(',')}`);
  return `[list: ${items.length} strings, ${positions.size} distinct; each once, then a tab and @ the positions it holds]\n${lines.join('\n')}`;
}

function renderStrings(items: string[], ctx: TransformContext, offset = 0): Rendered {
  const n = items.length;
  let full = `[list: ${n} strings, one per line]\n${items.map(quoteLine).join('\n')}`;
  const grouped = n >= MIN_ARRAY * 2 ? groupedStrings(items, offset) : null;
  if (grouped && grouped.length < full.length) full = grouped;
  if (ctx.losslessOnly || n < LOSSY_MIN_ITEMS || full.length < LOSSY_MIN_CHARS || ctx.expired()) {
    const compact = stringifyExact(items);
    return lossless(full.length < compact.length ? full : compact);
  }
  // a list of one shape (`log: request 17 completed` x 100) needs fewer examples than a varied one
  const diversity = diversityOf(items);
  const k = adaptiveK(n, diversity, Math.min(diversity < 0.05 ? 5 : 8, n), Math.max(8, ctx.maxItems * 2), ctx.targetRatio);
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
  const errors = items.map((s, i) => (hasErrorSignal(s) ? i : -1)).filter((i) => i >= 0);
  if (ctx.keepAllErrors) for (const i of errors) keep.add(i);
  else if (errors.length <= Math.max(k, 0.1 * n)) for (const i of errors) take(i);
  if (ctx.query.terms.length) {
    const scores = bm25(ctx.query, lower);
    scores.forEach((s, i) => s >= 0.5 && take(i));
  }
  if (keep.size < k) {
    const taken = new Set(keep);
    for (const i of strideFill(0, n, k - keep.size, taken)) take(i);
  }
  const order = [...keep].sort((a, b) => a - b);
  const cut = `[list: ${order.length} of ${n} strings, # = position in the original]\n${order.map((i) => `${i + offset}\t${quoteLine(items[i] as string)}`).join('\n')}`;
  if (order.length < n && cut.length <= maxShare(ctx) * full.length) return { text: cut, original: n, kept: order.length, unit: 'items' };
  return lossless(full);
}

function renderNumbers(items: (number | string)[], ctx: TransformContext, offset = 0): Rendered {
  const n = items.length;
  const compact = stringifyExact(items);
  // numbers carry no words a reader needs whole: their summary and outliers say more, so they
  // are cut from half the usual size
  if (ctx.losslessOnly || n < LOSSY_MIN_ITEMS || compact.length < LOSSY_MIN_CHARS / 2 || ctx.expired()) return lossless(compact);
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
  // besides min/max, quartiles, the mean and every outlier, a few evenly spaced values
  const k = adaptiveK(n, 0, 8, 8, ctx.targetRatio);
  if (keep.size < k) strideFill(0, n, k - keep.size, keep);
  const order = [...keep].sort((a, b) => a - b);
  const raw = (i: number) => {
    const v = items[i] as number | string;
    return typeof v === 'number' ? String(v) : v.slice(RAW_NUMBER.length);
  };
  const fmt = (x: number) => String(Math.round(x * 1e4) / 1e4);
  const text =
    `[numbers: ${order.length} of ${n} values shown as position:value; min=${fmt(sorted[0] as number)} max=${fmt(sorted[n - 1] as number)} ` +
    `mean=${fmt(mean)} median=${fmt(med)} p25=${fmt(q(0.25))} p75=${fmt(q(0.75))}]\n${order.map((i) => `${i + offset}:${raw(i)}`).join(', ')}`;
  if (order.length < n && text.length <= maxShare(ctx) * compact.length) return { text, original: n, kept: order.length, unit: 'items' };
  return lossless(compact);
}
