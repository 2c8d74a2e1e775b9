/**
 * Token counting. OpenAI models use their real BPE vocabularies through js-tiktoken
 * (o200k_base for the GPT-4o/4.1/5 and o-series families, cl100k_base for GPT-4/3.5);
 * Claude and every other model use a calibrated estimator (see `estimateTokens`). Very long
 * texts are counted from an even sample and scaled, so counting stays cheap on 1 MB payloads.
 * Counting is deterministic: same text and model, same figure.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Tiktoken } from 'js-tiktoken/lite';

export interface TokenCounter {
  /** `o200k_base`, `cl100k_base` or `estimate`. */
  readonly name: string;
  count(text: string): number;
}

type EncodingName = 'o200k_base' | 'cl100k_base';

const require = createRequire(import.meta.url);
const encoders = new Map<EncodingName, Tiktoken | null>();

type Ranks = { pat_str: string; special_tokens: Record<string, number>; bpe_ranks: string };
/** The vocabulary maps of a js-tiktoken encoder (filled here a slice at a time). */
type EncoderMaps = { rankMap?: unknown; textMap?: unknown };

function loadRanks(name: EncodingName): Ranks {
  const ranks = require(`js-tiktoken/ranks/${name}`) as { default?: unknown };
  return (ranks.default ?? ranks) as Ranks;
}

/**
 * Builds an encoder's vocabulary a slice at a time (what js-tiktoken's constructor does in one
 * go, 0.3-1 s per vocabulary), so start-up never blocks the event loop. `finish()` completes it
 * at once (a request that needs it before the background is done).
 */
class IncrementalEncoder {
  private readonly lines: string[];
  private line = 0;
  /** The tokens of the line being added, its first rank, and the next token to add. */
  private parts: string[] | null = null;
  private offset = 0;
  private next = 0;
  private readonly enc: Tiktoken;
  private readonly rankMap: Map<string, number>;
  private readonly textMap: Map<number, Uint8Array>;

  constructor(ranks: Ranks) {
    const { Tiktoken: Ctor } = require('js-tiktoken/lite') as typeof import('js-tiktoken/lite');
    this.enc = new Ctor({ ...ranks, bpe_ranks: '' });
    const maps = this.enc as unknown as EncoderMaps;
    if (!(maps.rankMap instanceof Map) || !(maps.textMap instanceof Map)) throw new Error('unexpected js-tiktoken internals');
    this.rankMap = maps.rankMap as Map<string, number>;
    this.textMap = maps.textMap as Map<number, Uint8Array>;
    this.lines = ranks.bpe_ranks.split('\n');
  }

  /** Adds tokens of the vocabulary until `until` (performance.now()); true when complete. */
  step(until = Infinity): boolean {
    for (;;) {
      if (!this.parts) {
        if (this.line >= this.lines.length) return true;
        const text = this.lines[this.line++] as string;
        if (!text) continue;
        // "<prefix> <first rank> <token> <token> ...": tokens in base64, ranks consecutive
        this.parts = text.split(' ');
        this.offset = Number.parseInt(this.parts[1] as string, 10);
        this.next = 2;
      }
      const parts = this.parts;
      while (this.next < parts.length) {
        const i = this.next++;
        const bytes = new Uint8Array(Buffer.from(parts[i] as string, 'base64'));
        const rank = this.offset + i - 2;
        this.rankMap.set(bytes.join(','), rank);
        this.textMap.set(rank, bytes);
        if ((i & 255) === 0 && performance.now() >= until) return false;
      }
      this.parts = null;
    }
  }

  finish(): Tiktoken {
    this.step();
    return this.enc;
  }
}

const building = new Map<EncodingName, IncrementalEncoder>();

