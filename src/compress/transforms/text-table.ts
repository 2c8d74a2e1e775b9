/**
 * Column-aligned text tables (`kubectl get`, `docker ps`, `helm list`, `terraform state list
 * -o table`-like outputs): an upper-case header whose cells are separated by two or more
 * spaces, and rows cut at the header's column starts. Rows are parsed into objects and chosen
 * like JSON rows (json-select.ts: error signals, rare values such as a `CrashLoopBackOff`
 * among `Running`, numeric anomalies, the question's anchors and terms, evenly spaced rows);
 * kept rows are printed exactly as they were, under the header, with `... N rows omitted ...`
 * gaps, the counts of every low-cardinality column, and the marker.
 */
import { formatMarker, shownSummary } from '../markers.js';
import type { TransformContext, TransformOutput } from '../types.js';
import { buildColumns } from './json-table.js';
import { selectRows } from './json-select.js';

const MIN_ROWS = 12;
const HEADER_CELL_RE = /^[A-Z][A-Za-z0-9 _()%/.#:-]*$/;

interface Layout {
  names: string[];
  /** Character offset where each column starts in the header. */
  starts: number[];
}

/** The header's cells (split at runs of 2+ spaces) and their offsets, or null. */
function headerLayout(line: string): Layout | null {
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
  const upper = names.filter((n) => n === n.toUpperCase()).length;
  if (upper < 0.6 * names.length) return null;
  return { names, starts };
}

/** A row's cells cut at the header's column starts (left-aligned columns), or null when misaligned. */
function cells(line: string, layout: Layout): string[] | null {
  const { starts } = layout;
  const out: string[] = [];
  for (let c = 0; c < starts.length; c++) {
    const from = starts[c] as number;
    const to = c + 1 < starts.length ? (starts[c + 1] as number) : line.length;
    // a cell boundary must fall on a space (or the end): otherwise the row is misaligned
    if (c > 0 && from < line.length && line[from - 1] !== ' ') return null;
    out.push(line.slice(from, Math.max(from, to)).trim());
  }
  return out;
}

/** True when the first line is a table header and most following lines align with it. */
export function looksLikeTextTable(lines: readonly string[]): boolean {
  const head = lines[0];
  if (head === undefined) return false;
  const layout = headerLayout(head);
  if (!layout) return false;
  const rows = lines.slice(1, 201).filter((l) => l.trim());
  if (rows.length < MIN_ROWS) return false;
  let aligned = 0;
  for (const r of rows) if (cells(r, layout)) aligned++;
  return aligned >= 0.9 * rows.length;
}

const NUMERIC_RE = /^-?\d+(?:\.\d+)?$/;

export function compressTextTable(text: string, ctx: TransformContext): TransformOutput | null {
  const trailingNewline = text.endsWith('\n');
  const lines = (trailingNewline ? text.slice(0, -1) : text).split('\n');
  if (!looksLikeTextTable(lines)) return null;
  const layout = headerLayout(lines[0] as string) as Layout;
  const rowLines: number[] = [];
  const rows: Record<string, unknown>[] = [];
  const texts: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (!line.trim()) continue;
    const c = cells(line, layout);
    const row: Record<string, unknown> = {};
    if (c) layout.names.forEach((name, k) => (row[name] = NUMERIC_RE.test(c[k] as string) ? Number(c[k]) : (c[k] as string)));
    else row[layout.names[layout.names.length - 1] as string] = line.trim();
    rows.push(row);
    rowLines.push(i);
    texts.push(line.toLowerCase());
  }
  const n = rows.length;
  if (n < MIN_ROWS || ctx.expired()) return null;
  const sel = selectRows(rows, buildColumns(rows), texts, ctx);
  if (sel.keep.length >= n) return null;
  const keepLine = new Set(sel.keep.map((k) => rowLines[k] as number));
  const out: string[] = [lines[0] as string];
  let gap = 0;
  for (let i = 1; i < lines.length; i++) {
    if (!(lines[i] as string).trim()) continue;
    if (keepLine.has(i)) {
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
