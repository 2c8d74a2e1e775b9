/**
 * Which rows of an object array to keep when it must be cut: first/last anchors, every row
 * that signals an error, rows with rare keys (structural outliers) or rare category values,
 * numeric anomalies (robust z-score) and change points, rows matching the user's question
 * (exact anchors and BM25), then evenly spaced rows up to the adaptive budget. Identical rows
 * are kept once. Kept rows keep their original order.
 */
import { adaptiveK, bm25, diversityOf, ERROR_WORD_RE, hasErrorClass, matchedTerms, matchesAnchor, type Query, strideFill, termProbe } from '../lexical.js';
import type { TransformContext } from '../types.js';
import type { Column } from './json-table.js';
import { isPlainObject, isRawNumber, RAW_NUMBER } from './json-values.js';

type Row = Record<string, unknown>;

const ERROR_KEY_RE = /error|exception|fail|fault|panic|crash/i;
const STATUS_KEY_RE = /^(status|state|level|severity|outcome|result|conclusion|health|lvl)$/i;
const BAD_STATUS_RE =
  /^(error|errored|err|failed|failure|fail|fatal|critical|crit|crashed|aborted|abort|timeout|timed[_ -]?out|cancel+ed|rejected|denied|unhealthy|down|ko|emerg|emergency|alert|panic|degraded|5\d\d)$/i;
/** Status values that name a failure inside a longer word (`CrashLoopBackOff`, `Exited (1)`). */
const BAD_STATUS_PART_RE = /backoff|oomkilled|crashloop|errimagepull|evicted|notready|unhealthy|exited \([1-9]|failed|error/i;
const OK_FALSE_KEY_RE = /^(ok|success|succeeded|passed|healthy|is_?valid)$/i;
const ID_NAME_RE = /(^|[_.-])(id|uuid|guid|key|idx|index|seq|sequence|offset|line|lineno|row)$/i;
const TIME_NAME_RE = /(time|date|timestamp|_at|_ts|epoch)$/i;

/** What a key's name says (bit flags), judged once per distinct key. */
const KEY_STATUS = 1;
const KEY_ERROR = 2;
const KEY_CODE = 4;
const KEY_OK = 8;
const KEY_COUNT = 16;
const KEY_MEASURE = 32;
const keyFlags = new Map<string, number>();
const KEY_FLAGS_MAX = 4096;

function flagsOf(key: string): number {
  let f = keyFlags.get(key);
  if (f === undefined) {
    f =
      (STATUS_KEY_RE.test(key) ? KEY_STATUS : 0) |
      (ERROR_KEY_RE.test(key) ? KEY_ERROR : 0) |
      (/^(status|status_?code|http_?status|code)$/i.test(key) ? KEY_CODE : 0) |
      (OK_FALSE_KEY_RE.test(key) ? KEY_OK : 0) |
      (/count$/i.test(key) ? KEY_COUNT : 0) |
      (/(count|_?total|rate)$/i.test(key) ? KEY_MEASURE : 0);
    if (keyFlags.size >= KEY_FLAGS_MAX) keyFlags.clear();
    keyFlags.set(key, f);
  }
  return f;
}

/**
 * Error signal of a value: 2 (strong: a bad status, an error-named key with a value, a failed
 * flag, a 5xx code), 1 (weak: an error word inside free text), 0 (none).
 */
export function errorSignal(v: unknown, key = '', depth = 0): 0 | 1 | 2 {
  if (depth > 6) return 0;
  if (typeof v === 'string') {
    if (v.length === 0 || isRawNumber(v)) return 0;
    const f = flagsOf(key);
    if (f & KEY_STATUS && (BAD_STATUS_RE.test(v.trim()) || (v.length <= 40 && BAD_STATUS_PART_RE.test(v)))) return 2;
    const word = ERROR_WORD_RE.test(v);
    if (!word && !hasErrorClass(v)) return 0;
    return f & KEY_ERROR || /^\W*(error|exception|fatal|panic|traceback)\b/i.test(v) || /^\W*[\w.$]*[A-Z]\w*(?:Error|Exception)\b/.test(v) ? 2 : 1;
  }
  if (typeof v === 'number') return flagsOf(key) & KEY_CODE && v >= 500 && v <= 599 ? 2 : 0;
  if (typeof v === 'boolean') {
    const f = flagsOf(key);
    if (v && f & KEY_ERROR) return 2;
    return !v && f & KEY_OK ? 2 : 0;
  }
  if (v === null || v === undefined) return 0;
  let best: 0 | 1 | 2 = 0;
  if (Array.isArray(v)) {
    const f = flagsOf(key);
    if (v.length > 0 && f & KEY_ERROR && !(f & KEY_COUNT)) return 2;
    for (const x of v) {
      const s = errorSignal(x, key, depth + 1);
      if (s === 2) return 2;
      if (s > best) best = s;
    }
    return best;
  }
  if (isPlainObject(v)) {
    if (flagsOf(key) & KEY_ERROR && Object.keys(v).length > 0) return 2;
    for (const k in v) {
      const x = v[k];
      const f = flagsOf(k);
      // a number under an error-named key is a count (errors: 3), judged as a measurement instead
      if (f & KEY_ERROR && !(f & KEY_MEASURE) && truthy(x) && typeof x !== 'number' && !isRawNumber(x)) return 2;
      const s = errorSignal(x, k, depth + 1);
      if (s === 2) return 2;
      if (s > best) best = s;
    }
  }
  return best;
}

function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isPlainObject(v)) return Object.keys(v).length > 0;
  if (typeof v === 'string') return !/^(none|null|0|false|no|n\/a|ok)$/i.test(v.trim());
  return true;
}