function encoder(name: EncodingName): Tiktoken | null {
  if (encoders.has(name)) return encoders.get(name) ?? null;
  let enc: Tiktoken | null = null;
  try {
    const partial = building.get(name);
    if (partial) enc = partial.finish();
    else {
      const { Tiktoken: Ctor } = require('js-tiktoken/lite') as typeof import('js-tiktoken/lite');
      enc = new Ctor(loadRanks(name));
    }
  } catch {
    enc = null; // a vocabulary that fails to load falls back to estimation
  }
  building.delete(name);
  encoders.set(name, enc);
  return enc;
}

const ENCODINGS: readonly EncodingName[] = ['o200k_base', 'cl100k_base'];

/** Loads the BPE vocabularies now (startup) instead of on the first request. */
export function warmTokenizers(): void {
  for (const name of ENCODINGS) encoder(name);
}

/** Whether both vocabularies are loaded (nothing left to build on a request). */
export function tokenizersReady(): boolean {
  return ENCODINGS.every((name) => encoders.has(name));
}

let warming: Promise<void> | null = null;

/**
 * Loads the vocabularies in the background, `sliceMs` of work per event-loop turn, so the
 * process answers (e.g. `/livez`) while they load. A request that needs one sooner completes
 * it synchronously. Resolves when both are loaded.
 */
export function warmTokenizersInBackground(sliceMs = 8): Promise<void> {
  warming ??= (async () => {
    for (const name of ENCODINGS) {
      if (encoders.has(name)) continue;
      let b: IncrementalEncoder;
      try {
        b = new IncrementalEncoder(loadRanks(name));
      } catch {
        encoder(name); // not buildable a slice at a time: load it the usual way
        continue;
      }
      building.set(name, b);
      for (;;) {
        await new Promise<void>((r) => setImmediate(r));
        if (encoders.has(name)) break; // a request completed it meanwhile
        if (b.step(performance.now() + sliceMs)) {
          building.delete(name);
          encoders.set(name, b.finish());
          break;
        }
      }
    }
  })();
  return warming;
}

export function encodingForModel(model: string | null | undefined): EncodingName | null {
  const m = (model ?? '').toLowerCase().replace(/^openai\//, '');
  if (!m) return null;
  if (/^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|chatgpt-4o|o1|o3|o4|codex|gpt-oss)/.test(m)) return 'o200k_base';
  if (/^(gpt-4|gpt-3\.5|text-embedding)/.test(m)) return 'cl100k_base';
  return null;
}

/** Above this many characters a text is counted from a sample. */
const SAMPLE_ABOVE = 16_000;
const SAMPLE_WINDOWS = 12;
const WINDOW_CHARS = 1_000;

/** Counts `text` with `count`, sampling evenly spaced windows for long texts. */
export function sampledCount(text: string, count: (s: string) => number): number {
  if (text.length <= SAMPLE_ABOVE) return count(text);
  const step = Math.floor((text.length - WINDOW_CHARS) / (SAMPLE_WINDOWS - 1));
  let tokens = 0;
  let chars = 0;
  for (let i = 0; i < SAMPLE_WINDOWS; i++) {
    let start = i * step;
    // do not split a surrogate pair
    const c = text.charCodeAt(start);
    if (c >= 0xdc00 && c <= 0xdfff) start++;
    const piece = text.slice(start, start + WINDOW_CHARS);
    tokens += count(piece);
    chars += piece.length;
  }
  return Math.max(1, Math.round((tokens * text.length) / chars));
}

/**
 * Estimates tokens from the shape of the text: runs of letters, digits, punctuation,
 * whitespace and non-Latin characters each cost what BPE vocabularies typically charge for
 * them. Calibrated against cl100k/o200k on tool outputs, logs, JSON, code and prose
 * (see test/compress-tokens.test.ts for the tolerance).
 */
