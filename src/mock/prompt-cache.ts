/**
 * A simulation of provider prompt caching, so mock responses carry realistic cache figures.
 * - Anthropic: explicit `cache_control` breakpoints; a request reads the longest cached
 *   breakpoint prefix and writes the rest up to its last breakpoint (5m or 1h TTL).
 * - OpenAI: automatic prefix caching for prompts of 1024+ tokens, in 128-token steps.
 */
import { createHash } from 'node:crypto';

export const approxTokens = (bytes: number) => Math.max(1, Math.ceil(bytes / 4));

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
  /** The serialized prompt up to and including each content block, in prompt order. */
  prefixes: string[];
  /** The blocks that carry `cache_control`, with their TTL. */
  breakpoints: { index: number; ttl: '5m' | '1h' }[];
}

/**
 * The prompt as content blocks (tools, system blocks, message blocks). The cache key of a
 * prefix is its content without `cache_control` markers, so moving the breakpoint to the newest
 * block each turn (what agents do) still finds the prefix cached by the previous turn.
 */
function blocksOf(body: Json): Blocks {
  const prefixes: string[] = [];
  const breakpoints: Blocks['breakpoints'] = [];
  const parts: string[] = [];
  const visit = (label: string, block: unknown) => {
    const cc = (block as Json | null)?.cache_control as Json | undefined;
    let content = block;
    if (cc !== undefined && block !== null && typeof block === 'object') {
      const { cache_control: _omit, ...rest } = block as Json;
      content = rest;
    }
    parts.push(label, JSON.stringify(content));
    prefixes.push(parts.join('\u0000'));
    if (cc && typeof cc === 'object') breakpoints.push({ index: prefixes.length - 1, ttl: cc.ttl === '1h' ? '1h' : '5m' });
  };
  for (const t of Array.isArray(body.tools) ? body.tools : []) visit('tool', t);
  if (Array.isArray(body.system)) for (const s of body.system) visit('system', s);
  else if (typeof body.system === 'string') parts.push('system', body.system);
  for (const m of Array.isArray(body.messages) ? body.messages : []) {
    const msg = m as Json;
    if (Array.isArray(msg.content)) for (const b of msg.content) visit(`msg:${String(msg.role)}`, b);
    else parts.push(`msg:${String(msg.role)}`, JSON.stringify(msg.content));
  }
  return { prefixes, breakpoints };
}

export class PromptCacheSim {
  private readonly anthropic = new Map<string, Entry>();
  private readonly openaiPrompts: string[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  anthropicUsage(body: Json, totalInputTokens: number): AnthropicCacheResult {
    const now = this.now();
    const { prefixes, breakpoints: bps } = blocksOf(body);
    const tokensAt = (i: number) => Math.min(approxTokens(Buffer.byteLength(prefixes[i] ?? '')), totalInputTokens);
    let read = 0;
    for (const bp of bps) {
      // the breakpoint itself, then earlier block boundaries within the lookback window
      for (let i = bp.index; i >= Math.max(0, bp.index - LOOKBACK_BLOCKS); i--) {
        const e = this.anthropic.get(key(prefixes[i] ?? ''));
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
      const writeTokens = Math.max(0, tokensAt(last.index) - read);
      if (last.ttl === '1h') write1h = writeTokens;
      else write5m = writeTokens;
      for (const bp of bps) {
        const ttlMs = bp.ttl === '1h' ? 3_600_000 : 300_000;
        this.anthropic.set(key(prefixes[bp.index] ?? ''), { tokens: tokensAt(bp.index), expiresAt: now + ttlMs });
      }
    }
    read = Math.min(read, totalInputTokens);
    const uncached = Math.max(0, totalInputTokens - read - write5m - write1h);
    return { uncached, cacheRead: read, cacheWrite5m: write5m, cacheWrite1h: write1h };
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
  }
}

const key = (s: string) => createHash('sha256').update(s).digest('hex');
