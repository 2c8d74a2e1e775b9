/**
 * Unified diffs. Keeps every file header and every changed line of the files it shows, trims
 * context to two lines around changes (re-splitting hunks with correct `@@` headers, as
 * `git diff -U2` would), caps hunks per file and files per diff (files with the most changes
 * and those matching the question or error words first), shortens very long added/removed
 * runs, and ends with a summary of what was cut plus the marker.
 */
import { ERROR_WORD_RE, matchesAnchor } from '../lexical.js';
import { formatMarker, shownSummary } from '../markers.js';
import type { TransformContext, TransformOutput } from '../types.js';

const FILE_START_RE = /^diff (?:--git|--combined|--cc) /;
const HUNK_RE = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$/;
const CONTEXT = 2;
const MAX_FILES = 20;
const MAX_HUNKS = 10;
const MAX_RUN = 60;
const MIN_LINES = 50;

interface Hunk {
  header: string;
  oldStart: number;
  newStart: number;
  tail: string;
  lines: string[];
  changed: number;
  score: number;
}

interface FileDiff {
  header: string[];
  name: string;
  hunks: Hunk[];
  added: number;
  removed: number;
  raw: string[];
  order: number;
}

function parse(lines: string[]): { pre: string[]; files: FileDiff[] } {
  const pre: string[] = [];
  const files: FileDiff[] = [];
  let file: FileDiff | null = null;
  let hunk: Hunk | null = null;
  for (const line of lines) {
    if (FILE_START_RE.test(line) || (line.startsWith('--- ') && !hunk && file === null)) {
      file = { header: [line], name: line.replace(/^diff (?:--git|--combined|--cc) /, '').replace(/^--- (a\/)?/, ''), hunks: [], added: 0, removed: 0, raw: [line], order: files.length };
      files.push(file);
      hunk = null;
      continue;
    }
    if (!file) {
      pre.push(line);
      continue;
    }
    file.raw.push(line);
    const h = HUNK_RE.exec(line);
    if (h) {
      hunk = { header: line, oldStart: Number(h[1]), newStart: Number(h[3]), tail: h[5] ?? '', lines: [], changed: 0, score: 0 };
      file.hunks.push(hunk);
      continue;
    }
    if (!hunk || line.startsWith('@@@')) {
      if (line.startsWith('+++ ')) file.name = line.slice(4).replace(/^b\//, '');
      file.header.push(line);
      continue;
    }
    hunk.lines.push(line);
    if (line.startsWith('+')) {
      file.added++;
      hunk.changed++;
    } else if (line.startsWith('-')) {
      file.removed++;
      hunk.changed++;
    }
  }
  return { pre, files };
}

/** A hunk's lines with context trimmed, split into sub-hunks with exact headers. */
function trimHunk(h: Hunk, out: string[]): { dropped: number } {
  const n = h.lines.length;
  const keep = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = (h.lines[i] as string)[0];
    if (c === '+' || c === '-' || c === '\\') for (let j = Math.max(0, i - CONTEXT); j <= Math.min(n - 1, i + CONTEXT); j++) keep[j] = 1;
  }
  if (h.changed === 0) for (let j = 0; j < Math.min(n, CONTEXT); j++) keep[j] = 1;
  let dropped = 0;
  let oldLine = h.oldStart;
  let newLine = h.newStart;
  let i = 0;
  let firstBlock = true;
  while (i < n) {
    if (!keep[i]) {
      const c = (h.lines[i] as string)[0];
      if (c !== '+') oldLine++;
      if (c !== '-') newLine++;
      dropped++;
      i++;
      continue;
    }
    const block: string[] = [];
    const os = oldLine;
    const ns = newLine;
    let oc = 0;
    let nc = 0;
    while (i < n && keep[i]) {
      const line = h.lines[i] as string;
      const c = line[0];
      block.push(line);
      if (c !== '+' && c !== '\\') {
        oldLine++;
        oc++;
      }
      if (c !== '-' && c !== '\\') {
        newLine++;
        nc++;
      }
      i++;
    }
    const range = (start: number, count: number) => (count === 0 ? `${start - 1},0` : count === 1 ? `${start}` : `${start},${count}`);
    out.push(`@@ -${range(os, oc)} +${range(ns, nc)} @@${firstBlock ? h.tail : ''}`);
    firstBlock = false;
    // very long runs of added or removed lines keep their head and tail
    let run: string[] = [];
    const flush = () => {
      if (run.length > MAX_RUN) {
        out.push(...run.slice(0, 40), `... ${run.length - 50} more ${run[0]?.[0] === '+' ? 'added' : 'removed'} lines ...`, ...run.slice(-10));
        dropped += run.length - 50;
      } else out.push(...run);
      run = [];
    };
    for (const line of block) {
      if (run.length && line[0] !== run[0]?.[0]) flush();
      if (line[0] === '+' || line[0] === '-') run.push(line);
      else {
        flush();
        out.push(line);
      }
    }
    flush();
  }
  return { dropped };
}

