/**
 * A simulation of provider prompt caching, so mock responses carry realistic cache figures.
 * - Anthropic: explicit `cache_control` breakpoints; a request reads the longest cached
 *   breakpoint prefix (looking back up to 20 blocks from each breakpoint) and writes the rest
 *   up to its last breakpoint: as 1-hour writes up to its last 1-hour breakpoint, as 5-minute
 *   writes after it. Reported as `cache_read_input_tokens`, `cache_creation_input_tokens` and
 *   `cache_creation.ephemeral_{5m,1h}_input_tokens`; `input_tokens` is the rest. (The
 *   minimum cacheable prompt length is not modelled.)
 * - OpenAI: automatic prefix caching for prompts of 1024+ tokens, in 128-token steps.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';

export const approxTokens = (bytes: number) => Math.max(1, Math.ceil(bytes / 4));

/**
 * How the mock counts prompt tokens: `bytes` (4 bytes a token, the default) or `cl100k` (a
 * real BPE vocabulary over the prompt's content, as a provider counts it: text, tool results,
 * tool calls and definitions, plus a few framing tokens per block and message).
 */
export type MockTokenizer = 'bytes' | 'cl100k';

interface Entry {
  tokens: number;
  expiresAt: number;
}

export interface AnthropicCacheResult {
  uncached: number;
  cacheRead: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
}

type Json = Record<string, unknown>;

/** How many block boundaries before a breakpoint Anthropic checks for an earlier cached prefix. */
const LOOKBACK_BLOCKS = 20;

interface Blocks {
  /** Cache key of the prompt up to and including each content block, in prompt order. */
  keys: string[];
  /** Prompt tokens up to and including each block. */
  tokens: number[];
  /** The blocks that carry `cache_control`, with their TTL. */
  breakpoints: { index: number; ttl: '5m' | '1h' }[];
  /** Prompt tokens of the whole request (BPE mode; bytes mode: from the body size). */
  total: number;
}

const require = createRequire(import.meta.url);
let bpe: { encode(text: string): number[] } | null = null;

function cl100k(): { encode(text: string): number[] } {
  if (!bpe) {
    const { Tiktoken } = require('js-tiktoken/lite') as typeof import('js-tiktoken/lite');
    const ranks = require('js-tiktoken/ranks/cl100k_base') as { default?: unknown };
    bpe = new Tiktoken((ranks.default ?? ranks) as ConstructorParameters<typeof Tiktoken>[0]);
  }
  return bpe;
}

const textOf = (v: unknown): string =>
  typeof v === 'string' ? v : Array.isArray(v) ? v.map((p) => (typeof (p as Json)?.text === 'string' ? String((p as Json).text) : JSON.stringify(p))).join('\n') : JSON.stringify(v ?? '');

/** A content-aware token counter (BPE), memoised per text. */
class ContentCounter {
  private readonly memo = new Map<string, number>();

  count(text: string): number {
    if (text.length === 0) return 0;
    const hit = this.memo.get(text);
    if (hit !== undefined) return hit;
    const n = cl100k().encode(text).length;
    if (this.memo.size > 20_000) this.memo.clear();
    this.memo.set(text, n);
    return n;
  }

  /** Tokens of one content block (or tool definition) as the model sees it. */
  block(block: unknown): number {
    const b = block as Json | null;
    if (!b || typeof b !== 'object') return this.count(String(block ?? '')) + 1;
    if (b.type === 'text' && typeof b.text === 'string') return this.count(b.text) + 1;
    if (b.type === 'tool_result') return this.count(textOf(b.content)) + 4;
    if (b.type === 'tool_use') return this.count(String(b.name ?? '')) + this.count(JSON.stringify(b.input ?? {})) + 4;
    const { cache_control: _omit, ...rest } = b;
    return this.count(JSON.stringify(rest)) + 1;
  }
}

/**
 * The prompt as content blocks (tools, system blocks, message blocks). The cache key of a
 * prefix is its content without `cache_control` markers, so moving the breakpoint to the newest
 * block each turn (what agents do) still finds the prefix cached by the previous turn.
 */