function num(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (isRawNumber(v)) {
    const x = Number(v.slice(RAW_NUMBER.length));
    return Number.isFinite(x) ? x : null;
  }
  return null;
}

function getPath(row: Row, path: readonly string[]): unknown {
  let v: unknown = row;
  for (const k of path) {
    if (!isPlainObject(v)) return undefined;
    v = Object.prototype.hasOwnProperty.call(v, k) ? v[k] : undefined;
  }
  return v;
}

export interface RowSelection {
  keep: number[];
  /** Why rows were kept (counts), for logs and tests. */
  reasons: Record<string, number>;
}

/** Chooses rows to keep. `texts` are the rows' compact JSON (lower-cased), computed once by the caller. */
export function selectRows(rows: readonly Row[], columns: readonly Column[], texts: readonly string[], ctx: TransformContext): RowSelection {
  const n = rows.length;
  const k = adaptiveK(n, diversityOf(texts), Math.min(8, n), Math.max(8, ctx.maxItems), ctx.targetRatio);
  const cap = Math.max(2 * k, Math.ceil(0.3 * n));
  const reasons: Record<string, number> = {};
  const forced: number[][] = [];
  const note = (name: string, list: number[]) => {
    if (list.length) {
      reasons[name] = list.length;
      forced.push(list);
    }
  };

  // 1. the user's exact anchors (ids, quoted strings, emails...)
  if (ctx.query.anchors.length) note('query_anchor', rows.map((_, i) => i).filter((i) => matchesAnchor(ctx.query, texts[i] as string)));
  // 2. error rows: every strong signal; weak ones (an error word in free text) only while rare
  const strong: number[] = [];
  const weak: number[] = [];
  for (let i = 0; i < n; i++) {
    const sig = errorSignal(rows[i]);
    if (sig === 2) strong.push(i);
    else if (sig === 1) weak.push(i);
  }
  // a short error-bearing output keeps every row that mentions an error, beyond any cap
  const always = ctx.keepAllErrors ? [...strong, ...weak] : [];
  note('error', strong);
  // 2b. the question's terms in a field that tells rows apart (a path, a name, a title): a
  // term found in most rows elsewhere (`process_payment` in every snippet) still ranks the rows
  // whose own field holds it (`payment_processor.py`)
  if (ctx.query.terms.length) note('field_match', fieldMatchRows(rows, columns, texts, ctx.query, k));
  // 3. structural outliers: keys few rows have
  note('rare_key', rareKeyRows(rows, columns));
  // 4. rare category values
  note('rare_value', rareValueRows(rows, columns));
  // 4b. the same inside nested values (lists of objects, objects of varying shape)
  note('rare_nested', rareNestedRows(rows, columns));
  // 5. numeric anomalies and change points
  const numeric = numericColumns(rows, columns);
  note('anomaly', anomalyRows(rows, numeric, k));
  if (weak.length <= Math.max(2, 0.05 * n)) note('error_mention', weak);
  // warnings (a warn/warning level or status): the signal when they are the most severe level
  // present (and a minority); beside errors, only while rare
  const warned = warningRows(rows, columns);
  if (warned.length <= (strong.length ? Math.max(2, 0.05 * n) : Math.max(k, 0.2 * n))) note('warning', warned);
  note('change_point', changePointRows(rows, numeric));
  // 6. the best rows by a score column (search results, rankings)
  const score = scoreColumn(rows, columns);
  if (score) {
    const top = score
      .map((v, i) => [v, i] as const)
      .filter(([v]) => v !== null)
      .sort((a, b) => (b[0] as number) - (a[0] as number) || a[1] - b[1])
      .slice(0, Math.max(3, Math.floor(k / 2)))
      .map(([, i]) => i);
    note('top_score', top);
  }
  // 7. BM25 relevance to the user's question
  if (ctx.query.terms.length) {
    const scores = bm25(ctx.query, texts);
    const top = scores
      .map((s, i) => [s, i] as const)
      .filter(([s]) => s >= 0.5)
      .sort((a, b) => b[0] - a[0] || a[1] - b[1])
      .slice(0, Math.max(2, Math.floor(k / 4)))
      .map(([, i]) => i);
    note('relevance', top);
  }

  const kept = new Set<number>();
  const seenText = new Set<string>();
  const take = (i: number): boolean => {
    if (kept.has(i)) return true;
    const t = texts[i] as string;
    if (seenText.has(t)) return false;
    seenText.add(t);
    kept.add(i);
    return true;
  };
  // positional anchors: the first three and last two rows
  for (const i of [0, 1, 2, n - 2, n - 1]) if (i >= 0 && i < n) take(i);
  for (const i of always) {
    kept.add(i); // even a duplicate of a kept row: every error row keeps its position
    seenText.add(texts[i] as string);
  }
  for (const list of forced) {
    for (const i of list) {
      if (kept.size >= cap) break;
      take(i);
    }
  }
  if (kept.size < k) {
    const taken = new Set(kept);
    let want = k - kept.size;
    // stride fill, skipping duplicates of rows already kept
    for (let round = 0; round < 3 && want > 0; round++) {
      for (const i of strideFill(0, n, want, taken)) if (take(i)) want--;
    }
  }
  return { keep: [...kept].sort((a, b) => a - b), reasons };
}

