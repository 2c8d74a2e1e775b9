/**
 * Text tables: column-aligned output (`kubectl get`, `docker ps`, `helm list`: an upper-case
 * header whose cells are separated by two or more spaces, rows cut at the header's column
 * starts), pipe tables (`psql`, `mysql`, Markdown: `a | b` rows under a `---+---` rule) and
 * delimited files (CSV, TSV, with quoted fields). Rows are parsed into objects and chosen like
 * JSON rows (json-select.ts: error signals, rare values such as a `CrashLoopBackOff` among
 * `Running`, numeric anomalies, the question's anchors and terms, evenly spaced rows); kept
 * rows are printed exactly as they were, under the header, with `... N rows omitted ...`
 * gaps, the counts of every low-cardinality column, and the marker.
 */
import { lineTemplate } from '../lexical.js';
import { formatMarker, shownSummary } from '../markers.js';
import type { TransformContext, TransformOutput } from '../types.js';
import { buildColumns } from './json-table.js';
import { selectRows } from './json-select.js';

const MIN_ROWS = 12;
const HEADER_CELL_RE = /^[A-Z][A-Za-z0-9 _()%/.#:-]*$/;
/** A rule under a pipe table's header: `----+----`, `|---|:---:|`, `+----+----+`. */
const RULE_RE = /^[\s|+:-]*-{3,}[\s|+:-]*$/;
/** The border of a `mysql` table: `+----+----+`. */
const BORDER_RE = /^\+[-+]+\+$/;

interface Layout {
  names: string[];
  /** Splits a data line into cells, or null when the line does not fit the layout. */
  split(line: string): string[] | null;
  /** Lines (by index) that are part of the frame: the header, rules, borders. */
  frame: Set<number>;
  /** Index of the first data line. */
  dataFrom: number;
}

// --- column-aligned tables -------------------------------------------------------------------

function fixedLayout(lines: readonly string[]): Layout | null {
  const line = lines[0] as string;
  if (line.length > 400 || !/ {2}/.test(line.trimEnd())) return null;
  const names: string[] = [];
  const starts: number[] = [];
  const re = /\S+(?: \S+)*/g;
  for (let m = re.exec(line); m; m = re.exec(line)) {
    names.push(m[0]);
    starts.push(m.index);
  }
  if (names.length < 3 || starts[0] !== 0) return null;
  if (!names.every((n) => HEADER_CELL_RE.test(n))) return null;
  // mostly upper-case header words (NAME, STATUS, CONTAINER ID), not a sentence
  if (names.filter((n) => n === n.toUpperCase()).length < 0.6 * names.length) return null;
  const split = (row: string): string[] | null => {
    const out: string[] = [];
    for (let c = 0; c < starts.length; c++) {
      const from = starts[c] as number;
      const to = c + 1 < starts.length ? (starts[c + 1] as number) : row.length;
      // a cell boundary must fall on a space (or the end): otherwise the row is misaligned
      if (c > 0 && from < row.length && row[from - 1] !== ' ') return null;
      out.push(row.slice(from, Math.max(from, to)).trim());
    }
    return out;
  };
  return { names, split, frame: new Set([0]), dataFrom: 1 };
}

// --- pipe tables (psql, mysql, Markdown) -----------------------------------------------------

function pipeCells(line: string): string[] {
  let s = line.trim();
  if (s.startsWith('|')) s = s.slice(1);
  if (s.endsWith('|')) s = s.slice(0, -1);
  return s.split('|').map((c) => c.trim());
}

function pipeLayout(lines: readonly string[]): Layout | null {
  let h = 0;
  const frame = new Set<number>();
  if (BORDER_RE.test((lines[0] ?? '').trim())) {
    frame.add(0);
    h = 1;
  }
  const head = lines[h];
  const rule = lines[h + 1];
  if (head === undefined || rule === undefined || !head.includes('|') || !RULE_RE.test(rule) || !rule.includes('-')) return null;
  const names = pipeCells(head);
  if (names.length < 2 || names.some((n) => n.length === 0 || n.length > 80)) return null;
  frame.add(h).add(h + 1);
  const split = (row: string): string[] | null => {
    if (!row.includes('|')) return null;
    const cells = pipeCells(row);
    return cells.length === names.length ? cells : null;
  };
  return { names, split, frame, dataFrom: h + 2 };
}

// --- delimited files (CSV, TSV) --------------------------------------------------------------

/** Fields of a delimited line; quotes protect delimiters (`"a, b"`) and double to escape. */
function delimited(line: string, d: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"' && cur === '') quoted = true;
    else if (c === d) {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  out.push(cur.trim());
  return out;
}

function delimitedLayout(lines: readonly string[]): Layout | null {
  const head = lines[0] as string;
  if (head.length > 2000) return null;
  for (const d of ['\t', ',', ';']) {
    if (!head.includes(d)) continue;
    const names = delimited(head, d);
    // a header names its columns: short cells, mostly without digits, no sentences, and not
    // shaped like the rows under it (a log line with commas is not a header)
    if (names.length < 3 || names.some((n) => n.length === 0 || n.length > 60 || /[.!?]$/.test(n))) continue;
    if (names.filter((n) => /\d/.test(n)).length > 0.4 * names.length) continue;
    const shape = lineTemplate(head);
    const sample = lines.slice(1, 41);
    if (sample.filter((l) => lineTemplate(l) === shape).length > 0.3 * sample.length) continue;
    const split = (row: string): string[] | null => {
      const cells = delimited(row, d);
      return cells.length === names.length ? cells : null;
    };
    return { names, split, frame: new Set([0]), dataFrom: 1 };
  }
  return null;
}

function layoutOf(lines: readonly string[]): Layout | null {
  const candidates = [fixedLayout, pipeLayout, delimitedLayout];
  for (const make of candidates) {
    const layout = make(lines);
    if (!layout) continue;
    const rows = lines.slice(layout.dataFrom, layout.dataFrom + 200).filter((l) => l.trim());
    if (rows.length < MIN_ROWS) continue;
    let fit = 0;
    for (const r of rows) if (layout.split(r)) fit++;
    // footers (`(1000 rows)`) and borders may not fit
    if (fit >= 0.9 * rows.length) return layout;
  }
  return null;
}

/** True when the text is a table this transform can read. */
export function looksLikeTextTable(lines: readonly string[]): boolean {
  return lines.length > MIN_ROWS && layoutOf(lines) !== null;
}

const NUMERIC_RE = /^-?\d+(?:\.\d+)?$/;

export function compressTextTable(text: string, ctx: TransformContext): TransformOutput | null {
  const trailingNewline = text.endsWith('\n');
  const lines = (trailingNewline ? text.slice(0, -1) : text).split('\n');
  const layout = layoutOf(lines);
  if (!layout) return null;
  const rowLines: number[] = [];
  const rows: Record<string, unknown>[] = [];
  const texts: string[] = [];
  const always = new Set<number>(layout.frame);
  for (let i = layout.dataFrom; i < lines.length; i++) {
    const line = lines[i] as string;
    if (!line.trim()) continue;
    const c = layout.split(line);
    // lines outside the layout (footers, borders, notes) are printed as they are
    if (!c) {
      always.add(i);
      continue;
    }
    const row: Record<string, unknown> = {};
    layout.names.forEach((name, k) => (row[name] = NUMERIC_RE.test(c[k] as string) ? Number(c[k]) : (c[k] as string)));
    rows.push(row);
    rowLines.push(i);
    texts.push(line.toLowerCase());
  }
  const n = rows.length;
  if (n < MIN_ROWS || ctx.expired()) return null;
  const sel = selectRows(rows, buildColumns(rows), texts, ctx);
  if (sel.keep.length >= n) return null;
  const keepLine = new Set(sel.keep.map((k) => rowLines[k] as number));
  const out: string[] = [];
  let gap = 0;
  for (let i = 0; i < lines.length; i++) {
    if (!(lines[i] as string).trim() && i >= layout.dataFrom) continue;
    if (keepLine.has(i) || always.has(i) || i < layout.dataFrom) {
      if (gap) out.push(`... ${gap} row${gap === 1 ? '' : 's'} omitted ...`);
      gap = 0;
      out.push(lines[i] as string);
    } else gap++;
  }
  if (gap) out.push(`... ${gap} row${gap === 1 ? '' : 's'} omitted ...`);
  // counts of the low-cardinality columns (STATUS, READY, TYPE...): what the omitted rows held
  const counts: string[] = [];
  for (const name of layout.names) {
    const m = new Map<string, number>();
    for (const r of rows) {
      const v = String(r[name] ?? '');
      m.set(v, (m.get(v) ?? 0) + 1);
      if (m.size > 8) break;
    }
    if (m.size < 2 || m.size > 8) continue;
    counts.push(`${name}: ${[...m.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([v, c]) => `${c} ${v || '(empty)'}`).join(', ')}`);
  }
  if (counts.length) out.push(`[all ${n} rows by ${counts.join('; ')}]`);
  out.push(formatMarker(ctx.hash, shownSummary(sel.keep.length, n, 'rows')));
  const result = out.join('\n');
  if (result.length >= text.length) return null;
  return { text: result, transform: 'table_compressor', lossy: true, originalItems: n, keptItems: sel.keep.length, unit: 'rows' };
}