function blocksOf(body: Json, counter: ContentCounter | null): Blocks {
  const keys: string[] = [];
  const tokens: number[] = [];
  const breakpoints: Blocks['breakpoints'] = [];
  let chain = '';
  let bytes = 0;
  let bpeTokens = 0;
  const add = (label: string, content: unknown, blockTokens: number) => {
    const json = JSON.stringify(content) ?? '';
    chain = key(`${chain}\u0000${label}\u0000${json}`);
    bytes += Buffer.byteLength(label) + Buffer.byteLength(json) + 2;
    bpeTokens += blockTokens;
  };
  const visit = (label: string, block: unknown, framing = 0) => {
    const cc = (block as Json | null)?.cache_control as Json | undefined;
    let content = block;
    if (cc !== undefined && block !== null && typeof block === 'object') {
      const { cache_control: _omit, ...rest } = block as Json;
      content = rest;
    }
    add(label, content, counter ? counter.block(content) + framing : 0);
    keys.push(chain);
    tokens.push(counter ? bpeTokens : approxTokens(bytes));
    if (cc && typeof cc === 'object') breakpoints.push({ index: keys.length - 1, ttl: cc.ttl === '1h' ? '1h' : '5m' });
  };
  for (const t of Array.isArray(body.tools) ? body.tools : []) visit('tool', t);
  if (Array.isArray(body.system)) for (const s of body.system) visit('system', s);
  else if (typeof body.system === 'string') add('system', body.system, counter ? counter.count(body.system) + 2 : 0);
  for (const m of Array.isArray(body.messages) ? body.messages : []) {
    const msg = m as Json;
    const label = `msg:${String(msg.role)}`;
    if (Array.isArray(msg.content)) msg.content.forEach((b, i) => visit(label, b, i === 0 ? 3 : 0));
    else add(label, msg.content, counter ? counter.count(textOf(msg.content)) + 3 : 0);
  }
  return { keys, tokens, breakpoints, total: bpeTokens + 8 };
}

export class PromptCacheSim {
  private readonly anthropic = new Map<string, Entry>();
  private readonly openaiPrompts: string[] = [];
  private readonly openaiMessageLists: string[][] = [];
  private readonly counter: ContentCounter | null;

  constructor(private readonly now: () => number = Date.now, readonly tokenizer: MockTokenizer = 'bytes') {
    this.counter = tokenizer === 'cl100k' ? new ContentCounter() : null;
  }

  /** Prompt tokens of a request (`bodyBytes`: its size on the wire, used in bytes mode). */
  promptTokens(body: Json, bodyBytes: number, provider: 'anthropic' | 'openai'): number {
    const c = this.counter;
    if (!c) return approxTokens(bodyBytes);
    if (provider === 'anthropic') return blocksOf(body, c).total;
    let n = 3;
    for (const t of Array.isArray(body.tools) ? body.tools : []) n += c.count(JSON.stringify(t));
    for (const item of this.openaiItems(body)) n += c.count(item) + 4;
    if (typeof body.instructions === 'string') n += c.count(body.instructions);
    return n;
  }

  /** Output tokens of a reply. */
  outputTokens(text: string): number {
    return this.counter ? Math.max(1, this.counter.count(text)) : approxTokens(Buffer.byteLength(text));
  }