/** Longer strings are free text (BM25's domain), not identifying fields. */
const MAX_FIELD_CHARS = 300;
/** Share of distinct values that makes a field identifying. */
const MIN_FIELD_DISTINCT = 0.3;
/** A word of three letters, not all hex digits (`payment`, `Form`; not `3f2a9c01`, `2026-03-02T10:00Z`). */
const WORD_RE = /(?=[A-Za-z]*[g-zG-Z])[A-Za-z]{3}/;

/**
 * Rows whose short string fields answer the question's terms (word pieces, stems,
 * abbreviations), scored by how rare the term is in that field (a term in more than half of a
 * field's values does not tell rows apart there). The best rows, up to half the budget.
 */
function fieldMatchRows(rows: readonly Row[], columns: readonly Column[], texts: readonly string[], query: Query, k: number): number[] {
  const n = rows.length;
  // short string fields (judged on a sample of rows): long ones are free text, BM25's domain
  const sample = Math.min(n, 20);
  const cols = columns.filter((c) => {
    if (c.type !== 'str' || c.present < 0.5 * n) return false;
    let chars = 0;
    for (let i = 0; i < sample; i++) {
      const v = getPath(rows[Math.floor((i * n) / sample)] as Row, c.path);
      chars += typeof v === 'string' ? v.length : 0;
    }
    if (chars / sample > MAX_FIELD_CHARS / 2) return false;
    // identifying fields (paths, names, titles) tell rows apart; categories (a service, a level)
    // do not (judged on up to 200 evenly spaced rows)
    // do not (judged on up to 200 evenly spaced rows); ids, hashes and timestamps hold no words
    const m = Math.min(n, 200);
    const distinct = new Set<unknown>();
    let worded = 0;
    for (let i = 0; i < m; i++) {
      const v = getPath(rows[Math.floor((i * n) / m)] as Row, c.path);
      distinct.add(v);
      if (typeof v === 'string' && WORD_RE.test(v)) worded++;
    }
    return distinct.size >= MIN_FIELD_DISTINCT * m && worded >= 0.5 * m;
  });
  if (!cols.length) return [];
  // a cheap prefilter: the first letters of a term must appear in the row, then in the value
  const probe = termProbe(query);
  if (!probe) return [];
  const candidates: number[] = [];
  for (let i = 0; i < n; i++) if (probe.test(texts[i] as string)) candidates.push(i);
  if (!candidates.length) return [];
  const score = new Map<number, number>();
  const memo = new Map<string, number[]>();
  for (const c of cols) {
    const hits: number[][] = query.terms.map(() => []);
    for (const i of candidates) {
      const v = getPath(rows[i] as Row, c.path);
      if (typeof v !== 'string' || v.length > MAX_FIELD_CHARS || isRawNumber(v)) continue;
      if (!probe.test(v)) continue;
      let terms = memo.get(v);
      if (terms === undefined) memo.set(v, (terms = matchedTerms(query, v)));
      for (const t of terms) hits[t]?.push(i);
    }
    for (const list of hits) {
      const df = list.length;
      if (df === 0 || df > n / 2) continue;
      const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      for (const i of list) score.set(i, Math.max(score.get(i) ?? 0, 0) + idf);
    }
  }
  if (!score.size) return [];
  let best = 0;
  for (const v of score.values()) best = Math.max(best, v);
  return [...score.entries()]
    .filter(([, v]) => v >= 0.5 * best)
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, Math.max(3, Math.ceil(k / 2)))
    .map(([i]) => i)
    .sort((a, b) => a - b);
}

