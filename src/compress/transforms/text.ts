/**
 * Extractive prose compression: the text is split into lines and sentences, each scored by
 * position (beginning and end), relevance to the user's question (BM25), salience (numbers,
 * error words, ALL-CAPS, dotted identifiers, headings) and length; the best are kept until the
 * target share of characters is reached, near-duplicates (85% of 3-word shingles already
 * kept) are skipped, and kept sentences are printed in their original order.
 */
import { bm25, ERROR_WORD_RE, hasErrorSignal, lineTemplate, tokenize } from '../lexical.js';
import { formatMarker, shownSummary } from '../markers.js';
import type { TransformContext, TransformOutput } from '../types.js';

const MIN_SEGMENTS = 8;
const MIN_CHARS = 1500;
const DEFAULT_KEEP = 0.45;

interface Segment {
  text: string;
  line: number;
  words: string[];
}

function segment(text: string): Segment[] {
  const out: Segment[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, line) => {
    const l = raw.trim();
    if (!l) return;
    const parts = l.length > 160 ? l.split(/(?<=[.!?])\s+(?=[A-Z0-9"'(\[])/) : [l];
    for (const p of parts) if (p.trim()) out.push({ text: p.trim(), line, words: tokenize(p) });
  });
  return out;
}

function salience(s: Segment): number {
  let n = 0;
  for (const w of s.text.split(/\s+/)) {
    const t = w.replace(/^[^\w]+|[^\w]+$/g, '');
    if (!t) continue;
    if (/\d/.test(t) || ERROR_WORD_RE.test(t) || (t.length >= 2 && /^[A-Z0-9_]+$/.test(t) && /[A-Z]/.test(t)) || /\w\.\w/.test(t)) n++;
  }
  return n / (s.words.length + 1);
}

/** Segments whose shape (line template) is unique, when a few shapes cover most segments. */
function oddLines(segs: readonly Segment[]): number[] {
  const n = segs.length;
  // prose (long sentences) has no "shapes"; machine output has short, repetitive lines
  let words = 0;
  for (const s of segs) words += s.words.length;
  if (words > 12 * n) return [];
  const shapes = segs.map((s) => lineTemplate(s.text.slice(0, 100), 80));
  const counts = new Map<string, number>();
  for (const t of shapes) counts.set(t, (counts.get(t) ?? 0) + 1);
  const top = [...counts.values()].sort((a, b) => b - a).slice(0, 3).reduce((a, c) => a + c, 0);
  if (top < 0.6 * n) return [];
  const odd = shapes.map((t, i) => ((counts.get(t) ?? 0) === 1 ? i : -1)).filter((i) => i >= 0);
  return odd.length <= Math.max(3, 0.15 * n) ? odd : [];
}

function shingles(words: string[]): string[] {
  if (words.length < 3) return [words.join(' ')];
  const out: string[] = [];
  for (let i = 0; i + 3 <= words.length; i++) out.push(`${words[i]} ${words[i + 1]} ${words[i + 2]}`);
  return out;
}

export function compressProse(text: string, ctx: TransformContext): TransformOutput | null {
  if (text.length < MIN_CHARS) return null;
  const segs = segment(text);
  const n = segs.length;
  if (n < MIN_SEGMENTS) return null;
  const rel = bm25(ctx.query, segs.map((s) => s.text.toLowerCase()));
  const scores = segs.map((s, i) => {
    const pos = Math.max(1 - i / n, i / n) * 0.5 + (i < 2 ? 0.5 : 0);
    const heading = /^(#{1,6}\s|[A-Z][A-Z0-9 _-]{3,}:?$)|:$/.test(s.text) ? 0.5 : 0;
    let score = pos + 2 * (rel[i] as number) + 1.5 * salience(s) + heading;
    if (s.text.length < 12) score *= 0.25;
    return score;
  });
  const total = segs.reduce((a, s) => a + s.text.length, 0);
  const target = Math.max(1, Math.floor(total * (ctx.targetRatio ?? DEFAULT_KEEP)));
  const order = segs.map((_, i) => i).sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b);
  const kept = new Set<number>();
  // sentences and lines reporting a failure are always kept while they are a minority; so are
  // the odd lines out of machine output (`deleted: x` among 200 `modified: y`, an untracked
  // file after them), when most lines share a few shapes
  const failing = segs.map((s, i) => (hasErrorSignal(s.text) ? i : -1)).filter((i) => i >= 0);
  const failingSet = new Set(failing);
  for (const i of oddLines(segs)) if (!failingSet.has(i)) failing.push(i);
  const seen = new Set<string>();
  const exact = new Set<string>();
  let chars = 0;
  if (failing.length <= 0.3 * n) {
    for (const i of failing) {
      const s = segs[i] as Segment;
      kept.add(i);
      exact.add(s.text);
      for (const x of shingles(s.words)) seen.add(x);
      chars += s.text.length;
    }
  }
  for (const i of order) {
    if (chars >= target) break;
    const s = segs[i] as Segment;
    if (kept.has(i) || exact.has(s.text)) continue;
    const sh = shingles(s.words);
    const dup = sh.filter((x) => seen.has(x)).length;
    if (sh.length && dup / sh.length >= 0.85) continue;
    kept.add(i);
    exact.add(s.text);
    for (const x of sh) seen.add(x);
    chars += s.text.length;
    if (ctx.expired()) return null;
  }
  if (kept.size === 0 || kept.size >= n) return null;
  const out: string[] = [];
  let prevLine = -1;
  let prevIndex = -1;
  for (let i = 0; i < n; i++) {
    if (!kept.has(i)) continue;
    const s = segs[i] as Segment;
    if (prevIndex >= 0 && i !== prevIndex + 1) out.push('...');
    if (s.line === prevLine && i === prevIndex + 1) out[out.length - 1] += ` ${s.text}`;
    else out.push(s.text);
    prevLine = s.line;
    prevIndex = i;
  }
  if (prevIndex < n - 1) out.push('...');
  out.push(formatMarker(ctx.hash, shownSummary(kept.size, n, 'sentences')));
  const result = out.join('\n');
  if (result.length >= text.length) return null;
  return { text: result, transform: 'text_compressor', lossy: true, originalItems: n, keptItems: kept.size, unit: 'sentences' };
}