  anthropicUsage(body: Json, totalInputTokens: number): AnthropicCacheResult {
    const now = this.now();
    const { keys, tokens, breakpoints: bps } = blocksOf(body, this.counter);
    const tokensAt = (i: number) => Math.min(tokens[i] ?? 0, totalInputTokens);
    let read = 0;
    for (const bp of bps) {
      // the breakpoint itself, then earlier block boundaries within the lookback window
      for (let i = bp.index; i >= Math.max(0, bp.index - LOOKBACK_BLOCKS); i--) {
        const e = this.anthropic.get(keys[i] ?? '');
        if (e && e.expiresAt > now) {
          read = Math.max(read, e.tokens);
          break;
        }
      }
    }
    const last = bps[bps.length - 1];
    let write5m = 0;
    let write1h = 0;
    if (last) {
      // as Anthropic bills mixed TTLs: 1-hour writes up to the last 1-hour breakpoint, 5-minute writes after it
      let last1h = -1;
      for (const bp of bps) if (bp.ttl === '1h') last1h = bp.index;
      const end1h = last1h >= 0 ? tokensAt(last1h) : 0;
      write1h = Math.max(0, end1h - read);
      write5m = Math.max(0, tokensAt(last.index) - Math.max(read, end1h));
      for (const bp of bps) {
        const ttlMs = bp.ttl === '1h' ? 3_600_000 : 300_000;
        this.anthropic.set(keys[bp.index] ?? '', { tokens: tokensAt(bp.index), expiresAt: now + ttlMs });
      }
    }
    read = Math.min(read, totalInputTokens);
    const uncached = Math.max(0, totalInputTokens - read - write5m - write1h);
    return { uncached, cacheRead: read, cacheWrite5m: write5m, cacheWrite1h: write1h };
  }

  /** The conversation items of an OpenAI request, serialised one by one. */
  private openaiItems(body: Json): string[] {
    const items = Array.isArray(body.messages) ? body.messages : Array.isArray(body.input) ? body.input : [body.input ?? ''];
    return items.map((m) => {
      const o = m as Json | null;
      if (o && typeof o === 'object' && (typeof o.content === 'string' || Array.isArray(o.content)) && !o.tool_calls) return `${String(o.role ?? '')}: ${textOf(o.content)}`;
      return JSON.stringify(m);
    });
  }

  /** OpenAI-style cached prompt tokens for a request body (automatic prefix caching, 128-token steps from 1024). */
  openaiCached(body: Json, totalInputTokens: number): number {
    const c = this.counter;
    // Tools (and Responses instructions) come before the conversation in OpenAI's cached prefix,
    // so a changed tools array misses the cache from the start.
    const head = JSON.stringify([body.tools ?? null, body.instructions ?? null]);
    if (!c) return this.openaiCachedTokens(head + JSON.stringify(body.messages ?? body.input ?? ''), totalInputTokens);
    const items = [head, ...this.openaiItems(body)];
    let best = 0;
    for (const prev of this.openaiMessageLists) {
      let i = 0;
      while (i < items.length && i < prev.length && items[i] === prev[i]) i++;
      best = Math.max(best, i);
    }
    this.openaiMessageLists.push(items);
    if (this.openaiMessageLists.length > 50) this.openaiMessageLists.shift();
    let tokens = 3;
    if (best > 0) {
      for (const t of Array.isArray(body.tools) ? body.tools : []) tokens += c.count(JSON.stringify(t));
      if (typeof body.instructions === 'string') tokens += c.count(body.instructions);
    }
    for (let i = 1; i < best; i++) tokens += c.count(items[i] as string) + 4;
    if (best === 0) tokens = 0;
    tokens = Math.min(tokens, totalInputTokens);
    return tokens >= 1024 ? Math.floor(tokens / 128) * 128 : 0;
  }

  /** OpenAI-style: cached tokens = longest common prefix with an earlier prompt, 128-token steps, from 1024. */
  openaiCachedTokens(prompt: string, totalInputTokens: number): number {
    let best = 0;
    for (const prev of this.openaiPrompts) {
      const n = Math.min(prev.length, prompt.length);
      let i = 0;
      while (i < n && prev.charCodeAt(i) === prompt.charCodeAt(i)) i++;
      best = Math.max(best, i);
    }
    this.openaiPrompts.push(prompt);
    if (this.openaiPrompts.length > 50) this.openaiPrompts.shift();
    const tokens = Math.min(approxTokens(best), totalInputTokens);
    return tokens >= 1024 ? Math.floor(tokens / 128) * 128 : 0;
  }

  clear(): void {
    this.anthropic.clear();
    this.openaiPrompts.length = 0;
    this.openaiMessageLists.length = 0;
  }
}

const key = (s: string) => createHash('sha256').update(s).digest('hex');