const WARN_VALUE_RE = /^(?:warn|warning|warnings|deprecated|degraded)$/i;

/** Rows whose level/status column says warning. */
function warningRows(rows: readonly Row[], columns: readonly Column[]): number[] {
  const cols = columns.filter((c) => c.type === 'str' && STATUS_KEY_RE.test(c.path[c.path.length - 1] as string));
  if (!cols.length) return [];
  const out: number[] = [];
  rows.forEach((r, i) => {
    if (cols.some((c) => { const v = getPath(r, c.path); return typeof v === 'string' && WARN_VALUE_RE.test(v.trim()); })) out.push(i);
  });
  return out;
}

const MAX_LEAVES = 64;
const MAX_NESTED_ROWS = 5000;

/** Leaf paths (`Instances[].State.Name`) and short scalar values of a nested value. */
function leaves(v: unknown, path: string, out: Map<string, string>, depth: number): void {
  if (out.size >= MAX_LEAVES || depth > 5) return;
  if (Array.isArray(v)) {
    for (const x of v.slice(0, 8)) leaves(x, `${path}[]`, out, depth + 1);
    return;
  }
  if (isPlainObject(v)) {
    for (const k in v) leaves(v[k], `${path}.${k}`, out, depth + 1);
    return;
  }
  if (v === null || v === undefined) return;
  const text = typeof v === 'string' ? (isRawNumber(v) ? '#' : v.length <= 40 ? v : '…') : typeof v === 'boolean' ? String(v) : '#';
  if (!out.has(path)) out.set(path, text);
}

/**
 * Rows whose nested values (JSON cells) hold a key path few rows have (a `StateReason` only
 * the stopped instance carries) or a rare category value at a path where a few values cover
 * most rows (`State.Name: stopped` among `running`).
 */
