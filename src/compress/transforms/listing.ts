/**
 * File listings (`find`, `ls -l`, `git ls-files`, `tree`-less path lists): entries are grouped
 * by directory (by a shallower directory prefix when there are too many directories to list,
 * so a 5,000-file monorepo becomes one group per top-level area); each group shows its first
 * entries and a count by file extension. Always kept, whatever their group: entries whose path
 * answers the question (word pieces, plurals and abbreviations: "env" finds
 * `config/.env.production`, "forms" finds `Form.tsx`), entries with a rare extension or
 * a rare dotfile name (what the per-group counts would hide), and entries with error words.
 */
import { ERROR_WORD_RE, matchedTerms, matchesAnchor } from '../lexical.js';
import { formatMarker, shownSummary } from '../markers.js';
import type { TransformContext, TransformOutput } from '../types.js';

const LS_RE = /^[-dlcbps][rwxsStT-]{9}[@+.]?\s+\d+\s+\S+\s+\S+\s+\d+\s+\w{3}\s+\d+\s+[\d:]+\s+(.+)$/;
const PATH_RE = /^\.{0,2}\/?[\w@.+~-]+(?:\/[\w@.+ ~-]+)+\/?$/;
const MIN_LINES = 30;
const PER_DIR = 4;
/** Most groups shown before directories are merged under shorter prefixes. */
const MAX_GROUPS = 60;
/** Most entries forced in by rarity or by the question (beyond the per-group ones). */
const MAX_FORCED = 120;

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

function baseOf(entry: string): string {
  return entry.replace(/\/$/, '').slice(entry.replace(/\/$/, '').lastIndexOf('/') + 1);
}

function extOf(entry: string): string {
  if (entry.endsWith('/')) return '(dirs)';
  const base = baseOf(entry);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot) : '(none)';
}

/** The first `depth` components of a directory (`./a/b/c` at depth 2 -> `./a/b`). */
function prefixOf(dir: string, depth: number): string {
  const parts = dir.split('/');
  const lead = parts[0] === '.' || parts[0] === '' || parts[0] === '..' ? 1 : 0;
  return parts.slice(0, Math.min(parts.length, depth + lead)).join('/') || dir;
}

interface Entry {
  line: string;
  i: number;
  name: string;
}

export function compressListing(text: string, ctx: TransformContext): TransformOutput | null {
  const lines = text.split('\n');
  if (!looksLikeListing(lines)) return null;
  const entries: Entry[] = lines.map((l, i) => ({ line: l, i, name: (LS_RE.exec(l)?.[1] ?? l).trim() })).filter((e) => e.line.trim());
  const n = entries.length;

  // rare extensions and dotfile names: what per-group counts would otherwise hide
  const extCount = new Map<string, number>();
  for (const e of entries) extCount.set(extOf(e.name), (extCount.get(extOf(e.name)) ?? 0) + 1);
  const rareLimit = Math.max(2, Math.floor(0.002 * n));
  const dotfiles = entries.filter((e) => baseOf(e.name).startsWith('.')).length;
  const forced = new Set<number>();
  const force = (i: number) => {
    if (forced.size < MAX_FORCED) forced.add(i);
  };
  // the question: anchors, and terms answered by a piece of the path (only terms that single out a few entries)
  const termHits = ctx.query.terms.map(() => [] as number[]);
  for (const e of entries) {
    if (matchesAnchor(ctx.query, e.line.toLowerCase())) force(e.i);
    for (const t of matchedTerms(ctx.query, e.name)) termHits[t]?.push(e.i);
  }
  const selective = Math.max(20, Math.floor(0.02 * n));
  for (const hits of termHits) if (hits.length <= selective) for (const i of hits) force(i);
  for (const e of entries) {
    const base = baseOf(e.name);
    const rareExt = (extCount.get(extOf(e.name)) ?? 0) <= rareLimit;
    const rareDot = base.startsWith('.') && dotfiles <= Math.max(10, 0.02 * n);
    if (rareExt || rareDot || ERROR_WORD_RE.test(e.line)) force(e.i);
  }

  // groups: directories, merged under shorter prefixes while there are too many
  const dirs = entries.map((e) => dirOf(e.name));
  let depth = 1;
  for (const d of dirs) depth = Math.max(depth, d.split('/').length);
  let keyOf = (k: number) => dirs[k] as string;
  while (depth > 1 && new Set(entries.map((_, k) => keyOf(k))).size > MAX_GROUPS) {
    depth--;
    const d = depth;
    keyOf = (k: number) => prefixOf(dirs[k] as string, d);
  }
  const groups = new Map<string, Entry[]>();
  entries.forEach((e, k) => {
    const key = keyOf(k);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(e);
  });

  const perDir = ctx.targetRatio !== null ? Math.max(1, Math.ceil(PER_DIR * ctx.targetRatio * 4)) : PER_DIR;
  const out: string[] = [];
  let shown = 0;
  for (const [dir, g] of groups) {
    // a summary line costs about as much as two entries: small remainders are shown instead
    const first = g.filter((e, k) => k < perDir || forced.has(e.i));
    const picked = g.length - first.length <= 2 ? g : first;
    for (const e of picked) out.push(e.line);
    shown += picked.length;
    const rest = g.length - picked.length;
    if (rest > 0) {
      const exts = new Map<string, number>();
      const subdirs = new Set<string>();
      for (const e of g) {
        if (picked.includes(e)) continue;
        exts.set(extOf(e.name), (exts.get(extOf(e.name)) ?? 0) + 1);
        const d = dirOf(e.name);
        if (d !== dir) subdirs.add(d);
      }
      const sorted = [...exts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
      const top = sorted.slice(0, 6).map(([x, c]) => `${c} ${x}`);
      if (sorted.length > 6) top.push(`${sorted.slice(6).reduce((a, [, c]) => a + c, 0)} other`);
      out.push(`  [... ${rest} more in ${dir}/${subdirs.size ? ` (${subdirs.size} subdirectories)` : ''}: ${top.join(', ')}]`);
    }
  }
  if (shown >= n) return null;
  out.push(formatMarker(ctx.hash, shownSummary(shown, n, 'entries', `${new Set(dirs).size} directories`)));
  const result = out.join('\n');
  if (result.length >= text.length) return null;
  return { text: result, transform: 'listing_compressor', lossy: true, originalItems: n, keptItems: shown, unit: 'entries' };
}
