/**
 * Lossless compaction of uniform object arrays into a typed, tab-separated table:
 *
 *   [table: 3 rows, tab-separated, empty cell = null]
 *   id:int	name:str	meta.region:str	note:str?
 *   1	alice	us	"needs\ttab"
 *
 * Nested objects with the same small key set in every row that has them are flattened into
 * `parent.child` columns; other nested values are written as compact JSON in their cell. Strings are written
 * raw unless they are empty or contain tabs, newlines or leading quotes (then JSON-quoted).
 *
 * Tables of 10+ rows also factor out what the rows do not need to repeat, still losslessly:
 * a column with the same value in every row is stated once in the header (`same in every row:
 * status="active"`), an integer column that is a linear function of the row position is
 * stated as its formula (`id = 1000 + 7 * row`), and a run of identical rows prints once,
 * followed by `... the row above repeats N more times ...`.
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
  // the object at `prefix` of each row (undefined when absent), looked up once per level
  const objs: (Row | undefined)[] = new Array(rows.length);
  const keys: string[] = [];
  const seen = new Set<string>();
  for (let r = 0; r < rows.length; r++) {
    const obj = prefix.length ? getPath(rows[r] as Row, prefix) : rows[r];
    if (!isPlainObject(obj)) continue;
    objs[r] = obj;
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
    let shape: string[] | null = null;
    let flattenable = depth < MAX_FLATTEN_DEPTH && !k.includes('.');
    for (const obj of objs) {
      if (obj === undefined || !Object.prototype.hasOwnProperty.call(obj, k)) continue;
      const v = obj[k];
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
          if (ks.length === 0 || ks.length > MAX_FLATTEN_KEYS || (shape !== null ? !sameKeys(ks, shape) : ks.some((x) => x.includes('.')))) flattenable = false;
          shape = ks;
        }
      }
    }
    // flattened when every row that has the object has the same keys (rows without it, or with
    // null, get empty cells: `empty cell = null` already covers absent values)
    if (flattenable && shape !== null && present - nulls >= Math.max(2, 0.5 * rows.length)) {
      collect(rows, path, depth + 1, out);
      continue;
    }
    out.push({ path, name: path.join('.'), type: type ?? 'str', nullable: present < rows.length || nulls > 0, present });
  }
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
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

/** Columns that need not be printed per row: one value for all rows, or a linear function of the position. */
export interface Derived {
  constants: { column: Column; text: string }[];
  sequences: { column: Column; start: number; step: number }[];
  /** The columns still printed per row. */
  rest: Column[];
}

const MIN_DERIVE_ROWS = 10;
const NO_DERIVED = (columns: readonly Column[]): Derived => ({ constants: [], sequences: [], rest: [...columns] });

/** Characters of the numbers 0..n-1 written out. */
function digitsUpTo(n: number): number {
  let total = 0;
  for (let p = 1, d = 1; p <= n; p *= 10, d++) total += (Math.min(n, p * 10) - p) * d;
  return total + 1;
}

function plainInt(v: unknown): number | null {
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : null;
}

/**
 * Constant columns over all `rows` (the whole array, also when a cut shows a subset) and, when
 * `positions` is set (lossless tables only), row-number columns (`0, 1, 2...` or `1, 2, 3...`).
 * Other linear columns (`9800000 + 7 * row`) stay printed: ids are copied, not computed.
 */