export function estimateTokens(text: string): number {
  const n = text.length;
  if (n === 0) return 0;
  let tokens = 0;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90)) {
      let j = i + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        if ((d >= 97 && d <= 122) || (d >= 65 && d <= 90)) j++;
        else break;
      }
      const len = j - i;
      tokens += len <= W_SHORT ? 1 : Math.ceil(len / W_WORD);
      i = j;
    } else if (c >= 48 && c <= 57) {
      let j = i + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d >= 48 && d <= 57) j++;
        else break;
      }
      tokens += Math.ceil((j - i) / 3);
      i = j;
    } else if (c === 32) {
      // a single space joins the next word; longer runs (indentation) cost one token per 8
      let j = i + 1;
      while (j < n && text.charCodeAt(j) === 32) j++;
      const len = j - i;
      if (len > 1) tokens += Math.ceil((len - 1) / W_SPACES);
      i = j;
    } else if (c === 10 || c === 13 || c === 9) {
      let j = i + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === 10 || d === 13 || d === 9) j++;
        else break;
      }
      tokens += 1;
      i = j;
    } else if (c < 128) {
      const prev = i > 0 ? text.charCodeAt(i - 1) : 0;
      const next = i + 1 < n ? text.charCodeAt(i + 1) : 0;
      tokens += (prev >= 48 && prev <= 57) || (next >= 48 && next <= 57) ? W_PUNCT_DIGIT : W_PUNCT;
      i++;
    } else if ((c >= 0x3040 && c <= 0x9fff) || (c >= 0xac00 && c <= 0xd7af) || (c >= 0xff00 && c <= 0xffef)) {
      tokens += W_CJK;
      i++;
    } else {
      tokens += W_OTHER;
      i++;
    }
  }
  return Math.max(1, Math.round(tokens));
}

// Weights fitted by grid search against the mean of cl100k and o200k counts on JSON (pretty
// and compact), logs, grep output, prose, TypeScript, Markdown and CJK text: every class
// lands within about 13% (see test/compress-tokens.test.ts).
const W_SHORT = 7;
const W_WORD = 6;
const W_SPACES = 8;
const W_PUNCT = 0.5;
const W_PUNCT_DIGIT = 0.8;
const W_CJK = 0.9;
const W_OTHER = 0.5;

/**
 * BPE vocabularies split a text into pre-tokens (a word, a run of punctuation, a run of
 * whitespace, up to three digits) and merge each one's bytes; js-tiktoken's merge costs
 * about the cube of a pre-token's length, so a long run without whitespace (`[[[[...`,
 * `}}}}...`, `aaaa...`: 15,000 brackets took 25 s) stalls the event loop. A run of one
 * character class up to `MAX_RUN_BYTES` (UTF-8) is encoded as it is: every pre-token of
 * ordinary text (separator lines and table rules of up to 128 characters, CJK phrases of up
 * to 42 characters) is, so counts stay exact. A longer run is counted in pieces of at most
 * `RUN_PIECE_BYTES` (within a few percent of its exact count). Cost: at most about 1 ms per
 * 128 bytes of runs (a 16,000-character text of nothing but such runs: 0.1-0.4 s; 200,000
 * brackets: 10 ms).
 */
export const MAX_RUN_BYTES = 128;
const RUN_PIECE_BYTES = 64;
// candidates: runs of 43+ code points (128 bytes of 3-byte characters) of a superset of each
// pre-token class of o200k and cl100k: letters and marks; neither whitespace, letter nor
// digit (marks included); whitespace
const RUN_MIN = Math.floor(MAX_RUN_BYTES / 3) + 1;
const LONG_RUN = new RegExp(`[\\p{L}\\p{M}]{${RUN_MIN},}|[^\\s\\p{L}\\p{N}]{${RUN_MIN},}|\\s{${RUN_MIN},}`, 'u');
const LONG_RUNS = new RegExp(LONG_RUN.source, 'gu');

const utf8Bytes = (cp: number) => (cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4);

/** Counts the tokens of a text that holds no run over `MAX_RUN_BYTES`. */
export type PlainCount = (text: string) => number;

