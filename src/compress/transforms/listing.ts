/**
 * File listings (`find`, `ls -l`, `git ls-files`, `tree`-less path lists): entries are grouped
 * by directory; small directories are shown whole, large ones show their first entries and a
 * count by file extension. Entries matching the user's question or error words are always kept.
 */
import { ERROR_WORD_RE, matchesAnchor } from '../lexical.js';
import { formatMarker, shownSummary } from '../markers.js';
import type { TransformContext, TransformOutput } from '../types.js';

const LS_RE = /^[-dlcbps][rwxsStT-]{9}[@+.]?\s+\d+\s+\S+\s+\S+\s+\d+\s+\w{3}\s+\d+\s+[\d:]+\s+(.+)$/;
const PATH_RE = /^\.{0,2}\/?[\w@.+~-]+(?:\/[\w@.+ ~-]+)+\/?$/;
const MIN_LINES = 30;
const PER_DIR = 4;

/** True when most lines are file paths or `ls -l` rows. */
export function looksLikeListing(lines: readonly string[]): boolean {
  const ne = lines.filter((l) => l.trim());
  if (ne.length < MIN_LINES) return false;
  let hits = 0;
  for (const l of ne.slice(0, 200)) if (PATH_RE.test(l.trim()) || LS_RE.test(l)) hits++;
  return hits >= 0.8 * Math.min(ne.length, 200);
}

function dirOf(entry: string): string {
  const i = entry.replace(/\/$/, '').lastIndexOf('/');
  return i <= 0 ? '.' : entry.slice(0, i);
}

function extOf(entry: string): string {
  const base = entry.slice(entry.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot) : base.endsWith('/') ? '(dirs)' : '(none)';
}

export function compressListing(text: string, ctx: TransformContext): TransformOutput | null {
  const lines = text.split('\n');
  if (!looksLikeListing(lines)) return null;
  const entries = lines.map((l, i) => ({ line: l, i, name: (LS_RE.exec(l)?.[1] ?? l).trim() })).filter((e) => e.line.trim());
  const n = entries.length;
  const keep = new Set<number>();
  const groups = new Map<string, typeof entries>();
  for (const e of entries) {
    const d = dirOf(e.name);
    let g = groups.get(d);
    if (!g) groups.set(d, (g = []));
    g.push(e);
    const lower = e.line.toLowerCase();
    if (ERROR_WORD_RE.test(e.line) || matchesAnchor(ctx.query, lower) || ctx.query.terms.some((t) => t.length > 3 && lower.includes(t))) keep.add(e.i);
  }
  const perDir = ctx.targetRatio !== null ? Math.max(1, Math.ceil(PER_DIR * ctx.targetRatio * 4)) : PER_DIR;
  const out: string[] = [];
  let shown = 0;
  for (const [dir, g] of groups) {
    const picked = g.filter((e, k) => k < perDir || keep.has(e.i));
    for (const e of picked) out.push(e.line);
    shown += picked.length;
    const rest = g.length - picked.length;
    if (rest > 0) {
      const exts = new Map<string, number>();
      for (const e of g) if (!picked.includes(e)) exts.set(extOf(e.name), (exts.get(extOf(e.name)) ?? 0) + 1);
      const top = [...exts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 5).map(([x, c]) => `${c} ${x}`);
      out.push(`  [... ${rest} more in ${dir}/: ${top.join(', ')}]`);
    }
  }
  if (shown >= n) return null;
  out.push(formatMarker(ctx.hash, shownSummary(shown, n, 'entries', `${groups.size} directories`)));
  const result = out.join('\n');
  if (result.length >= text.length) return null;
  return { text: result, transform: 'listing_compressor', lossy: true, originalItems: n, keptItems: shown, unit: 'entries' };
}
