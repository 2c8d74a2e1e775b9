/**
 * Lexical helpers shared by the transforms: error/warning keywords, line templates, the
 * user's query (exact anchors and BM25 terms) and a small deterministic BM25 scorer.
 */

/** Whole-word error vocabulary (lower-cased matching). */
export const ERROR_WORD_RE =
  /\b(?:error|errors|errored|exception|exceptions|failed|failure|failures|fatal|critical|crash|crashed|panic|panicked|abort|aborted|timeout|timed out|denied|rejected|refused|traceback|segfault|unhandled|uncaught)\b/i;

export const WARN_WORD_RE = /\b(?:warn|warning|warnings|deprecated)\b/i;

/**
 * Exception and error class names (`ModuleNotFoundError`, `java.lang.NullPointerException`,
 * `TypeError`), Go/Rust panics, `FATAL`, Python tracebacks, `ERR!` and `ERR_*` codes, jest and
 * mocha failure marks: failure signals the word list above misses. Case-sensitive.
 */
export const ERROR_CLASS_RE =
  /(?:^|[^A-Za-z0-9_])[A-Z][A-Za-z0-9]*(?:Error|Exception|Fault)(?![a-z])|\bpanic(?:ked)?\b|\bFATAL\b|\bTraceback \(most recent call last\)|\bERR!|\bERR_[A-Z_]{3,}|^\s*[●✕✗×✘]\s/;

/** A cheap necessary condition of ERROR_CLASS_RE (literal alternatives only). */
const ERROR_CLASS_HINT_RE = /Error|Exception|Fault|panic|FATAL|Traceback|ERR|[●✕✗×✘]/;

/** ERROR_CLASS_RE, skipping the full pattern for texts that cannot match it. */
export function hasErrorClass(text: string): boolean {
  return ERROR_CLASS_HINT_RE.test(text) && ERROR_CLASS_RE.test(text);
}

/** True when a text (a line, a value) carries a failure signal: an error word or class name. */
export function hasErrorSignal(text: string): boolean {
  return ERROR_WORD_RE.test(text) || hasErrorClass(text);
}

/** Keywords that make a short tool output "error-bearing" (two distinct ones are required). */
const ERROR_PROTECT_WORDS = ['error', 'fail', 'exception', 'traceback', 'fatal', 'panic', 'crash'];

export function distinctErrorKeywords(text: string): number {
  const lower = text.toLowerCase();
  let n = 0;
  for (const w of ERROR_PROTECT_WORDS) if (lower.includes(w)) n++;
  return n;
}

const UUID_PART_RE = /-[0-9a-f]{4}-/i;

/** Lines that look like a unit of "the same thing happened again": digits, hex, ids, paths collapsed. */
export function lineTemplate(line: string, max = 120): string {
  const head = line.slice(0, 400);
  // the UUID pattern is tried at every hex letter: only where a UUID's middle group is
  return (UUID_PART_RE.test(head) ? head.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<uuid>') : head)
    .replace(/0x[0-9a-f]+/gi, '<hex>')
    .replace(/\b[0-9a-f]{12,}\b/gi, '<hex>')
    .replace(/\d+(?:\.\d+)?/g, '#')
    .replace(/(?:\/[\w.-]+){2,}\/?/g, '<path>')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, max);
}

export interface Query {
  /** The text the query came from (the user's latest message), possibly empty. */
  text: string;
  /** Lower-cased exact anchors: UUIDs, long numbers, ids with digits, quoted strings, emails, hosts. */
  anchors: string[];
  /** Lower-cased BM25 terms of 3+ characters (deduplicated, sorted). */
  terms: string[];
  /** The terms' stems (plural endings removed), in the same order as `terms`. */
  stems: string[];
}

const STOP = new Set(
  ('a an and are as at be but by can could did do does for from has have how i if in into is it its me my of on or our ' +
    'please should so than that the their them then there these this those to us was we were what when where which who ' +
    'why will with would you your show find get give list tell see look check run make use any all some one two also just ' +
    'about after again been before being both each few more most other same such only own very here now out up down off over ' +
    'under why let lets need want like file files').split(' '),
);

