/**
 * Builds the provider registry from the config file's routing section, the environment
 * convention and the two default upstreams (`--anthropic-api-url`, `--openai-api-url`), then
 * resolves every alias and fallback once, so a bad reference fails at load, never per request.
 *
 * Base URLs follow each SDK's convention: an openai-format `base_url` includes its version
 * path (`https://api.openai.com/v1`, `http://127.0.0.1:11434/v1`, `.../v1beta/openai`) and
 * requests go to `<base_url>/chat/completions`; an anthropic-format `base_url` is the host
 * (`https://api.anthropic.com`; a trailing `/v1` is dropped) and requests go to
 * `<base_url>/v1/messages`; a gemini-format `base_url` is the host too
 * (`https://generativelanguage.googleapis.com`; a trailing `/v1beta` is dropped) and requests
 * go to `<base_url>/v1beta/models/{model}:generateContent`; an azure-format `base_url` is the
 * resource endpoint (`https://<resource>.openai.azure.com`; a trailing `/openai` is dropped)
 * and requests go to `<base_url>/openai/deployments/{deployment}/chat/completions`.
 */
import { envSettings, keysFromEnvVar } from './env.js';
import { literalLength } from './glob.js';
import { type ApiFormat, type ProviderFormat, type RoutingFile, PROVIDER_NAME, RoutingConfigError, parseRoutingFile } from './schema.js';

export interface Provider {
  readonly name: string;
  readonly format: ProviderFormat;
  /** Without a trailing `/`; see the module comment for what each format expects. */
  readonly baseUrl: string;
  /** Server-side keys, rotated; empty: the client's own key is forwarded. */
  readonly apiKeys: readonly string[];
  /** Where the keys came from (a variable name or `file`), for diagnostics; never the keys. */
  readonly keySource: string | null;
  /** True for the two providers made from `--anthropic-api-url` / `--openai-api-url`. */
  readonly builtIn: boolean;
  /** Azure: deployment name -> the model it serves (for pricing). */
  readonly deployments?: Readonly<Record<string, string>>;
}

/** A reference resolved to one provider and the model name that provider is sent. */
export interface ModelTarget {
  readonly provider: string;
  readonly model: string;
}

export interface AliasPattern {
  readonly pattern: string;
  readonly target: ModelTarget;
}

export interface Registry {
  readonly providers: ReadonlyMap<string, Provider>;
  /** Provider used for a bare model, by the format the client spoke. */
  readonly defaults: Readonly<Record<ApiFormat, string>>;
  /** Exact aliases (case-sensitive), resolved to their final target. */
  readonly aliases: ReadonlyMap<string, ModelTarget>;
  /** Wildcard aliases, most specific first. */
  readonly patterns: readonly AliasPattern[];
  /** `provider:model` -> fallback targets in order. */
  readonly fallbacks: ReadonlyMap<string, readonly ModelTarget[]>;
  /** The file named providers: a `x:` prefix naming no provider is an error (else a bare model). */
  readonly strictPrefixes: boolean;
}

export interface RegistryInput {
  /** The parsed config file object (only its routing keys are read), or null. */
  file?: unknown;
  env?: NodeJS.ProcessEnv;
  /** The default upstreams in the config's own form (no `/v1`). */
  defaults: { anthropicUrl: string; openaiUrl: string };
}

export const MAX_ALIAS_CHAIN = 8;

export const refOf = (t: ModelTarget): string => `${t.provider}:${t.model}`;

const trimSlash = (s: string) => s.replace(/\/+$/, '');

function normaliseBase(format: ProviderFormat, url: string): string {
  const base = trimSlash(url);
  if (format === 'gemini' && /\/v1(beta)?$/.test(base)) return base.replace(/\/v1(beta)?$/, '');
  if (format === 'azure' && base.endsWith('/openai')) return base.slice(0, -7);
  return format === 'anthropic' && base.endsWith('/v1') ? base.slice(0, -3) : base;
}