export function compressDiff(text: string, ctx: TransformContext): TransformOutput | null {
  const lines = text.split('\n');
  if (lines.length < MIN_LINES) return null;
  const { pre, files } = parse(lines);
  if (files.length === 0) return null;
  const terms = ctx.query.terms.filter((t) => t.length >= 3);
  for (const f of files) {
    for (const h of f.hunks) {
      let s = Math.min(0.3, 0.03 * h.changed);
      const body = h.lines.join('\n');
      if (ERROR_WORD_RE.test(body) || /\b(?:security|auth|password|secret|token|todo|fixme)\b/i.test(body)) s += 0.3;
      const lower = body.toLowerCase();
      const hits = terms.filter((t) => lower.includes(t)).length;
      // the question outranks incidental error words
      if (hits) s += 0.5 * Math.min(3, hits);
      if (ctx.query.anchors.length && matchesAnchor(ctx.query, lower)) s += 2;
      h.score = s;
    }
  }
  const fileScore = (f: FileDiff) => Math.max(0, ...f.hunks.map((h) => h.score)) * 1000 + f.added + f.removed;
  const shown = files.length <= MAX_FILES ? files : [...files].sort((a, b) => fileScore(b) - fileScore(a) || a.order - b.order).slice(0, MAX_FILES).sort((a, b) => a.order - b.order);
  const shownSet = new Set(shown);

  const out: string[] = [...pre];
  let hunksOmitted = 0;
  let linesDropped = 0;
  for (const f of files) {
    if (!shownSet.has(f)) continue;
    out.push(...f.header);
    let hunks = f.hunks;
    if (hunks.length > MAX_HUNKS) {
      const first = hunks[0] as Hunk;
      const last = hunks[hunks.length - 1] as Hunk;
      const middle = hunks.slice(1, -1).sort((a, b) => b.score - a.score || a.newStart - b.newStart).slice(0, MAX_HUNKS - 2);
      const chosen = new Set([first, last, ...middle]);
      hunksOmitted += hunks.length - chosen.size;
      for (const h of hunks) if (!chosen.has(h)) linesDropped += h.lines.length + 1;
      hunks = hunks.filter((h) => chosen.has(h));
    }
    for (const h of hunks) linesDropped += trimHunk(h, out).dropped;
  }
  const omittedFiles = files.filter((f) => !shownSet.has(f));
  for (const f of omittedFiles) linesDropped += f.raw.length;
  const added = files.reduce((a, f) => a + f.added, 0);
  const removed = files.reduce((a, f) => a + f.removed, 0);
  const cut: string[] = [];
  if (omittedFiles.length) cut.push(`${omittedFiles.length} files`);
  if (hunksOmitted) cut.push(`${hunksOmitted} hunks`);
  const summary = `[diff: ${files.length} files changed, +${added} -${removed}${cut.length ? `; not shown: ${cut.join(', ')}` : ''}]`;
  out.push(summary);
  if (omittedFiles.length) {
    out.push(`[files not shown: ${omittedFiles.slice(0, 30).map((f) => `${f.name} (+${f.added} -${f.removed})`).join(', ')}${omittedFiles.length > 30 ? `, ... ${omittedFiles.length - 30} more` : ''}]`);
  }
  if (linesDropped === 0) return null;
  const keptLines = Math.max(1, lines.length - linesDropped);
  out.push(formatMarker(ctx.hash, shownSummary(keptLines, lines.length, 'diff lines', 'context trimmed to 2 lines')));
  const result = out.join('\n');
  if (result.length >= text.length) return null;
  return { text: result, transform: 'diff_compressor', lossy: true, originalItems: lines.length, keptItems: keptLines, unit: 'diff lines' };
}