export const EMPTY_QUERY: Query = { text: '', anchors: [], terms: [], stems: [] };

/** Extracts exact anchors and BM25 terms from the user's latest message. */
export function parseQuery(text: string | null | undefined): Query {
  const t = (text ?? '').slice(0, 4000);
  if (!t.trim()) return EMPTY_QUERY;
  const anchors = new Set<string>();
  const add = (s: string) => {
    const v = s.trim().toLowerCase();
    if (v.length >= 2 && v.length <= 80) anchors.add(v);
  };
  for (const m of t.matchAll(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi)) add(m[0]);
  for (const m of t.matchAll(/[\w.+-]+@[\w-]+\.[\w.-]+/g)) add(m[0]);
  // identifiers that carry digits: REQ-12345, doc_42, build #9812, v2.3.1 (not bare short numbers)
  for (const m of t.matchAll(/\b[A-Za-z][\w-]*[_-]\d[\w-]*\b|\b[A-Za-z]+\d{2,}\w*\b|\b\d{4,}\b/g)) add(m[0]);
  for (const m of t.matchAll(/"([^"\n]{2,60})"|'([^'\n]{2,60})'|`([^`\n]{2,60})`/g)) add(m[1] ?? m[2] ?? m[3] ?? '');
  for (const m of t.matchAll(/\b(?:[a-z0-9-]+\.)+(?:com|net|org|io|dev|internal|local|cloud|ai)\b/gi)) add(m[0]);
  const terms = new Set<string>();
  const anchorList = [...anchors];
  // pieces of an anchor (the hex groups of a UUID, an id's number) are matched as the anchor
  for (const w of tokenize(t)) if (w.length > 2 && !STOP.has(w) && !(/\d/.test(w) && anchorList.some((a) => a.includes(w)))) terms.add(w);
  const sorted = [...terms].sort();
  return { text: t, anchors: [...anchors].sort(), terms: sorted, stems: sorted.map(stem) };
}

/** A lower-case word without its plural ending: `forms` -> `form`, `policies` -> `policy`, `boxes` -> `box`. */
export function stem(word: string): string {
  const w = word.toLowerCase();
  if (w.length <= 3) return w;
  if (w.endsWith('ies') && w.length > 4) return `${w.slice(0, -3)}y`;
  if (w.endsWith('sses')) return w.slice(0, -2);
  if (/(?:x|z|ch|sh)es$/.test(w)) return w.slice(0, -2);
  if (w.endsWith('s') && !/(?:ss|us|is)$/.test(w)) return w.slice(0, -1);
  return w;
}

/**
 * The word pieces of an identifier-rich text, lower-cased: split at non-alphanumerics, at
 * camelCase humps and between letters and digits (`FormComponent2` -> form, component, 2;
 * `auth_middleware.py` -> auth, middleware, py; `.env.production` -> env, production).
 */
export function wordPieces(text: string): string[] {
  const out: string[] = [];
  const re = /[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(m[0].toLowerCase());
  return out;
}

/**
 * True when a word piece answers a query term: the same word, the same stem (`Form` for
 * "forms"), an abbreviation the term starts with (`auth` for "authentication", 4+ letters), or
 * the same word with another ending (`limiter` for "limiting").
 */
export function pieceMatches(piece: string, term: string, termStem: string): boolean {
  if (piece === term || piece === termStem) return true;
  if (piece.length < 4) return false;
  if (stem(piece) === termStem) return true;
  if (term.length >= piece.length + 3 && term.startsWith(piece)) return true;
  // the same word with another ending (`limiter` / `limiting`, `deploy` / `deployed`): a shared
  // beginning of 5+ letters covering three quarters of the shorter word
  const short = Math.min(piece.length, term.length);
  if (short < 5 || piece.charCodeAt(0) !== term.charCodeAt(0)) return false;
  let k = 0;
  while (k < short && piece.charCodeAt(k) === term.charCodeAt(k)) k++;
  return k >= 5 && k >= 0.75 * short;
}

/**
 * A case-insensitive test that a text may answer one of the query's terms (it holds the first
 * letters of a term's stem): a cheap filter before `matchedTerms`. Null without terms.
 */
export function termProbe(query: Query): RegExp | null {
  if (query.terms.length === 0) return null;
  const probes = new Set(query.terms.map((t, i) => (query.stems[i] as string).slice(0, Math.min(4, t.length))));
  return new RegExp([...probes].map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'i');
}

/** Indices of the query terms some piece of `text` answers. */
export function matchedTerms(query: Query, text: string): number[] {
  if (query.terms.length === 0) return [];
  const pieces = new Set(wordPieces(text));
  const out: number[] = [];
  query.terms.forEach((t, i) => {
    const st = query.stems[i] as string;
    for (const p of pieces) {
      if (pieceMatches(p, t, st)) {
        out.push(i);
        return;
      }
    }
  });
  return out;
}

/** Lower-cased word tokens: UUIDs, numbers of 4+ digits, and `[a-z0-9_]+` runs. */
export function tokenize(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9_]+/g) ?? [];
}

