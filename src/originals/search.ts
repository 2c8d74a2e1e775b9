/**
 * Searching within an original (`headroom_retrieve` with a `query`, `/v1/retrieve` with
 * `query`): the lines (or, for a JSON array, the elements) that mention the query, in their
 * original order and with their position, so the model reads what it needs instead of the
 * whole original. A query matches a line when the line contains the whole query, or every
 * word of it; when nothing matches that way, lines containing any of its words are returned,
 * best first by how many they contain. No match at all returns nothing (the caller says so).
 */

export interface SearchResult {
  /** The matching lines/elements, each prefixed by its position (`L12: ...`, `[3] {...}`). */
  text: string;
  matched: number;
  total: number;
  unit: 'lines' | 'items';
  /** Matches beyond the output limits were left out. */
  truncated: boolean;
}

const MAX_MATCHES = 400;
const MAX_CHARS = 100_000;
const MAX_LINE_CHARS = 2_000;

function words(query: string): string[] {
  const out = new Set<string>();
  for (const w of query.toLowerCase().split(/[^\p{L}\p{N}_.\-:/@]+/u)) {
    const t = w.replace(/^[.\-:/]+|[.\-:/]+$/g, '');
    if (t.length >= 2) out.add(t);
  }
  return [...out];
}

/** The units of an original: the elements of a JSON array (or of an object's largest array), else its lines. */
function unitsOf(original: string): { units: string[]; unit: 'lines' | 'items' } {
  const t = original.trimStart();
  if (t.startsWith('[') || t.startsWith('{')) {
    try {
      const v = JSON.parse(original) as unknown;
      let arr: unknown[] | null = Array.isArray(v) ? v : null;
      if (!arr && v && typeof v === 'object') {
        for (const x of Object.values(v as Record<string, unknown>)) if (Array.isArray(x) && x.length > (arr?.length ?? 0)) arr = x;
      }
      if (arr && arr.length > 1) return { units: arr.map((x) => JSON.stringify(x)), unit: 'items' };
    } catch {
      // not JSON: lines
    }
  }
  return { units: original.split(/\r?\n/), unit: 'lines' };
}

export function searchOriginal(original: string, query: string): SearchResult {
  const { units, unit } = unitsOf(original);
  const q = query.trim().toLowerCase();
  const terms = words(q);
  const scored: { i: number; score: number }[] = [];
  let strict = 0;
  for (let i = 0; i < units.length; i++) {
    const lower = (units[i] as string).toLowerCase();
    if (q && lower.includes(q)) {
      scored.push({ i, score: terms.length + 2 });
      strict++;
      continue;
    }
    let n = 0;
    for (const t of terms) if (lower.includes(t)) n++;
    if (n === 0) continue;
    if (n === terms.length) strict++;
    scored.push({ i, score: n });
  }
  // prefer lines with the whole query or every word; fall back to any word, best first
  const full = terms.length;
  let picked = strict > 0 ? scored.filter((s) => s.score >= full) : scored.sort((a, b) => b.score - a.score || a.i - b.i);
  const matched = picked.length;
  let truncated = false;
  if (picked.length > MAX_MATCHES) {
    picked = picked.slice(0, MAX_MATCHES);
    truncated = true;
  }
  picked.sort((a, b) => a.i - b.i);
  const lines: string[] = [];
  let chars = 0;
  for (const { i } of picked) {
    let u = units[i] as string;
    if (u.length > MAX_LINE_CHARS) u = `${u.slice(0, MAX_LINE_CHARS)}…`;
    const line = unit === 'lines' ? `L${i + 1}: ${u}` : `[${i}] ${u}`;
    if (chars + line.length > MAX_CHARS) {
      truncated = true;
      break;
    }
    lines.push(line);
    chars += line.length + 1;
  }
  return { text: lines.join('\n'), matched, total: units.length, unit, truncated };
}
