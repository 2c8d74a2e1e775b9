/**
 * The environment convention for providers the config file names: `<P>_API_KEY`,
 * `<P>_BASE_URL`, `<P>_API_FORMAT`, where `<P>` is the provider name upper-cased with `-`
 * written `_` (`my-vllm` -> `MY_VLLM_API_KEY`). As everywhere in the config, the environment
 * wins over the file. `<P>_API_KEY` may hold several keys separated by whitespace (rotated);
 * `!PASSTHRU` means "send the client's key" (no server-side key).
 */
import { PROVIDER_FORMATS, type ProviderFileEntry, type ProviderFormat, RoutingConfigError } from './schema.js';

export const PASSTHRU = '!PASSTHRU';

export interface EnvProviderSettings {
  format?: ProviderFormat;
  baseUrl?: string;
  /** Keys from `<P>_API_KEY`; `[]` when it says `!PASSTHRU`. Absent when the variable is unset. */
  apiKeys?: string[];
  /** Which variables supplied a value (names only, never values). */
  from: string[];
}

export function envPrefix(provider: string): string {
  return provider.toUpperCase().replace(/-/g, '_');
}

/** Reads `<P>_API_KEY`, `<P>_BASE_URL`, `<P>_API_FORMAT` for one provider name. */
export function envSettings(provider: string, env: NodeJS.ProcessEnv): EnvProviderSettings {
  const p = envPrefix(provider);
  const out: EnvProviderSettings = { from: [] };
  const key = env[`${p}_API_KEY`]?.trim();
  if (key) {
    out.apiKeys = key === PASSTHRU ? [] : key.split(/\s+/).filter(Boolean);
    out.from.push(`${p}_API_KEY`);
  }
  const base = env[`${p}_BASE_URL`]?.trim();
  if (base) {
    out.baseUrl = base;
    out.from.push(`${p}_BASE_URL`);
  }
  const fmt = env[`${p}_API_FORMAT`]?.trim().toLowerCase();
  if (fmt) {
    const format = PROVIDER_FORMATS.find((f) => f === fmt);
    if (!format) {
      throw new RoutingConfigError(`Invalid routing configuration: ${p}_API_FORMAT = ${JSON.stringify(fmt)}: accepted: ${PROVIDER_FORMATS.join(', ')}`);
    }
    out.format = format;
    out.from.push(`${p}_API_FORMAT`);
  }
  return out;
}

/** Keys named by `api_key_env`, split on whitespace like `<P>_API_KEY`. */
export function keysFromEnvVar(name: string, env: NodeJS.ProcessEnv): string[] {
  const v = env[name]?.trim();
  if (!v || v === PASSTHRU) return [];
  return v.split(/\s+/).filter(Boolean);
}

export type { ProviderFileEntry };
