/**
 * The shortcuts the JSON path takes for speed decide exactly what the long way decides
 * (fast-check, fixed seeds): error signals judge each key name once, BM25 counts term frequencies without tokenizing and scores as tokenizing would, plain decimals
 * judged from their digits print back as written, and columns are built as before.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bm25, ERROR_WORD_RE, hasErrorClass, parseQuery, stem, tokenize } from '../src/compress/lexical.js';
import { errorSignal } from '../src/compress/transforms/json-select.js';
import { buildColumns } from '../src/compress/transforms/json-table.js';
import { isPlainObject, isRawNumber, parseJsonExact, stringifyExact } from '../src/compress/transforms/json-values.js';
import { tctx } from './helpers/compress.js';

const KEYS = ['status', 'Status', 'state', 'level', 'code', 'status_code', 'httpStatus', 'ok', 'success', 'is_valid', 'healthy', 'error', 'errors', 'error_count',
  'lastException', 'failed', 'crash', 'errorCount', 'error_total', 'failRate', 'failures', 'message', 'name', 'path', 'value', 'id', 'meta', 'detail', 'result', 'lvl', 'x'];
const WORDS = ['error', 'ERROR', 'Errored', 'failed', 'FAIL', 'fatal', 'critical', 'crit', 'crashed', 'aborted', 'timeout', 'timed out', 'timed_out', 'cancelled', 'canceled',
  'rejected', 'denied', 'refused', 'unhealthy', 'down', 'KO', 'emerg', 'alert', 'panic', 'panicked', 'degraded', '503', ' 502 ', '200', 'CrashLoopBackOff', 'OOMKilled',
  'ErrImagePull', 'Evicted', 'NotReady', 'Exited (1)', 'Exited (0)', 'ModuleNotFoundError', 'java.lang.NullPointerException', 'SegFault', 'segfault', 'Traceback (most recent call last)',
  'ERR!', 'ERR_SOCKET_TIMEOUT', '● test', '✕ fails', 'uncaught', 'unhandled', 'traceback', 'exception', 'ok', 'none', 'active', 'running', 'payment', 'İstanbul', 'K', 'ß'];

const scalar = fc.oneof(
  fc.constantFrom(...WORDS),
  fc.tuple(fc.constantFrom(...WORDS), fc.string({ maxLength: 6 }), fc.constantFrom(...WORDS)).map(([a, b, c]) => `${a}${b}${c}`),
  fc.string({ maxLength: 12 }),
  fc.integer({ min: 0, max: 1000 }),
  fc.double({ min: 400, max: 700, noNaN: true }),
  fc.boolean(),
  fc.constant(null),
);
const value = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small' }, scalar, fc.array(tie('v'), { maxLength: 3 }), tie('o')),
  o: fc.dictionary(fc.constantFrom(...KEYS), tie('v'), { maxKeys: 4 }),
}));
const row = fc.dictionary(fc.constantFrom(...KEYS), value.v, { minKeys: 1, maxKeys: 6 });

/** errorSignal as it was written first: every key name tested with its patterns each time. */
function errorSignalReference(v: unknown, key = '', depth = 0): 0 | 1 | 2 {
  const ERROR_KEY = /error|exception|fail|fault|panic|crash/i;
  const STATUS_KEY = /^(status|state|level|severity|outcome|result|conclusion|health|lvl)$/i;
  const BAD = /^(error|errored|err|failed|failure|fail|fatal|critical|crit|crashed|aborted|abort|timeout|timed[_ -]?out|cancel+ed|rejected|denied|unhealthy|down|ko|emerg|emergency|alert|panic|degraded|5\d\d)$/i;
  const BAD_PART = /backoff|oomkilled|crashloop|errimagepull|evicted|notready|unhealthy|exited \([1-9]|failed|error/i;
  const truthy = (x: unknown): boolean => {
    if (x === null || x === undefined || x === false || x === 0 || x === '') return false;
    if (Array.isArray(x)) return x.length > 0;
    if (isPlainObject(x)) return Object.keys(x).length > 0;
    if (typeof x === 'string') return !/^(none|null|0|false|no|n\/a|ok)$/i.test(x.trim());
    return true;
  };
  if (depth > 6) return 0;
  if (typeof v === 'string') {
    if (isRawNumber(v) || v.length === 0) return 0;
    if (STATUS_KEY.test(key) && (BAD.test(v.trim()) || (v.length <= 40 && BAD_PART.test(v)))) return 2;
    if (!ERROR_WORD_RE.test(v) && !hasErrorClass(v)) return 0;
    return ERROR_KEY.test(key) || /^\W*(error|exception|fatal|panic|traceback)\b/i.test(v) || /^\W*[\w.$]*[A-Z]\w*(?:Error|Exception)\b/.test(v) ? 2 : 1;
  }
  if (typeof v === 'number') return /^(status|status_?code|http_?status|code)$/i.test(key) && v >= 500 && v <= 599 ? 2 : 0;
  if (typeof v === 'boolean') return (v && ERROR_KEY.test(key)) || (!v && /^(ok|success|succeeded|passed|healthy|is_?valid)$/i.test(key)) ? 2 : 0;
  if (v === null || v === undefined) return 0;
  let best: 0 | 1 | 2 = 0;
  if (Array.isArray(v)) {
    if (v.length > 0 && ERROR_KEY.test(key) && !/count$/i.test(key)) return 2;
    for (const x of v) {
      const s = errorSignalReference(x, key, depth + 1);
      if (s === 2) return 2;
      if (s > best) best = s;
    }
    return best;
  }
  if (isPlainObject(v)) {
    if (ERROR_KEY.test(key) && Object.keys(v).length > 0) return 2;
    for (const k in v) {
      const x = v[k];
      if (ERROR_KEY.test(k) && truthy(x) && typeof x !== 'number' && !isRawNumber(x) && !/(count|_?total|rate)$/i.test(k)) return 2;
      const s = errorSignalReference(x, k, depth + 1);
      if (s === 2) return 2;
      if (s > best) best = s;
    }
  }
  return best;
}

describe('error signals', () => {
  it('are those of the pattern-per-use version', () => {
    fc.assert(
      fc.property(row, (r) => {
        expect(errorSignal(r)).toBe(errorSignalReference(r));
      }),
      { seed: 1615, numRuns: 5000 },
    );
  });
});

/** BM25 as it was written first: every document containing a term is tokenized. */
function bm25Reference(query: ReturnType<typeof parseQuery>, docs: readonly string[]): number[] {
  const scores = new Array<number>(docs.length).fill(0);
  if (query.terms.length === 0 || docs.length === 0) return scores;
  const k1 = 1.5;
  const b = 0.75;
  const n = docs.length;
  let terms = [...new Set(query.stems)];
  if (n > 4) {
    terms = terms.filter((t) => docs.filter((d) => d.includes(t)).length <= n / 2);
    if (terms.length === 0) return scores;
  }
  const termSet = new Set(terms);
  const lengths: number[] = [];
  const tfs: (Map<string, number> | null)[] = [];
  const df = new Map<string, number>();
  let total = 0;
  for (const d of docs) {
    if (!terms.some((t) => d.includes(t))) {
      lengths.push(Math.max(1, Math.round(d.length / 6)));
      total += lengths[lengths.length - 1] as number;
      tfs.push(null);
      continue;
    }
    const words = tokenize(d);
    lengths.push(words.length);
    total += words.length;
    const tf = new Map<string, number>();
    for (const w of words) {
      let key: string | null = w;
      if (!termSet.has(w)) {
        const st = w.length > 3 && w.endsWith('s') ? stem(w) : null;
        key = st !== null && termSet.has(st) ? st : null;
      }
      if (key !== null) tf.set(key, (tf.get(key) ?? 0) + 1);
    }
    for (const w of tf.keys()) df.set(w, (df.get(w) ?? 0) + 1);
    tfs.push(tf);
  }
  const avg = total / n || 1;
  let best = 0;
  tfs.forEach((tf, i) => {
    if (!tf) return;
    let s = 0;
    for (const [w, f] of tf) {
      const d = df.get(w) ?? 0;
      if (d > n / 2 && n > 4) continue;
      s += (Math.log(1 + (n - d + 0.5) / (d + 0.5)) * f * (k1 + 1)) / (f + k1 * (1 - b + (b * (lengths[i] as number)) / avg));
    }
    scores[i] = s;
    if (s > best) best = s;
  });
  return best > 0 ? scores.map((s) => s / best) : scores;
}

describe('BM25 without tokenizing', () => {
  const vocab = ['policy', 'policies', 'policys', 'form', 'forms', 'formset', 'box', 'boxes', 'class', 'classes', 'payment', 'payments', 'pay', 'ment', 'a_b', 'x9', 'bus', 'gas', 'Forms', 'POLICY'];
  const doc = fc.array(fc.oneof(fc.constantFrom(...vocab), fc.constantFrom(' ', '_', '.', '-', '/', ', ', '"', 'é', '9')), { maxLength: 40 }).map((xs) => xs.join(''));
  it('gives the scores of the tokenizing version', () => {
    fc.assert(
      fc.property(fc.array(doc, { minLength: 1, maxLength: 12 }), fc.subarray(vocab, { minLength: 1, maxLength: 4 }), fc.boolean(), (docs, words, lower) => {
        const q = parseQuery(words.join(' '));
        const ds = lower ? docs.map((d) => d.toLowerCase()) : docs;
        expect(bm25(q, ds)).toEqual(bm25Reference(q, ds));
      }),
      { seed: 1618, numRuns: 3000 },
    );
  });
});

describe('number literals judged from their digits', () => {
  const literal = fc
    .tuple(fc.boolean(), fc.stringMatching(/^(0|[1-9][0-9]{0,15})$/), fc.stringMatching(/^[0-9]{1,12}$/))
    .map(([neg, int, frac]) => `${neg ? '-' : ''}${int}.${frac}`);
  it('every decimal prints back exactly as written', () => {
    fc.assert(
      fc.property(fc.array(literal, { minLength: 1, maxLength: 8 }), (lits) => {
        const text = `[${lits.join(',')},{"v":${lits[0]},"s":"1.50 \\" 0.10"}]`;
        expect(stringifyExact(parseJsonExact(text))).toBe(text);
      }),
      { seed: 1619, numRuns: 3000 },
    );
  });
  it('keeps the literals a double would print differently', () => {
    for (const lit of ['1.50', '0.0000001', '0.10', '-0.0', '123456789012345.6', '1.0', '0.30000000000000001', '9007199254740993.5']) {
      expect(stringifyExact(parseJsonExact(`[${lit}]`))).toBe(`[${lit}]`);
    }
  });
});

describe('columns', () => {
  it('flatten sub-objects of one key set and keep the first-seen key order', () => {
    const rows = [
      { id: 1, meta: { a: 1, b: 'x' }, tags: ['q'] },
      { id: 2, meta: { a: 2, b: 'y' }, extra: true },
      { id: 3, meta: null },
    ];
    expect(buildColumns(rows).map((c) => `${c.name}:${c.type}${c.nullable ? '?' : ''}:${c.present}`)).toEqual(['id:int:3', 'meta.a:int?:2', 'meta.b:str?:2', 'tags:json?:1', 'extra:bool?:1']);
    const varied = [{ m: { a: 1 } }, { m: { b: 1 } }, { m: { a: 2 } }];
    expect(buildColumns(varied).map((c) => c.name)).toEqual(['m']);
  });
});