function checkUrl(name: string, url: string, source: string): void {
  try {
    const u = new URL(url);
    if (u.protocol === 'http:' || u.protocol === 'https:') return;
  } catch {
    // fall through
  }
  throw new RoutingConfigError(`Invalid routing configuration: providers.${name} base URL (${source}) must be an http:// or https:// URL`);
}

/** Splits `provider:model` at the first colon only; model names keep their own colons. */
export function splitRef(ref: string): { prefix: string; rest: string } | null {
  const i = ref.indexOf(':');
  if (i <= 0) return null;
  return { prefix: ref.slice(0, i).toLowerCase(), rest: ref.slice(i + 1) };
}

export function buildRegistry(input: RegistryInput): Registry {
  const file: RoutingFile = parseRoutingFile(input.file ?? {});
  const env = input.env ?? {};
  const providers = new Map<string, Provider>();
  const named = file.providers ?? {};

  for (const [name, entry0] of Object.entries(named)) {
    const entry = entry0 ?? {};
    // cloud platforms (bedrock, vertex) serve their own paths (capabilities/cloud), not model routes
    if (entry.format === 'bedrock' || entry.format === 'vertex') continue;
    const fromEnv = envSettings(name, env);
    const format: ProviderFormat = fromEnv.format ?? entry.format ?? 'openai';
    const rawBase = fromEnv.baseUrl ?? entry.base_url;
    if (!rawBase) {
      throw new RoutingConfigError(
        `Invalid routing configuration: providers.${name} has no base_url (set it in the file or ${name.toUpperCase().replace(/-/g, '_')}_BASE_URL)`,
      );
    }
    checkUrl(name, rawBase, fromEnv.baseUrl ? 'env' : 'file');
    let apiKeys: string[] = [];
    let keySource: string | null = null;
    if (fromEnv.apiKeys) {
      apiKeys = fromEnv.apiKeys;
      keySource = fromEnv.from.find((v) => v.endsWith('_API_KEY')) ?? null;
    } else if (entry.api_key_env) {
      apiKeys = keysFromEnvVar(entry.api_key_env, env);
      keySource = entry.api_key_env;
      if (apiKeys.length === 0 && env[entry.api_key_env] === undefined) {
        throw new RoutingConfigError(`Invalid routing configuration: providers.${name}.api_key_env names ${entry.api_key_env}, which is not set`);
      }
    } else if (entry.api_keys) {
      apiKeys = [...entry.api_keys];
      keySource = 'file';
    }
    providers.set(name, {
      name,
      format,
      baseUrl: normaliseBase(format, rawBase),
      apiKeys: [...new Set(apiKeys)],
      keySource: apiKeys.length ? keySource : null,
      builtIn: false,
      ...(entry.deployments ? { deployments: entry.deployments } : {}),
    });
  }

  // the two default upstreams, unless the file redefines those names
  const builtIns: [string, ApiFormat, string][] = [
    ['anthropic', 'anthropic', input.defaults.anthropicUrl],
    ['openai', 'openai', `${trimSlash(input.defaults.openaiUrl)}/v1`],
  ];
  for (const [name, format, url] of builtIns) {
    if (providers.has(name)) {
      const p = providers.get(name)!;
      if (p.format !== format) {
        throw new RoutingConfigError(`Invalid routing configuration: providers.${name} must have format ${format} (it is the default ${format}-format provider)`);
      }
      continue;
    }
    providers.set(name, { name, format, baseUrl: normaliseBase(format, url), apiKeys: [], keySource: null, builtIn: true });
  }

  const strictPrefixes = Object.keys(named).length > 0;
  const partial = { providers, strictPrefixes };

  // aliases: exact names and `*` patterns, each resolved through chains now
  const rawAliases = file.model_aliases ?? {};
  const aliases = new Map<string, ModelTarget>();
  const patternsRaw: [string, string][] = [];
  for (const [name, target] of Object.entries(rawAliases)) {
    if (name.includes('*')) patternsRaw.push([name, target]);
  }
  const configTarget = (where: string, ref: string): ModelTarget | null => {
    try {
      return explicitTarget(partial, ref);
    } catch (err) {
      throw new RoutingConfigError(`Invalid routing configuration: ${where}: ${(err as Error).message}`);
    }
  };
  const resolveAliasTarget = (start: string, target: string): ModelTarget => {
    const seen = [start];
    let cur = target;
    for (let depth = 0; depth < MAX_ALIAS_CHAIN; depth++) {
      const next = rawAliases[cur];
      if (next !== undefined && !cur.includes('*')) {
        if (seen.includes(cur)) throw new RoutingConfigError(`Invalid routing configuration: model_aliases form a cycle: ${[...seen, cur].join(' -> ')}`);
        seen.push(cur);
        cur = next;
        continue;
      }
      const t = configTarget(`model_aliases.${start}`, cur);
      if (!t) {
        throw new RoutingConfigError(
          `Invalid routing configuration: model_aliases.${start} -> ${JSON.stringify(cur)} names no provider; write it as provider:model (providers: ${[...providers.keys()].join(', ')})`,
        );
      }
      return t;
    }
    throw new RoutingConfigError(`Invalid routing configuration: model_aliases.${start} chains more than ${MAX_ALIAS_CHAIN} aliases`);
  };
  for (const [name, target] of Object.entries(rawAliases)) {
    if (!name.includes('*')) aliases.set(name, resolveAliasTarget(name, target));
  }
  const patterns: AliasPattern[] = patternsRaw
    .map(([pattern, target]) => ({ pattern, target: resolveAliasTarget(pattern, target) }))
    .sort((a, b) => literalLength(b.pattern) - literalLength(a.pattern) || (a.pattern < b.pattern ? -1 : 1));

  // fallbacks: keys and targets must each name a provider (directly or through an alias)
  const fallbacks = new Map<string, ModelTarget[]>();
  const fallbackRef = (where: string, ref: string): ModelTarget => {
    const t = aliases.get(ref) ?? configTarget(where, ref);
    if (!t) {
      throw new RoutingConfigError(`Invalid routing configuration: ${where} ${JSON.stringify(ref)} names no provider or alias (providers: ${[...providers.keys()].join(', ')})`);
    }
    return t;
  };
  for (const [key, list] of Object.entries(file.fallbacks ?? {})) {
    const primary = fallbackRef('fallbacks key', key);
    const targets: ModelTarget[] = [];
    for (const ref of list) {
      const t = fallbackRef(`fallbacks.${key} entry`, ref);
      if (refOf(t) !== refOf(primary) && !targets.some((x) => refOf(x) === refOf(t))) targets.push(t);
    }
    const k = refOf(primary);
    const existing = fallbacks.get(k) ?? [];
    fallbacks.set(k, [...existing, ...targets.filter((t) => !existing.some((x) => refOf(x) === refOf(t)))]);
  }

  return {
    providers,
    defaults: { anthropic: 'anthropic', openai: 'openai' },
    aliases,
    patterns,
    fallbacks,
    strictPrefixes,
  };
}

/** `provider:model` naming a registered provider, else null. Throws for an empty model. */
export function explicitTarget(reg: Pick<Registry, 'providers'>, ref: string): ModelTarget | null {
  const split = splitRef(ref);
  if (!split || !reg.providers.has(split.prefix)) return null;
  if (split.rest.length === 0) throw new RoutingError(400, `Model ${JSON.stringify(ref)} names provider ${split.prefix} but no model after the colon`);
  return { provider: split.prefix, model: split.rest };
}

/** A request that cannot be routed; `status` is the HTTP status to answer with. */
export class RoutingError extends Error {
  override readonly name = 'RoutingError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export { PROVIDER_NAME };
