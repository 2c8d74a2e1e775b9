/**
 * Builds the one typed Config from, in increasing priority: defaults, an optional config
 * file (YAML or JSON), environment variables and CLI flags. Any invalid value throws a
 * ConfigError naming the field, where the value came from and what is accepted.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ZodError } from 'zod';
import type { Field, RawValue } from './field.js';
import { allFields, type Config, type ConfigKey } from './fields/index.js';
import { FILE_SECTIONS } from './sections.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export type Source = 'default' | `file ${string}` | `env ${string}` | `flag --${string}` | 'override';

export interface LoadInput {
  /** Flag values keyed by config key (camelCase), as given on the command line (strings). */
  flags?: Partial<Record<ConfigKey, RawValue>>;
  env?: NodeJS.ProcessEnv;
  /** Path of a YAML/JSON config file; when absent, `HEADROOM_CONFIG` is consulted. */
  configFile?: string | null;
  /** Programmatic overrides (library use, tests): highest priority, still validated. */
  overrides?: Partial<Record<ConfigKey, RawValue>>;
}

export interface LoadedConfig {
  config: Config;
  sources: Record<ConfigKey, Source>;
  configFile: string | null;
}

const fieldEntries = Object.entries(allFields) as [ConfigKey, Field<unknown>][];

/** Map of every accepted file key spelling (kebab, snake, camel) to the config key. */
const fileKeyIndex = new Map<string, ConfigKey>();
for (const [key, f] of fieldEntries) {
  fileKeyIndex.set(key, key);
  fileKeyIndex.set(f.flag, key);
  fileKeyIndex.set(f.flag.replace(/-/g, '_'), key);
}

function describeRaw(raw: RawValue): string {
  if (typeof raw === 'string') return JSON.stringify(raw.length > 80 ? `${raw.slice(0, 77)}...` : raw);
  return JSON.stringify(raw) ?? String(raw);
}

function validate(key: ConfigKey, f: Field<unknown>, raw: RawValue, source: Source): unknown {
  try {
    return f.parse(raw);
  } catch (err) {
    const reason = err instanceof ZodError ? err.issues.map((i) => i.message).join('; ') : (err as Error).message;
    const shown = key === 'proxyToken' || f.secret ? '"<redacted>"' : describeRaw(raw);
    throw new ConfigError(
      `Invalid configuration: ${key} (${source}) = ${shown}: ${reason}. Accepted: ${f.accepted}.`,
    );
  }
}

function readConfigFile(path: string): Record<string, RawValue> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`Cannot read config file ${path}: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = text.trim() === '' ? {} : parseYaml(text);
  } catch (err) {
    throw new ConfigError(`Config file ${path} is not valid YAML/JSON: ${(err as Error).message}`);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(`Config file ${path} must contain a mapping of option names to values.`);
  }
  return data as Record<string, RawValue>;
}

export function expandHome(p: string): string {
  if (p === '~') return homedir();
  if (p.startsWith('~/')) return resolve(homedir(), p.slice(2));
  return resolve(p);
}

export function loadConfig(input: LoadInput = {}): LoadedConfig {
  const env = input.env ?? process.env;
  const values: Record<string, unknown> = {};
  const sources = {} as Record<ConfigKey, Source>;

  for (const [key, f] of fieldEntries) {
    values[key] = f.default;
    sources[key] = 'default';
  }

  const configFile = input.configFile ?? (env.HEADROOM_CONFIG?.trim() || null);
  if (configFile) {
    const data = readConfigFile(configFile);
    for (const [name, raw] of Object.entries(data)) {
      // the routing sections are read from the routing file by the capabilities that use them
      if (FILE_SECTIONS.has(name)) continue;
      const key = fileKeyIndex.get(name);
      if (!key) {
        throw new ConfigError(`Unknown option "${name}" in config file ${configFile}. Known options: ${fieldEntries.map(([, f]) => f.flag).join(', ')}.`);
      }
      const source: Source = `file ${configFile}`;
      values[key] = validate(key, allFields[key], raw, source);
      sources[key] = source;
    }
  }

  for (const [key, f] of fieldEntries) {
    let found = false;
    for (const name of f.env) {
      const raw = env[name];
      if (raw === undefined) continue;
      const source: Source = `env ${name}`;
      values[key] = validate(key, f, raw, source);
      sources[key] = source;
      found = true;
      break;
    }
    if (found) continue;
    for (const name of f.negatedEnv) {
      const raw = env[name];
      if (raw === undefined) continue;
      const source: Source = `env ${name}`;
      values[key] = !(validate(key, f, raw, source) as boolean);
      sources[key] = source;
      break;
    }
  }

  for (const [key, raw] of Object.entries(input.flags ?? {}) as [ConfigKey, RawValue][]) {
    if (raw === undefined) continue;
    const f = allFields[key];
    const source: Source = `flag --${f.flag}`;
    values[key] = validate(key, f, raw, source);
    sources[key] = source;
  }

  for (const [key, raw] of Object.entries(input.overrides ?? {}) as [ConfigKey, RawValue][]) {
    if (raw === undefined) continue;
    const f = allFields[key];
    if (!f) throw new ConfigError(`Unknown configuration key "${key}".`);
    values[key] = validate(key, f, raw, 'override');
    sources[key] = 'override';
  }

  values.workspaceDir = expandHome(values.workspaceDir as string);
  // the routing registry is read from the config file unless another file is named
  if (values.routingConfig === null && configFile) values.routingConfig = configFile;
  const config = Object.freeze(values) as unknown as Config;
  return { config, sources, configFile };
}

/** Test and library helper: a full config from defaults plus overrides. */
export function configWith(overrides: Partial<Record<ConfigKey, RawValue>> = {}, env: NodeJS.ProcessEnv = {}): Config {
  return loadConfig({ env, overrides }).config;
}
