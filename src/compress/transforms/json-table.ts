/**
 * Lossless compaction of uniform object arrays into a typed, tab-separated table:
 *
 *   [table: 3 rows, tab-separated, empty cell = null]
 *   id:int	name:str	meta.region:str	note:str?
 *   1	alice	us	"needs\ttab"
 *
 * Nested objects with the same small key set in every row are flattened into `parent.child`
 * columns; other nested values are written as compact JSON in their cell. Strings are written
 * raw unless they are empty or contain tabs, newlines or leading quotes (then JSON-quoted).
 */
import { isPlainObject, isRawNumber, RAW_NUMBER, stringifyExact } from './json-values.js';

export type ColumnType = 'int' | 'float' | 'str' | 'bool' | 'json';

export interface Column {
  path: readonly string[];
  name: string;
  type: ColumnType;
  nullable: boolean;
  /** Rows in which the value is present (not absent). */
  present: number;
}

type Row = Record<string, unknown>;

const MAX_FLATTEN_KEYS = 8;
const MAX_FLATTEN_DEPTH = 3;

function getPath(row: Row, path: readonly string[]): unknown {
  let v: unknown = row;
  for (const k of path) {
    if (!isPlainObject(v)) return undefined;
    v = Object.prototype.hasOwnProperty.call(v, k) ? v[k] : undefined;
  }
  return v;
}

function typeOf(v: unknown): ColumnType | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (isRawNumber(v)) return /[.eE]/.test(v.slice(RAW_NUMBER.length)) ? 'float' : 'int';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  return 'json';
}

function mergeType(a: ColumnType | null, b: ColumnType | null): ColumnType | null {
  if (a === null) return b;
  if (b === null || a === b) return a;
  if ((a === 'int' && b === 'float') || (a === 'float' && b === 'int')) return 'float';
  return 'json';
}

/** Columns for `rows` (key order of first appearance), with flattening of uniform sub-objects. */
export function buildColumns(rows: readonly Row[]): Column[] {
  const out: Column[] = [];
  collect(rows, [], 0, out);
  return out;
}

function collect(rows: readonly Row[], prefix: readonly string[], depth: number, out: Column[]): void {
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const r of rows) {
    const obj = prefix.length ? getPath(r, prefix) : r;
    if (!isPlainObject(obj)) continue;
    for (const k in obj) {
      if (!seen.has(k)) {
        seen.add(k);
        keys.push(k);
      }
    }
  }
  for (const k of keys) {
    const path = [...prefix, k];
    let present = 0;
    let nulls = 0;
    let type: ColumnType | null = null;
    let shape: string | null = null;
    let flattenable = depth < MAX_FLATTEN_DEPTH && !k.includes('.');
    for (const r of rows) {
      const v = getPath(r, path);
      if (v === undefined) continue;
      present++;
      if (v === null) {
        nulls++;
        continue;
      }
      type = mergeType(type, typeOf(v));
      if (flattenable) {
        if (!isPlainObject(v)) flattenable = false;
        else {
          const ks = Object.keys(v);
          const sig = ks.join('\u0000');
          if (ks.length === 0 || ks.length > MAX_FLATTEN_KEYS || ks.some((x) => x.includes('.')) || (shape !== null && sig !== shape)) flattenable = false;
          shape = sig;
        }
      }
    }
    if (flattenable && shape !== null && nulls === 0 && present === rows.length) {
      collect(rows, path, depth + 1, out);
      continue;
    }
    out.push({ path, name: path.join('.'), type: type ?? 'str', nullable: present < rows.length || nulls > 0, present });
  }
}

function cell(v: unknown, type: ColumnType): string {
  if (v === undefined || v === null) return '';
  if (type === 'json') return stringifyExact(v);
  if (typeof v === 'string') {
    if (isRawNumber(v)) return v.slice(RAW_NUMBER.length);
    if (v === '' || v.charCodeAt(0) === 34 || /[\t\n\r]/.test(v) || v !== v.trim()) return JSON.stringify(v);
    return v;
  }
  if (typeof v === 'object') return stringifyExact(v);
  return String(v);
}

export function headerLine(columns: readonly Column[], withIndex: boolean): string {
  const cols = columns.map((c) => `${c.name}:${c.type}${c.nullable ? '?' : ''}`);
  return (withIndex ? ['#', ...cols] : cols).join('\t');
}

export function rowLine(row: Row, columns: readonly Column[], index: number | null): string {
  let s = index === null ? '' : `${index}`;
  for (let c = 0; c < columns.length; c++) {
    const col = columns[c] as Column;
    const v = getPath(row, col.path);
    s += (c === 0 && index === null ? '' : '\t') + cell(v, col.type);
  }
  return s;
}

/** Renders all rows (lossless) or the given row indices (lossy, with a `#` column of original positions). */
export function renderTable(rows: readonly Row[], columns: readonly Column[], keep: readonly number[] | null): string {
  const lines: string[] = [];
  if (keep === null) {
    lines.push(`[table: ${rows.length} rows, tab-separated, empty cell = null]`, headerLine(columns, false));
    for (const r of rows) lines.push(rowLine(r, columns, null));
  } else {
    lines.push(`[table: ${keep.length} of ${rows.length} rows, # = position in the original, tab-separated, empty cell = null]`, headerLine(columns, true));
    for (const i of keep) lines.push(rowLine(rows[i] as Row, columns, i));
  }
  return lines.join('\n');
}

/** Estimated length of the lossless table, from a sample of rows for long arrays. */
export function estimateTableLength(rows: readonly Row[], columns: readonly Column[]): number {
  const n = rows.length;
  const header = headerLine(columns, false).length + 60;
  if (n <= 400) {
    let total = header;
    for (const r of rows) total += rowLine(r, columns, null).length + 1;
    return total;
  }
  const samples = 200;
  const step = n / samples;
  let sum = 0;
  for (let k = 0; k < samples; k++) sum += rowLine(rows[Math.floor(k * step)] as Row, columns, null).length + 1;
  return header + Math.round((sum / samples) * n);
}
