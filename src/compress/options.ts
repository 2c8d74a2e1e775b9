/**
 * Compression settings, with Headroom's `CompressConfig` names and defaults, its savings
 * profiles, and a resolver that accepts camelCase and snake_case keys. One deliberate
 * difference: `compress_system_messages` defaults to false (Headroom's library defaults it to
 * true), because system prompts are instructions and the most cache-hot bytes of a request.
 */
import { type WildcardMatcher, wildcardMatcher } from './wildcard.js';

export type SavingsProfile = 'agent-90' | 'balanced' | 'coding' | 'general';
export const SAVINGS_PROFILES: readonly SavingsProfile[] = ['agent-90', 'balanced', 'coding', 'general'];

export interface CompressSettings {
  /** Compress the text the user typed (default false: it is the subject of the request). */
  compressUserMessages: boolean;
  /** Compress system/developer messages (library and /v1/compress only; the proxy never does). */
  compressSystemMessages: boolean;
  /** Source code in the last N messages is never compressed. */
  protectRecent: number;
  /** Source code is never compressed while the user asks to analyse/review/debug it. */
  protectAnalysisContext: boolean;
  /** Share of items/characters lossy transforms keep (null: adaptive). */
  targetRatio: number | null;
  /** Texts below this many tokens are left alone. */
  minTokensToCompress: number;
  /** Upper bound of rows/items kept by adaptive sizing. */
  maxItems: number;
  /** Outputs of these tools are never compressed (case-insensitive; `*`, `?` and `[...]` globs). */
  excludeTools: readonly string[];
  savingsProfile: SavingsProfile | null;
}

export const DEFAULT_EXCLUDE_TOOLS: readonly string[] = ['Read', 'Glob', 'Grep', 'Write', 'Edit'];

export const DEFAULT_SETTINGS: Readonly<CompressSettings> = Object.freeze({
  compressUserMessages: false,
  compressSystemMessages: false,
  protectRecent: 4,
  protectAnalysisContext: true,
  targetRatio: null,
  minTokensToCompress: 250,
  maxItems: 15,
  excludeTools: DEFAULT_EXCLUDE_TOOLS,
  savingsProfile: null,
});

/** What each savings profile sets (explicit options still override it). */
export const PROFILE_SETTINGS: Record<SavingsProfile, Partial<CompressSettings>> = {
  'agent-90': { compressUserMessages: true, compressSystemMessages: true, protectRecent: 2, minTokensToCompress: 120, targetRatio: 0.1, maxItems: 8 },
  balanced: { compressUserMessages: false, compressSystemMessages: false, protectRecent: 4, minTokensToCompress: 250, targetRatio: 0.3, maxItems: 15 },
  coding: { compressUserMessages: false, compressSystemMessages: false, protectRecent: 2, targetRatio: null },
  general: { compressUserMessages: false, compressSystemMessages: false, protectRecent: 0, targetRatio: null },
};

export class CompressOptionsError extends Error {
  override readonly name = 'CompressOptionsError';
}

const KEYS: Record<string, keyof CompressSettings> = {};
for (const k of Object.keys(DEFAULT_SETTINGS) as (keyof CompressSettings)[]) {
  KEYS[k] = k;
  KEYS[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = k;
}

function bool(key: string, v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  throw new CompressOptionsError(`${key} must be a boolean`);
}

function int(key: string, v: unknown, min: number, max: number): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v;
  throw new CompressOptionsError(`${key} must be an integer from ${min} to ${max}`);
}

/**
 * Settings from `base`, then the savings profile (if `input` names one), then every known key
 * of `input` (camelCase or snake_case). Unknown keys are ignored; known keys with a wrong type
 * throw a CompressOptionsError.
 */
export function resolveSettings(input: Record<string, unknown> | null | undefined, base: Readonly<CompressSettings> = DEFAULT_SETTINGS): CompressSettings {
  const out: CompressSettings = { ...base };
  if (!input) return out;
  const profileRaw = input.savingsProfile ?? input.savings_profile;
  if (profileRaw !== undefined && profileRaw !== null) {
    const p = String(profileRaw).toLowerCase().replace(/_/g, '-') as SavingsProfile;
    if (!SAVINGS_PROFILES.includes(p)) throw new CompressOptionsError(`savings_profile must be one of ${SAVINGS_PROFILES.join(', ')}`);
    Object.assign(out, PROFILE_SETTINGS[p]);
    out.savingsProfile = p;
  }
  for (const [raw, v] of Object.entries(input)) {
    const key = KEYS[raw];
    if (!key || key === 'savingsProfile' || v === undefined) continue;
    switch (key) {
      case 'compressUserMessages':
      case 'compressSystemMessages':
      case 'protectAnalysisContext':
        out[key] = bool(raw, v);
        break;
      case 'protectRecent':
        out.protectRecent = int(raw, v, 0, 1_000_000);
        break;
      case 'minTokensToCompress':
        out.minTokensToCompress = int(raw, v, 0, 100_000_000);
        break;
      case 'maxItems':
        out.maxItems = int(raw, v, 1, 10_000);
        break;
      case 'targetRatio':
        if (v === null) out.targetRatio = null;
        else if (typeof v === 'number' && v > 0 && v <= 1) out.targetRatio = v;
        else throw new CompressOptionsError(`${raw} must be a number above 0 and at most 1, or null`);
        break;
      case 'excludeTools':
        if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new CompressOptionsError(`${raw} must be a list of tool names`);
        out.excludeTools = v as string[];
        break;
    }
  }
  return out;
}

const globCache = new Map<string, WildcardMatcher>();

/** Whether a tool name matches one of the exclusion patterns (case-insensitive, `*`/`?` globs allowed). */
export function isExcludedTool(name: string | null, patterns: readonly string[]): boolean {
  if (!name) return false;
  const lower = name.toLowerCase();
  for (const p of patterns) {
    const pl = p.toLowerCase();
    if (!/[*?]/.test(pl)) {
      if (pl === lower) return true;
      continue;
    }
    // a pattern may come from a client (`/v1/compress` config): never a backtracking RegExp
    let match = globCache.get(pl);
    if (!match) {
      match = wildcardMatcher(pl);
      if (globCache.size > 500) globCache.clear();
      globCache.set(pl, match);
    }
    if (match(lower)) return true;
  }
  return false;
}