/** Tokens of `text`, runs over `MAX_RUN_BYTES` counted in bounded pieces. */
export function bpeCount(count: PlainCount, text: string): number {
  if (!LONG_RUN.test(text)) return count(text);
  let tokens = 0;
  // start of the text not counted yet
  let at = 0;
  const seen = new Map<string, number>();
  const piece = (s: string) => {
    let n = seen.get(s);
    if (n === undefined) seen.set(s, (n = count(s)));
    return n;
  };
  for (const m of text.matchAll(LONG_RUNS)) {
    const run = m[0];
    if (Buffer.byteLength(run) <= MAX_RUN_BYTES) continue;
    const start = m.index ?? 0;
    if (start > at) tokens += count(text.slice(at, start));
    let from = 0;
    let bytes = 0;
    for (let i = 0; i < run.length; ) {
      const cp = run.codePointAt(i) as number;
      const b = utf8Bytes(cp);
      if (bytes + b > RUN_PIECE_BYTES) {
        tokens += piece(run.slice(from, i));
        from = i;
        bytes = 0;
      }
      bytes += b;
      i += cp > 0xffff ? 2 : 1;
    }
    tokens += piece(run.slice(from));
    at = start + run.length;
  }
  if (at < text.length) tokens += count(text.slice(at));
  return tokens;
}

/** Pre-tokens of up to this many characters have their counts remembered. */
const PIECE_MEMO_CHARS = 32;
const PIECE_MEMO_MAX = 50_000;

/**
 * A vocabulary's count of a text, pre-token by pre-token (the vocabulary's own pattern), the
 * count of each short pre-token remembered: tool outputs repeat their words, keys and
 * indentation, so most pre-tokens skip the byte-pair merge. The same result as encoding the
 * text whole (a pre-token encoded alone is the same pre-token).
 */
export function pieceCounter(enc: Pick<Tiktoken, 'encode'>, pattern: string): PlainCount {
  const re = new RegExp(pattern, 'gu');
  const seen = new Map<string, number>();
  return (text) => {
    let tokens = 0;
    for (const m of text.matchAll(re)) {
      const p = m[0];
      let n = seen.get(p);
      if (n === undefined) {
        n = enc.encode(p, [], []).length;
        if (p.length <= PIECE_MEMO_CHARS) {
          if (seen.size >= PIECE_MEMO_MAX) seen.clear();
          seen.set(p, n);
        }
      }
      tokens += n;
    }
    return tokens;
  };
}

const estimator: TokenCounter = { name: 'estimate', count: (t) => sampledCount(t, estimateTokens) };
const counters = new Map<EncodingName, TokenCounter>();

/** The counter for a model: its BPE vocabulary when it is an OpenAI model, else the estimator. */
export function tokenCounterFor(model: string | null | undefined): TokenCounter {
  const name = encodingForModel(model);
  if (!name) return estimator;
  let c = counters.get(name);
  if (!c) {
    const enc = encoder(name);
    if (!enc) return estimator;
    const plain = pieceCounter(enc, loadRanks(name).pat_str);
    c = { name, count: (t) => (t.length === 0 ? 0 : sampledCount(t, (s) => bpeCount(plain, s))) };
    counters.set(name, c);
  }
  return c;
}

export { estimator as estimateCounter };

const memo = new Map<string, number>();
const MEMO_MAX = 20_000;

/**
 * `counter.count(text)` remembered under a content key (its hash): replayed history is
 * counted once, not on every turn. Same result as counting, so determinism is unaffected.
 */
export function countMemo(counter: TokenCounter, key: string, text: string): number {
  const k = `${counter.name}:${key}`;
  const hit = memo.get(k);
  if (hit !== undefined) return hit;
  const n = counter.count(text);
  if (memo.size >= MEMO_MAX) memo.clear();
  memo.set(k, n);
  return n;
}

/**
 * How much BPE counting one request may still do (characters actually tokenized), and until
 * when. BPE costs about a microsecond per character in JS: a request of tens of MB counted
 * in full stalled the event loop for seconds, outside the compression time budget.
 */
