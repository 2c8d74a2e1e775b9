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

/** Yields [serialized-prefix-length, ttl] for every cache breakpoint, in prompt order. */
function breakpoints(body: Json): { prefix: string; ttl: '5m' | '1h' }[] {
  const out: { prefix: string; ttl: '5m' | '1h' }[] = [];
  const parts: string[] = [];
  const visit = (label: string, block: unknown) => {
    parts.push(label, JSON.stringify(block));
    const cc = (block as Json | null)?.cache_control as Json | undefined;
    if (cc && typeof cc === 'object') out.push({ prefix: parts.join('\u0000'), ttl: cc.ttl === '1h' ? '1h' : '5m' });
  };
  for (const t of Array.isArray(body.tools) ? body.tools : []) visit('tool', t);
  if (Array.isArray(body.system)) for (const s of body.system) visit('system', s);
  else if (typeof body.system === 'string') parts.push('system', body.system);
  for (const m of Array.isArray(body.messages) ? body.messages : []) {
    const msg = m as Json;
    if (Array.isArray(msg.content)) for (const b of msg.content) visit(`msg:${String(msg.role)}`, b);
    else parts.push(`msg:${String(msg.role)}`, JSON.stringify(msg.content));
  }
  return out;
}

export class PromptCacheSim {
  private readonly anthropic = new Map<string, Entry>();
  private readonly openaiPrompts: string[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  anthropicUsage(body: Json, totalInputTokens: number): AnthropicCacheResult {
    const now = this.now();
    const bps = breakpoints(body);
    let read = 0;
    for (const bp of bps) {
      const e = this.anthropic.get(key(bp.prefix));
      if (e && e.expiresAt > now) read = Math.max(read, e.tokens);
    }
    const last = bps[bps.length - 1];
    let write5m = 0;
    let write1h = 0;
    if (last) {
      const lastTokens = Math.min(approxTokens(Buffer.byteLength(last.prefix)), totalInputTokens);
      const writeTokens = Math.max(0, lastTokens - read);
      if (last.ttl === '1h') write1h = writeTokens;
      else write5m = writeTokens;
      for (const bp of bps) {
        const tokens = Math.min(approxTokens(Buffer.byteLength(bp.prefix)), totalInputTokens);
        const ttlMs = bp.ttl === '1h' ? 3_600_000 : 300_000;
        this.anthropic.set(key(bp.prefix), { tokens, expiresAt: now + ttlMs });
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