/** The anchors of `query` contained in `lowerText`. */
export function matchesAnchor(query: Query, lowerText: string): boolean {
  for (const a of query.anchors) if (lowerText.includes(a)) return true;
  return false;
}

/**
 * BM25 scores of `docs` (lower-cased texts) for the query terms, normalised to 0..1 by the
 * best document. Terms present in more than half of the documents carry no weight. Documents
 * containing no term are not tokenized (their length is estimated).
 */
export function bm25(query: Query, docs: readonly string[]): number[] {
  const scores = new Array<number>(docs.length).fill(0);
  if (query.terms.length === 0 || docs.length === 0) return scores;
  const k1 = 1.5;
  const b = 0.75;
  const n = docs.length;
  // Terms found (as substrings) in more than half of the documents carry no weight: drop them
  // before tokenizing, so common words do not force tokenizing every document.
  // matching is by stem (`forms` finds `form`): a stem is a substring of every form of the word
  let terms = [...new Set(query.stems)];
  if (n > 4) {
    terms = terms.filter((t) => {
      let c = 0;
      for (const d of docs) if (d.includes(t) && ++c > n / 2) return false;
      return true;
    });
    if (terms.length === 0) return scores;
  }
  const termSet = new Set(terms);
  const lengths = new Array<number>(n);
  const tfs: (Map<string, number> | null)[] = new Array(n).fill(null);
  const df = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < n; i++) {
    const d = docs[i] as string;
    let any = false;
    for (const t of terms) {
      if (d.includes(t)) {
        any = true;
        break;
      }
    }
    if (!any) {
      lengths[i] = Math.max(1, Math.round(d.length / 6));
      total += lengths[i] as number;
      continue;
    }
    const low = d.toLowerCase();
    const words = wordCount(low);
    lengths[i] = words;
    total += words;
    const tf = termFrequencies(low, terms, termSet);
    for (const w of tf.keys()) df.set(w, (df.get(w) ?? 0) + 1);
    tfs[i] = tf;
  }
  const avg = total / n || 1;
  let best = 0;
  for (let i = 0; i < n; i++) {
    const tf = tfs[i];
    if (!tf) continue;
    let s = 0;
    for (const [w, f] of tf) {
      const d = df.get(w) ?? 0;
      if (d > n / 2 && n > 4) continue;
      const idf = Math.log(1 + (n - d + 0.5) / (d + 0.5));
      s += (idf * f * (k1 + 1)) / (f + k1 * (1 - b + (b * (lengths[i] as number)) / avg));
    }
    scores[i] = s;
    if (s > best) best = s;
  }
  if (best > 0) for (let i = 0; i < n; i++) scores[i] = (scores[i] as number) / best;
  return scores;
}

