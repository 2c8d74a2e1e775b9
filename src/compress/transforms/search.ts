/**
 * Search results (`grep -n`, ripgrep): matches grouped by file and ranked by relevance to the
 * user's question and by error keywords. Every match containing one of the question's exact
 * anchors (ids, quoted strings) or an error word is kept; then, per file, the first and last
 * match and the best scored ones, with per-file and global caps. Kept lines are printed
 * unchanged, in their original order, followed by the files that were left out and the marker.
 */
import { adaptiveK, diversityOf, ERROR_WORD_RE, matchesAnchor } from '../lexical.js';
import { formatMarker, shownSummary } from '../markers.js';
import type { TransformContext, TransformOutput } from '../types.js';

/** Lines that report a failure (rather than merely mention a word like `timeout`). */
const STRONG_ERROR_RE = /\b(?:throw|raise|panic!?|fatal|exception|traceback|failed|failure|crash(?:ed)?|segfault|unhandled|uncaught)\b|\b[A-Z]\w*(?:Error|Exception)\b/;
const MATCH_RE = /^((?:[A-Za-z]:[\\/])?[^\s:[\]]*?[^\s:[\]\d-][^\s:[\]]*?)([:-])(\d+)\2(.*)$/;
const MIN_MATCHES = 15;
const PER_FILE = 5;
const MAX_FILES = 15;
const MAX_FORCED = 60;

interface Match {
  line: number;
  file: string;
  score: number;
  anchor: boolean;
  error: boolean;
}

export function compressSearch(text: string, ctx: TransformContext): TransformOutput | null {
  const lines = text.split('\n');
  const matches: Match[] = [];
  const byFile = new Map<string, Match[]>();
  const terms = ctx.query.terms.filter((t) => t.length >= 3);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] as string;
    const m = MATCH_RE.exec(raw);
    if (!m) continue;
    const file = m[1] as string;
    const content = m[4] as string;
    const lower = raw.toLowerCase();
    let score = 0;
    const lowerContent = content.toLowerCase();
    for (const t of terms) if (lowerContent.includes(t)) score += 0.3;
    const error = STRONG_ERROR_RE.test(content);
    if (error) score += 0.5;
    else if (ERROR_WORD_RE.test(content)) score += 0.2;
    const match: Match = { line: i, file, score: Math.min(1, score), anchor: matchesAnchor(ctx.query, lower), error };
    matches.push(match);
    let list = byFile.get(file);
    if (!list) byFile.set(file, (list = []));
    list.push(match);
  }
  const nonEmpty = lines.filter((l) => l.trim()).length;
  if (matches.length < MIN_MATCHES || matches.length < 0.5 * nonEmpty) return null;

  const budget = adaptiveK(matches.length, diversityOf(matches.map((m) => lines[m.line] as string)), 5, Math.max(30, ctx.maxItems * 2), ctx.targetRatio);
  const keep = new Set<number>();
  // the question's exact anchors first, then error lines while they are rare enough to matter
  const anchors = matches.filter((m) => m.anchor).slice(0, MAX_FORCED);
  for (const m of anchors) keep.add(m.line);
  const errors = matches.filter((m) => m.error && !m.anchor);
  if (ctx.keepAllErrors) for (const m of errors) keep.add(m.line);
  else if (errors.length <= Math.max(8, 0.03 * matches.length)) for (const m of errors.slice(0, MAX_FORCED)) keep.add(m.line);
  // files ranked by best score, then by number of matches, then by first appearance
  const files = [...byFile.entries()]
    .map(([file, list], order) => ({ file, list, best: Math.max(...list.map((m) => m.score)), order }))
    .sort((a, b) => b.best - a.best || b.list.length - a.list.length || a.order - b.order);
  let remaining = Math.max(0, budget - keep.size);
  const shownFiles = new Set<string>();
  for (const { file, list } of files) {
    if (list.some((m) => keep.has(m.line))) shownFiles.add(file);
  }
  for (const { file, list } of files) {
    if (remaining <= 0) break;
    if (shownFiles.size >= MAX_FILES && !shownFiles.has(file)) continue;
    const cap = Math.min(PER_FILE, remaining);
    const picks: Match[] = [];
    const add = (m: Match | undefined) => {
      if (m && !picks.includes(m) && picks.length < cap) picks.push(m);
    };
    add(list[0]);
    add(list[list.length - 1]);
    for (const m of [...list].sort((a, b) => b.score - a.score || a.line - b.line)) add(m);
    for (const m of picks) {
      if (!keep.has(m.line)) {
        keep.add(m.line);
        remaining--;
      }
    }
    shownFiles.add(file);
  }
  if (keep.size >= matches.length) return null;

  const out: string[] = [];
  const omittedPerFile = new Map<string, number>();
  for (const m of matches) if (!keep.has(m.line)) omittedPerFile.set(m.file, (omittedPerFile.get(m.file) ?? 0) + 1);
  for (let i = 0; i < lines.length; i++) if (keep.has(i)) out.push(lines[i] as string);
  const partial = [...omittedPerFile.entries()].filter(([f]) => shownFiles.has(f));
  const hidden = [...omittedPerFile.entries()].filter(([f]) => !shownFiles.has(f));
  if (partial.length) out.push(`[more matches in shown files: ${partial.slice(0, 20).map(([f, c]) => `${f} +${c}`).join(', ')}${partial.length > 20 ? `, ... ${partial.length - 20} more files` : ''}]`);
  if (hidden.length) {
    const total = hidden.reduce((a, [, c]) => a + c, 0);
    out.push(`[${hidden.length} files not shown (${total} matches)${hidden.length <= 20 ? `: ${hidden.map(([f, c]) => `${f} (${c})`).join(', ')}` : ''}]`);
  }
  out.push(formatMarker(ctx.hash, shownSummary(keep.size, matches.length, 'matches', `${byFile.size} files`)));
  const result = out.join('\n');
  if (result.length >= text.length) return null;
  return { text: result, transform: 'search_compressor', lossy: true, originalItems: matches.length, keptItems: keep.size, unit: 'matches' };
}