function rareNestedRows(rows: readonly Row[], columns: readonly Column[]): number[] {
  const n = rows.length;
  const cols = columns.filter((c) => c.type === 'json');
  if (n < 10 || n > MAX_NESTED_ROWS || !cols.length) return [];
  const perRow: Map<string, string>[] = rows.map((r) => {
    const m = new Map<string, string>();
    for (const c of cols) leaves(getPath(r, c.path), c.name, m, 0);
    return m;
  });
  const pathCount = new Map<string, number>();
  const valueCount = new Map<string, Map<string, number>>();
  for (const m of perRow) {
    for (const [p, v] of m) {
      pathCount.set(p, (pathCount.get(p) ?? 0) + 1);
      let vc = valueCount.get(p);
      if (!vc) valueCount.set(p, (vc = new Map()));
      if (vc.size <= 50 || vc.has(v)) vc.set(v, (vc.get(v) ?? 0) + 1);
    }
  }
  const limit = Math.max(1, Math.floor(0.05 * n));
  // per path: the values covering 80% of the rows, when there are few of them
  const common = new Map<string, Set<string>>();
  for (const [p, vc] of valueCount) {
    if ((pathCount.get(p) ?? 0) < 0.8 * n || vc.size < 2 || vc.size > 50) continue;
    const order = [...vc.entries()].sort((a, b) => b[1] - a[1]);
    const set = new Set<string>();
    let covered = 0;
    for (const [v, cnt] of order) {
      if (covered >= 0.8 * n) break;
      set.add(v);
      covered += cnt;
    }
    if (set.size <= 5) common.set(p, set);
  }
  const out: number[] = [];
  perRow.forEach((m, i) => {
    for (const [p, v] of m) {
      const rarePath = (pathCount.get(p) ?? 0) <= limit;
      const set = common.get(p);
      const rareValue = set !== undefined && !set.has(v) && (valueCount.get(p)?.get(v) ?? 0) <= limit;
      if (rarePath || rareValue) {
        out.push(i);
        return;
      }
    }
  });
  // when most rows are "rare", nothing is
  return out.length <= Math.max(2, 0.1 * n) ? out : [];
}

function rareKeyRows(rows: readonly Row[], columns: readonly Column[]): number[] {
  const n = rows.length;
  if (n < 10) return [];
  const limit = Math.max(2, Math.floor(0.05 * n));
  const rare = columns.filter((c) => c.present > 0 && c.present <= limit);
  if (!rare.length) return [];
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (rare.some((c) => getPath(rows[i] as Row, c.path) !== undefined)) out.push(i);
  return out;
}