/** A character of a `tokenize` word: `[a-z0-9_]`. */
const isWordChar = (c: number) => (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95;

/** `tokenize(lower).length`, without building the words. */
function wordCount(lower: string): number {
  let words = 0;
  let inWord = false;
  for (let i = 0; i < lower.length; i++) {
    const w = isWordChar(lower.charCodeAt(i));
    if (w && !inWord) words++;
    inWord = w;
  }
  return words;
}

/**
 * Per term, how many words of `lower` are the term or a plural whose stem it is (a word that
 * is itself a term counts for itself only), found with `indexOf` instead of tokenizing the
 * text; the map holds the terms in the order of their first word, as a pass over the words
 * would insert them.
 */
function termFrequencies(lower: string, terms: readonly string[], termSet: ReadonlySet<string>): Map<string, number> {
  const found: { term: string; first: number; count: number }[] = [];
  for (const t of terms) {
    const hit = { term: t, first: -1, count: 0 };
    // words starting with the term: itself, `forms`, `boxes`, `classes`
    countWords(lower, t, termSet, hit, (w) => w.length === t.length || (w.length > 3 && w.charCodeAt(w.length - 1) === 115 && stem(w) === t));
    // the one plural that does not: `policies` for `policy`
    if (t.length >= 3 && t.charCodeAt(t.length - 1) === 121) {
      const plural = `${t.slice(0, -1)}ies`;
      countWords(lower, plural, termSet, hit, (w) => w.length === plural.length);
    }
    if (hit.count) found.push(hit);
  }
  found.sort((a, b) => a.first - b.first);
  const tf = new Map<string, number>();
  for (const f of found) tf.set(f.term, f.count);
  return tf;
}

/** Counts the words of `lower` that start with `prefix` and pass `counts` (never a term of their own but the prefix itself). */
function countWords(lower: string, prefix: string, termSet: ReadonlySet<string>, hit: { term: string; first: number; count: number }, counts: (word: string) => boolean): void {
  let at = lower.indexOf(prefix);
  while (at !== -1) {
    let next = at + 1;
    if (at === 0 || !isWordChar(lower.charCodeAt(at - 1))) {
      let end = at + prefix.length;
      while (end < lower.length && isWordChar(lower.charCodeAt(end))) end++;
      const word = end === at + prefix.length ? prefix : lower.slice(at, end);
      if ((word === hit.term || !termSet.has(word)) && counts(word)) {
        if (hit.first === -1 || at < hit.first) hit.first = at;
        hit.count++;
      }
      next = end;
    }
    at = lower.indexOf(prefix, next);
  }
}

/** Evenly spaced indices in [lo, hi) not already in `taken`, up to `count` of them. */
export function strideFill(lo: number, hi: number, count: number, taken: Set<number>): number[] {
  const out: number[] = [];
  const span = hi - lo;
  if (count <= 0 || span <= 0) return out;
  const step = span / (count + 1);
  for (let k = 1; k <= count; k++) {
    const base = lo + Math.floor(step * k);
    for (const off of [0, 1, -1, 2, -2]) {
      const i = base + off;
      if (i >= lo && i < hi && !taken.has(i)) {
        taken.add(i);
        out.push(i);
        break;
      }
    }
  }
  return out;
}

/** Number of kept items for a list of `n` items with the given diversity (0..1). */
export function adaptiveK(n: number, diversity: number, minK: number, maxK: number, targetRatio: number | null): number {
  if (targetRatio !== null) return Math.min(n, Math.max(minK, Math.ceil(n * targetRatio)));
  // short lists: the budget never exceeds a third of the items
  const top = Math.max(minK, Math.min(maxK, Math.ceil(n / 3)));
  const k = minK + Math.round((top - minK) * Math.sqrt(Math.max(0, Math.min(1, diversity))));
  return Math.min(n, Math.max(minK, Math.min(top, k)));
}

/** Share of distinct templates among (a sample of) the items. */
export function diversityOf(items: readonly string[], sample = 256): number {
  const n = items.length;
  if (n === 0) return 0;
  const step = Math.max(1, Math.floor(n / sample));
  const seen = new Set<string>();
  let count = 0;
  for (let i = 0; i < n; i += step) {
    seen.add(lineTemplate(items[i] as string, 80));
    count++;
  }
  return seen.size / count;
}
