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

/** `git diff`, combined diffs, and `diff -u`/`diff -ruN` (kubectl diff, plain diff) file starts. */
const FILE_START_RE = /^diff (?:--git|--combined|--cc|(?:-[\w=-]+ )+)/;
const HUNK_RE = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$/;
const CONTEXT = 2;
const MAX_FILES = 20;
const MAX_HUNKS = 10;
const MAX_RUN = 60;
const MIN_LINES = 50;
/** A change seen in this many hunks is shown SAME_CHANGE_SHOWN times, then referred to. */
const SAME_CHANGE_MIN = 3;
const SAME_CHANGE_SHOWN = 2;

interface Hunk {
  header: string;
  oldStart: number;
  newStart: number;
  tail: string;
  lines: string[];
  changed: number;
  score: number;
  /** Old and new lines the header announces but the body has not given yet. */
  oldLeft: number;
  newLeft: number;
}

interface FileDiff {
  header: string[];
  name: string;
  hunks: Hunk[];
  added: number;
  removed: number;
  raw: string[];
  order: number;
  /** Lines after the file's last hunk that belong to no hunk (`git log -p` commit headers): printed as they are. */
  trailer: string[];
}

function parse(lines: string[]): { pre: string[]; files: FileDiff[] } {
  const pre: string[] = [];
  const files: FileDiff[] = [];
  let file: FileDiff | null = null;
  let hunk: Hunk | null = null;
  for (let li = 0; li < lines.length; li++) {
    const line = lines[li] as string;
    // a hunk ends when its announced line counts are used up: a `--- x` / `+++ y` pair after
    // it starts the next file even without a `diff` line (plain `diff -u` output, patches)
    const hunkDone = hunk !== null && hunk.oldLeft <= 0 && hunk.newLeft <= 0;
    const bareStart = line.startsWith('--- ') && (lines[li + 1] ?? '').startsWith('+++ ') && (hunk === null || hunkDone) && !(file !== null && hunk === null && file.hunks.length === 0);
    if (FILE_START_RE.test(line) || bareStart) {
      file = { header: [line], name: line.replace(/^diff (?:--git|--combined|--cc|(?:-[\w=-]+ )+)/, '').replace(/^--- (a\/)?/, '').replace(/\t.*$/, ''), hunks: [], added: 0, removed: 0, raw: [line], order: files.length, trailer: [] };
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
      const oldN = h[2] === undefined ? 1 : Number(h[2]);
      const newN = h[4] === undefined ? 1 : Number(h[4]);
      hunk = { header: line, oldStart: Number(h[1]), newStart: Number(h[3]), tail: h[5] ?? '', lines: [], changed: 0, score: 0, oldLeft: oldN, newLeft: newN };
      file.hunks.push(hunk);
      continue;
    }
    if (hunkDone) {
      file.trailer.push(line);
      continue;
    }
    if (!hunk || line.startsWith('@@@')) {
      if (line.startsWith('+++ ')) file.name = line.slice(4).replace(/^b\//, '').replace(/\t.*$/, '');
      file.header.push(line);
      continue;
    }
    hunk.lines.push(line);
    if (line.startsWith('+')) {
      file.added++;
      hunk.changed++;
      hunk.newLeft--;
    } else if (line.startsWith('-')) {
      file.removed++;
      hunk.changed++;
      hunk.oldLeft--;
    } else if (!line.startsWith('\\')) {
      hunk.oldLeft--;
      hunk.newLeft--;
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
  // the same change repeated across hunks (an import moved in 30 files, a rename): shown in
  // full twice, then named by the file that shows it
  const sigCount = new Map<string, number>();
  const sigOf = new Map<Hunk, string>();
  for (const f of files) {
    for (const h of f.hunks) {
      if (h.changed === 0) continue;
      const sig = h.lines.filter((l) => l[0] === '+' || l[0] === '-').join('\n');
      sigOf.set(h, sig);
      sigCount.set(sig, (sigCount.get(sig) ?? 0) + 1);
    }
  }
  const sigSeen = new Map<string, { n: number; file: string }>();
  const repeat = new Set<Hunk>();
  const repeatOf = new Map<Hunk, string>();
  for (const f of files) {
    for (const h of f.hunks) {
      const sig = sigOf.get(h);
      if (sig === undefined || (sigCount.get(sig) ?? 0) < SAME_CHANGE_MIN) continue;
      const seen = sigSeen.get(sig);
      if (!seen) sigSeen.set(sig, { n: 1, file: f.name });
      else if (seen.n < SAME_CHANGE_SHOWN) seen.n++;
      else {
        repeat.add(h);
        repeatOf.set(h, seen.file);
      }
    }
  }
  const onlyRepeats = (f: FileDiff) => f.hunks.length > 0 && f.hunks.every((h) => repeat.has(h) || h.changed === 0);
  const fileScore = (f: FileDiff) => Math.max(0, ...f.hunks.map((h) => h.score)) * 1000 + f.added + f.removed;
  // files holding nothing but repeated changes cost a line each: they do not count against the cap
  const distinct = files.filter((f) => !onlyRepeats(f));
  const keptDistinct = distinct.length <= MAX_FILES ? distinct : [...distinct].sort((a, b) => fileScore(b) - fileScore(a) || a.order - b.order).slice(0, MAX_FILES);
  const shownSet = new Set([...keptDistinct, ...files.filter(onlyRepeats)]);

  const out: string[] = [...pre];
  let hunksOmitted = 0;
  let linesDropped = 0;
  for (const f of files) {
    if (!shownSet.has(f)) continue;
    if (onlyRepeats(f)) {
      const like = [...new Set(f.hunks.map((h) => repeatOf.get(h)).filter((x): x is string => x !== undefined))];
      out.push(f.header[0] as string, `[${f.hunks.length === 1 ? 'the same change' : `the same ${f.hunks.length} changes`} as in ${like.join(', ')}]`);
      linesDropped += f.raw.length - 1;
      continue;
    }
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
    for (const h of hunks) {
      const like = repeatOf.get(h);
      if (like !== undefined) {
        out.push(`[hunk at -${h.oldStart} +${h.newStart}: the same change as in ${like}]`);
        linesDropped += h.lines.length + 1;
      } else linesDropped += trimHunk(h, out).dropped;
    }
    out.push(...f.trailer);
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