function rareValueRows(rows: readonly Row[], columns: readonly Column[]): number[] {
  const n = rows.length;
  if (n < 10) return [];
  const out = new Set<number>();
  const limit = Math.max(1, Math.floor(0.05 * n));
  for (const c of columns) {
    if (c.type === 'json' || c.type === 'float' || c.present < 0.8 * n) continue;
    const counts = new Map<string, number>();
    const values: string[] = [];
    let tooMany = false;
    for (const r of rows) {
      const v = getPath(r, c.path);
      const key = v === undefined ? '\u0000absent' : String(v);
      values.push(key);
      if (!counts.has(key) && counts.size >= 50) {
        tooMany = true;
        break;
      }
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    if (tooMany || counts.size < 2) continue;
    const order = [...counts.entries()].sort((a, b) => b[1] - a[1]);
    const common = new Set<string>();
    let covered = 0;
    for (const [v, cnt] of order) {
      if (covered >= 0.8 * n) break;
      common.add(v);
      covered += cnt;
    }
    if (common.size > 5) continue;
    values.forEach((v, i) => {
      if (!common.has(v) && (counts.get(v) ?? 0) <= limit) out.add(i);
    });
  }
  return [...out].sort((a, b) => a - b);
}

interface NumericColumn {
  column: Column;
  values: (number | null)[];
}

function numericColumns(rows: readonly Row[], columns: readonly Column[]): NumericColumn[] {
  const out: NumericColumn[] = [];
  for (const c of columns) {
    if ((c.type !== 'int' && c.type !== 'float') || c.present < 0.5 * rows.length) continue;
    if (ID_NAME_RE.test(c.name) || TIME_NAME_RE.test(c.name)) continue;
    const values = rows.map((r) => num(getPath(r, c.path)));
    const present = values.filter((v): v is number => v !== null);
    if (present.length < 10) continue;
    // epoch timestamps and strictly increasing counters are positions, not measurements
    const min = Math.min(...present);
    if ((min >= 1e9 && min <= 2e9) || (min >= 1e12 && min <= 2e12)) continue;
    let increasing = 0;
    for (let i = 1; i < present.length; i++) if ((present[i] as number) > (present[i - 1] as number)) increasing++;
    if (increasing >= 0.95 * (present.length - 1) && c.type === 'int') continue;
    out.push({ column: c, values });
  }
  return out;
}

function anomalyRows(rows: readonly Row[], numeric: readonly NumericColumn[], k: number): number[] {
  const n = rows.length;
  const scored: [number, number][] = [];
  for (const { values } of numeric) {
    const present = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
    const med = present[Math.floor(present.length / 2)] as number;
    const dev = present.map((v) => Math.abs(v - med)).sort((a, b) => a - b);
    const mad = dev[Math.floor(dev.length / 2)] as number;
    if (mad === 0) {
      const differ = values.filter((v) => v !== null && v !== med).length;
      if (differ > 0 && differ <= Math.max(1, 0.02 * n)) values.forEach((v, i) => v !== null && v !== med && scored.push([Infinity, i]));
      continue;
    }
    values.forEach((v, i) => {
      if (v === null) return;
      const z = (0.6745 * Math.abs(v - med)) / mad;
      if (z > 3.5) scored.push([z, i]);
    });
  }
  const limit = Math.max(k, Math.ceil(0.05 * n));
  const seen = new Set<number>();
  const out: number[] = [];
  for (const [, i] of scored.sort((a, b) => b[0] - a[0] || a[1] - b[1])) {
    if (seen.has(i)) continue;
    seen.add(i);
    out.push(i);
    if (out.length >= limit) break;
  }
  return out.sort((a, b) => a - b);
}

function changePointRows(rows: readonly Row[], numeric: readonly NumericColumn[]): number[] {
  const n = rows.length;
  if (n < 20) return [];
  const w = 5;
  const out = new Set<number>();
  for (const { values } of numeric) {
    if (values.some((v) => v === null)) continue;
    const xs = values as number[];
    const prefix = [0];
    for (const x of xs) prefix.push((prefix[prefix.length - 1] as number) + x);
    const mean = (prefix[n] as number) / n;
    let variance = 0;
    for (const x of xs) variance += (x - mean) ** 2;
    const sd = Math.sqrt(variance / (n - 1));
    if (sd === 0) continue;
    let found = 0;
    for (let i = w; i <= n - w && found < 5; i++) {
      const before = ((prefix[i] as number) - (prefix[i - w] as number)) / w;
      const after = ((prefix[i + w] as number) - (prefix[i] as number)) / w;
      if (Math.abs(after - before) > 2 * sd) {
        out.add(i - 1);
        out.add(i);
        found++;
        i += w;
      }
    }
  }
  return [...out].sort((a, b) => a - b);
}

const SCORE_NAME_RE = /(^|[_.])(score|relevance|similarity|confidence|rating)$/i;

/** Values of the column that ranks rows (higher is better), if there is one. */
function scoreColumn(rows: readonly Row[], columns: readonly Column[]): (number | null)[] | null {
  for (const c of columns) {
    if ((c.type !== 'float' && c.type !== 'int') || c.present < 0.8 * rows.length) continue;
    const values = rows.map((r) => num(getPath(r, c.path)));
    const present = values.filter((v): v is number => v !== null);
    if (SCORE_NAME_RE.test(c.name)) return values;
    if (c.type !== 'float' || present.some((v) => v < 0 || v > 1)) continue;
    let down = 0;
    for (let i = 1; i < present.length; i++) if ((present[i] as number) <= (present[i - 1] as number)) down++;
    if (present.length > 5 && down >= 0.7 * (present.length - 1)) return values;
  }
  return null;
}

/** Lower-cased compact JSON of each row (dedupe, anchors, BM25). */
export function rowTexts(rows: readonly Row[]): string[] {
  return rows.map((r) => JSON.stringify(r).toLowerCase());
}