export function deriveColumns(rows: readonly Row[], columns: readonly Column[], positions = true): Derived {
  const n = rows.length;
  if (n < MIN_DERIVE_ROWS || columns.length < 2) return NO_DERIVED(columns);
  const out: Derived = { constants: [], sequences: [], rest: [] };
  for (const c of columns) {
    const first = getPath(rows[0] as Row, c.path);
    // scalars only (nested values stay in their cells), compared by value
    if (first === undefined || first === null || typeof first === 'object' || c.type === 'json') {
      out.rest.push(c);
      continue;
    }
    const firstText = stringifyExact(first);
    let constant = true;
    const a = plainInt(first);
    const b0 = a !== null ? plainInt(getPath(rows[1] as Row, c.path)) : null;
    let linear = a !== null && b0 !== null && b0 !== a;
    const step = linear ? (b0 as number) - (a as number) : 0;
    for (let i = 1; i < n && (constant || linear); i++) {
      const v = getPath(rows[i] as Row, c.path);
      if (constant && v !== first) constant = false;
      if (linear && plainInt(v) !== (a as number) + step * i) linear = false;
    }
    // factored out only when that saves at least twice what the header note costs
    if (constant && n * (cell(first, c.type).length + 1) >= 2 * (c.name.length + firstText.length + 24)) out.constants.push({ column: c, text: firstText });
    else if (linear && positions && step === 1 && (a === 0 || a === 1) && digitsUpTo(n) + n >= 2 * (c.name.length + 50)) out.sequences.push({ column: c, start: a as number, step });
    else out.rest.push(c);
  }
  // nothing left to print per row is fine (every value is stated in the header)
  return out;
}

function derivedNote(d: Derived): string {
  const parts: string[] = [];
  if (d.constants.length) parts.push(`same in every row: ${d.constants.map((c) => `${c.column.name}=${c.text}`).join(', ')}`);
  if (d.sequences.length) parts.push(`row numbers: ${d.sequences.map((s) => `${s.column.name} = row${s.start ? ' + 1' : ''}`).join(', ')}`);
  return parts.length ? `; ${parts.join('; ')}` : '';
}

/**
 * Renders all rows (lossless) or the given row indices (lossy, with a `#` column of original
 * positions). `offset` is added to printed positions (arrays that are a run of a larger one).
 */
export function renderTable(rows: readonly Row[], columns: readonly Column[], keep: readonly number[] | null, offset = 0): string {
  const d = deriveColumns(rows, columns, keep === null);
  const lines: string[] = [];
  if (keep === null) {
    lines.push(`[table: ${rows.length} rows, tab-separated, empty cell = null${d.sequences.length ? '; row = 0-based row number' : ''}${derivedNote(d)}]`);
    if (d.rest.length) {
      lines.push(headerLine(d.rest, false));
      let prev: string | null = null;
      let repeats = 0;
      const flush = () => {
        if (repeats >= 2 && repeats * ((prev as string).length + 1) > 60) lines.push(`... the row above repeats ${repeats} more times ...`);
        else for (let k = 0; k < repeats; k++) lines.push(prev as string);
        repeats = 0;
      };
      for (const r of rows) {
        const line = rowLine(r, d.rest, null);
        if (line === prev) {
          repeats++;
          continue;
        }
        flush();
        lines.push(line);
        prev = line;
      }
      flush();
    }
  } else {
    lines.push(`[table: ${keep.length} of ${rows.length} rows, # = position in the original, tab-separated, empty cell = null${derivedNote(d)}]`, headerLine(d.rest, true));
    for (const i of keep) lines.push(rowLine(rows[i] as Row, d.rest, i + offset));
  }
  return lines.join('\n');
}

/** Estimated length of the lossless table (derived columns left out), from a sample of rows for long arrays. */
export function estimateTableLength(rows: readonly Row[], columns: readonly Column[]): number {
  const n = rows.length;
  const cols = n <= 400 ? deriveColumns(rows, columns).rest : columns;
  const header = headerLine(cols, false).length + 60;
  if (n <= 400) {
    let total = header;
    for (const r of rows) total += rowLine(r, cols, null).length + 1;
    return total;
  }
  const samples = 200;
  const step = n / samples;
  let sum = 0;
  for (let k = 0; k < samples; k++) sum += rowLine(rows[Math.floor(k * step)] as Row, cols, null).length + 1;
  return header + Math.round((sum / samples) * n);
}