export interface CountAllowance {
  chars: number;
  /** Clock value after which nothing new is tokenized. */
  deadline?: number;
  clock?: () => number;
  /** Pieces that were estimated instead (reported by the engine). */
  estimated: number;
}

const ESTIMATE_WINDOW_BYTES = 512;
const ESTIMATE_WINDOWS = 4;

/**
 * Estimated tokens of a raw JSON fragment from a few windows of its bytes, scaled to its
 * length: microseconds however large it is (for content beyond the counting allowance).
 */
export function estimateRaw(buf: Buffer, start: number, end: number): number {
  const len = end - start;
  if (len <= ESTIMATE_WINDOW_BYTES * ESTIMATE_WINDOWS) return countJsonBody(estimator, buf.toString('utf8', start, end));
  const step = Math.floor((len - ESTIMATE_WINDOW_BYTES) / (ESTIMATE_WINDOWS - 1));
  let tokens = 0;
  for (let i = 0; i < ESTIMATE_WINDOWS; i++) {
    const s = start + i * step;
    tokens += estimateTokens(unescapeJsonText(buf.toString('utf8', s, s + ESTIMATE_WINDOW_BYTES)));
  }
  return Math.max(1, Math.round((tokens * len) / (ESTIMATE_WINDOW_BYTES * ESTIMATE_WINDOWS)));
}

/** Characters BPE-counted for a text of `length` (long texts are sampled). */
const bpeCost = (length: number) => Math.min(length, SAMPLE_ABOVE < length ? SAMPLE_WINDOWS * WINDOW_CHARS : length);

/**
 * Tokens of a raw JSON fragment `buf[start, end)` (unescaped), remembered by the hash of its
 * bytes. With an `allowance`, a fragment not remembered yet is tokenized only while the
 * allowance lasts; beyond it (or past its deadline) it is estimated (calibrated to within
 * about 13% of the vocabularies) and not remembered, so a later request can count it exactly.
 */
export function countRawMemo(counter: TokenCounter, buf: Buffer, start: number, end: number, allowance?: CountAllowance): number {
  // the estimator is cheaper than hashing; BPE counting is not (short pieces are their own key)
  if (counter.name === 'estimate') return countJsonBody(counter, buf.toString('utf8', start, end));
  const short = end - start < 64;
  const k = short
    ? `${counter.name}:short:${buf.toString('latin1', start, end)}`
    : `${counter.name}:raw:${createHash('sha256').update(buf.subarray(start, end)).digest('base64')}`;
  const hit = memo.get(k);
  if (hit !== undefined) return hit;
  if (allowance && !short) {
    const late = allowance.deadline !== undefined && allowance.clock !== undefined && allowance.clock() > allowance.deadline;
    if (late || allowance.chars <= 0) {
      allowance.estimated++;
      return estimateRaw(buf, start, end);
    }
    allowance.chars -= bpeCost(end - start);
  }
  const n = countJsonBody(counter, buf.toString('utf8', start, end));
  if (memo.size >= MEMO_MAX) memo.clear();
  memo.set(k, n);
  return n;
}

/** Forgets remembered counts (benchmarks measure cold counting). */
export function clearTokenMemo(): void {
  memo.clear();
}

const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** JSON string escapes turned back into the characters a provider tokenizes. */
function unescapeJsonText(s: string): string {
  if (!s.includes('\\')) return s;
  return s.replace(/\\(?:u([0-9a-fA-F]{4})|(["\\/bfnrt]))/g, (_m, hex: string | undefined, c: string | undefined) => (hex ? String.fromCharCode(parseInt(hex, 16)) : ESCAPES[c as string] ?? ''));
}

/**
 * Tokens of a raw JSON request body, counted on its unescaped text (what the provider
 * tokenizes), sampled for long bodies.
 */
export function countJsonBody(counter: TokenCounter, raw: string): number {
  if (raw.length === 0) return 0;
  return sampledCount(raw, (window) => counter.count(unescapeJsonText(window)));
}
