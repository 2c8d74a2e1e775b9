/**
 * File listings (`find`, `ls -l`, `git ls-files`, `tree`-less path lists): entries are grouped
 * by directory (by a shallower directory prefix when there are too many directories to list,
 * so a 5,000-file monorepo becomes one group per top-level area); each group shows its first
 * entries and a count by file extension. Always kept, whatever their group: entries whose path
 * answers the question (word pieces, plurals and abbreviations: "env" finds
 * `config/.env.production`, "forms" finds `Form.tsx`), entries with a rare extension or
 * a rare dotfile name (what the per-group counts would hide), and entries with error words.
 */
import { ERROR_WORD_RE, matchedTerms, matchesAnchor, termProbe } from '../lexical.js';
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
  const e = entry.endsWith('/') ? entry.slice(0, -1) : entry;
  return e.slice(e.lastIndexOf('/') + 1);
}

function extOf(entry: string, base: string): string {
  if (entry.endsWith('/')) return '(dirs)';
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot) : '(none)';
}

interface Entry {
  line: string;
  i: number;
  name: string;
  dir: string;
  base: string;
  ext: string;
}

/** Directory keys at `depth` components (`./a/b/c` at depth 2 -> `./a/b`); the whole directory when shallower. */
function keysAt(dirs: readonly string[], depth: number): string[] {
  return dirs.map((d) => {
    let at = d.startsWith('./') ? 2 : d.startsWith('/') ? 1 : d.startsWith('../') ? 3 : 0;
    for (let k = 0; k < depth; k++) {
      const slash = d.indexOf('/', at);
      if (slash === -1) return d;
      at = slash + 1;
    }
    return d.slice(0, at - 1);
  });
}

export function compressListing(text: string, ctx: TransformContext): TransformOutput | null {
  const lines = text.split('\n');
  if (!looksLikeListing(lines)) return null;
  const entries: Entry[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const name = (LS_RE.exec(line)?.[1] ?? line).trim();
    const base = baseOf(name);
    entries.push({ line, i, name, dir: dirOf(name), base, ext: extOf(name, base) });
  });
  const n = entries.length;

  // rare extensions and dotfile names: what per-group counts would otherwise hide
  const extCount = new Map<string, number>();
  for (const e of entries) extCount.set(e.ext, (extCount.get(e.ext) ?? 0) + 1);
  const rareLimit = Math.max(2, Math.floor(0.002 * n));
  let dotfiles = 0;
  for (const e of entries) if (e.base.startsWith('.')) dotfiles++;
  const forced = new Set<number>();
  const force = (i: number) => {
    if (forced.size < MAX_FORCED) forced.add(i);
  };
  // the question: anchors, and terms answered by a piece of the path (only terms that single out a few entries)
  const probe = termProbe(ctx.query);
  const termHits = ctx.query.terms.map(() => [] as number[]);
  for (const e of entries) {
    if (ctx.query.anchors.length && matchesAnchor(ctx.query, e.line.toLowerCase())) force(e.i);
    if (probe?.test(e.name)) for (const t of matchedTerms(ctx.query, e.name)) termHits[t]?.push(e.i);
  }
  const selective = Math.max(20, Math.floor(0.02 * n));
  for (const hits of termHits) if (hits.length <= selective) for (const i of hits) force(i);
  for (const e of entries) {
    const rareExt = (extCount.get(e.ext) ?? 0) <= rareLimit;
    const rareDot = e.base.startsWith('.') && dotfiles <= Math.max(10, 0.02 * n);
    if (rareExt || rareDot || ERROR_WORD_RE.test(e.line)) force(e.i);
  }

  // groups: directories, or the deepest directory prefix that gives at most MAX_GROUPS groups
  const dirs = entries.map((e) => e.dir);
  let keys = dirs;
  if (new Set(dirs).size > MAX_GROUPS) {
    keys = keysAt(dirs, 1);
    for (let depth = 2; depth < 64; depth++) {
      const next = keysAt(dirs, depth);
      if (new Set(next).size > MAX_GROUPS) break;
      keys = next;
    }
  }
  const groups = new Map<string, Entry[]>();
  entries.forEach((e, k) => {
    const key = keys[k] as string;
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
      const pickedSet = new Set(picked);
      const exts = new Map<string, number>();
      const subdirs = new Set<string>();
      for (const e of g) {
        if (pickedSet.has(e)) continue;
        exts.set(e.ext, (exts.get(e.ext) ?? 0) + 1);
        if (e.dir !== dir) subdirs.add(e.dir);
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
