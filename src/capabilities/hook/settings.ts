/**
 * The hook's runtime settings (`GET`/`PUT /config`): the eight knobs of Headroom's
 * `CompressConfig` that tsheadroom exposes, with its names, defaults and validation messages,
 * and their mapping onto the engine's settings.
 */
import { type CompressSettings, DEFAULT_SETTINGS, PROFILE_SETTINGS, resolveSettings, SAVINGS_PROFILES, type SavingsProfile } from '../../compress/options.js';
import type { HookSettings } from './schema.js';

export type { HookSettings } from './schema.js';

export const HOOK_DEFAULTS: Readonly<HookSettings> = Object.freeze({
  compress_user_messages: false,
  compress_system_messages: true,
  protect_recent: 4,
  protect_analysis_context: true,
  target_ratio: null,
  min_tokens_to_compress: 250,
  kompress_model: null,
  savings_profile: null,
});

export const SETTING_KEYS = Object.keys(HOOK_DEFAULTS) as (keyof HookSettings)[];

/** A rejected settings update: the field at fault and a message naming it. */
export class SettingsError extends Error {
  override readonly name = 'SettingsError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** The settings were valid but could not be saved (the server's fault): nothing changed. */
export class SettingsPersistError extends Error {
  override readonly name = 'SettingsPersistError';
  constructor(
    readonly path: string,
    err: unknown,
  ) {
    super(`the settings were not changed: they could not be saved to ${path}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

function bool(key: string, v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  throw new SettingsError(key, `${key} must be a boolean`);
}

/**
 * Applies a partial update onto `current` and returns a NEW validated value (the current one
 * is never touched, so a rejected update changes nothing). Absent keys are unchanged, an
 * explicit `null` clears a nullable field, unknown keys are ignored.
 */
export function mergeSettings(current: Readonly<HookSettings>, update: unknown): HookSettings {
  if (!isObj(update)) throw new SettingsError('body', 'body must be a JSON object');
  const next: HookSettings = { ...current };
  for (const key of SETTING_KEYS) {
    if (!(key in update)) continue;
    const v = update[key];
    switch (key) {
      case 'compress_user_messages':
      case 'compress_system_messages':
      case 'protect_analysis_context':
        next[key] = bool(key, v);
        break;
      case 'protect_recent':
        if (!isInt(v) || v < 0) throw new SettingsError(key, 'protect_recent must be >= 0');
        next.protect_recent = v;
        break;
      case 'min_tokens_to_compress':
        if (!isInt(v) || v < 0) throw new SettingsError(key, 'min_tokens_to_compress must be >= 0');
        next.min_tokens_to_compress = v;
        break;
      case 'target_ratio':
        if (v !== null && !(typeof v === 'number' && v > 0 && v <= 1)) throw new SettingsError(key, 'target_ratio must be in (0, 1] or null');
        next.target_ratio = v as number | null;
        break;
      case 'kompress_model':
        if (v !== null && !(typeof v === 'string' && v.trim() !== '')) throw new SettingsError(key, 'kompress_model must be a non-empty string or null');
        next.kompress_model = v as string | null;
        break;
      case 'savings_profile':
        if (v !== null && !(typeof v === 'string' && (SAVINGS_PROFILES as readonly string[]).includes(v))) {
          throw new SettingsError(key, `savings_profile must be one of ${SAVINGS_PROFILES.join(', ')}, or null`);
        }
        next.savings_profile = v as SavingsProfile | null;
        break;
    }
  }
  return next;
}

/** The persisted/served JSON of the settings (always the eight keys, in order). */
export function settingsJson(s: Readonly<HookSettings>): HookSettings {
  const out = {} as Record<string, unknown>;
  for (const k of SETTING_KEYS) out[k] = s[k];
  return out as unknown as HookSettings;
}

/**
 * Engine settings for a hook call: `base` (tool exclusions, item cap), then the savings
 * profile, then every knob whose value differs from the hook default (so a profile decides
 * what the operator left alone).
 */
export function engineSettings(s: Readonly<HookSettings>, base: Readonly<CompressSettings> = DEFAULT_SETTINGS): CompressSettings {
  const profile = s.savings_profile;
  const start: CompressSettings = {
    ...base,
    compressUserMessages: HOOK_DEFAULTS.compress_user_messages,
    compressSystemMessages: HOOK_DEFAULTS.compress_system_messages,
    protectRecent: HOOK_DEFAULTS.protect_recent,
    protectAnalysisContext: HOOK_DEFAULTS.protect_analysis_context,
    targetRatio: HOOK_DEFAULTS.target_ratio,
    minTokensToCompress: HOOK_DEFAULTS.min_tokens_to_compress,
    ...(profile ? PROFILE_SETTINGS[profile] : {}),
    savingsProfile: profile,
  };
  const explicit: Record<string, unknown> = {};
  for (const k of SETTING_KEYS) {
    if (k === 'kompress_model' || k === 'savings_profile') continue;
    if (s[k] !== HOOK_DEFAULTS[k]) explicit[k] = s[k];
  }
  return resolveSettings(explicit, start);
}
