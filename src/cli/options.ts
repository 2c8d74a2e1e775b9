/** Commander options generated from the configuration fields. */
import { type Command, Option } from 'commander';
import type { Field } from '../config/field.js';
import { allFields, type Config, ConfigError, type ConfigKey, loadConfig } from '../config/index.js';

export function addConfigOptions(cmd: Command, keys: readonly ConfigKey[] = Object.keys(allFields) as ConfigKey[]): Command {
  cmd.addOption(new Option('--config <path>', 'YAML or JSON config file (env HEADROOM_CONFIG)'));
  for (const key of keys) {
    const f = allFields[key] as Field<unknown>;
    const envNames = [...f.env, ...f.negatedEnv.map((e) => `${e} (inverted)`)];
    const env = envNames.length ? ` (env ${envNames.join(', ')})` : '';
    if (f.isBool) {
      const state = f.default === true ? 'on' : 'off';
      cmd.addOption(new Option(`--${f.flag}`, `${f.doc}${env} Default: ${state}; --no-${f.flag} turns it off.`));
      cmd.addOption(new Option(`--no-${f.flag}`, `Turn off --${f.flag}`).hideHelp());
    } else {
      const short = f.short ? `-${f.short}, ` : '';
      cmd.addOption(new Option(`${short}--${f.flag} <value>`, `${f.doc} Accepted: ${f.accepted}. Default: ${f.defaultText}${env}`));
    }
  }
  return cmd;
}

/** Picks the config flags out of commander's parsed options. */
export function flagsFrom(opts: Record<string, unknown>): Partial<Record<ConfigKey, string | boolean>> {
  const flags: Partial<Record<ConfigKey, string | boolean>> = {};
  for (const key of Object.keys(allFields) as ConfigKey[]) {
    const v = opts[key];
    if (typeof v === 'string' || typeof v === 'boolean') flags[key] = v;
  }
  return flags;
}

/** The config of a command from its options (flags, env, `--config` file); a bad value exits 2 naming the field. */
export function configFromOptions(opts: Record<string, unknown>, adjust?: (flags: Partial<Record<ConfigKey, string | boolean>>) => void): Config {
  try {
    const flags = flagsFrom(opts);
    adjust?.(flags);
    return loadConfig({ flags, configFile: (opts.config as string | undefined) ?? null }).config;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`headroom-ts: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
