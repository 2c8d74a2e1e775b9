import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { Field } from '../src/config/field.js';
import { allFields, ConfigError, configTableMarkdown, exampleConfigYaml, loadConfig } from '../src/config/index.js';

const dir = mkdtempSync(join(tmpdir(), 'headroom-config-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('config', () => {
  it('has Headroom defaults', () => {
    const { config, sources } = loadConfig({ env: {} });
    expect(config.host).toBe('127.0.0.1');
    expect(config.port).toBe(8787);
    expect(config.anthropicApiUrl).toBe('https://api.anthropic.com');
    expect(config.openaiApiUrl).toBe('https://api.openai.com');
    expect(config.retryMaxAttempts).toBe(3);
    expect(config.maxBodyBytes).toBe(32 * 1024 * 1024);
    expect(config.workspaceDir).toBe(join(homedir(), '.headroom'));
    expect(sources.port).toBe('default');
  });

  it('precedence: defaults < file < env < flags', () => {
    const cfg = file('a.yaml', 'port: 9001\nhost: 0.0.0.0\nretry_max_attempts: 5\nlog-level: debug\n');
    const { config, sources } = loadConfig({ configFile: cfg, env: { HEADROOM_PORT: '9002', HEADROOM_RETRY_MAX_ATTEMPTS: '4' }, flags: { port: '9003' } });
    expect(config.port).toBe(9003);
    expect(sources.port).toBe('flag --port');
    expect(config.retryMaxAttempts).toBe(4);
    expect(sources.retryMaxAttempts).toBe('env HEADROOM_RETRY_MAX_ATTEMPTS');
    expect(config.host).toBe('0.0.0.0');
    expect(sources.host).toBe(`file ${cfg}`);
    expect(config.logLevel).toBe('debug');
  });

  it('reads JSON config files and HEADROOM_CONFIG', () => {
    const cfg = file('b.json', JSON.stringify({ maxBodyBytes: '1MiB', stateless: 'yes' }));
    const { config } = loadConfig({ env: { HEADROOM_CONFIG: cfg } });
    expect(config.maxBodyBytes).toBe(1024 * 1024);
    expect(config.stateless).toBe(true);
  });

  it('trims upstream URLs and uses the Headroom env names', () => {
    const { config } = loadConfig({ env: { ANTHROPIC_TARGET_API_URL: 'http://127.0.0.1:9/v1/', OPENAI_TARGET_API_URL: 'https://gw.example.test/openai/' } });
    expect(config.anthropicApiUrl).toBe('http://127.0.0.1:9');
    expect(config.openaiApiUrl).toBe('https://gw.example.test/openai');
  });

  it.each([
    [{ HEADROOM_PORT: 'abc' }, /port \(env HEADROOM_PORT\) = "abc".*Accepted: an integer from 0 to 65535/],
    [{ HEADROOM_PORT: '70000' }, /port .*Accepted: an integer from 0 to 65535/],
    [{ HEADROOM_LOG_LEVEL: 'loud' }, /logLevel .*Accepted: one of trace, debug, info, warn, error, fatal, silent/],
    [{ ANTHROPIC_TARGET_API_URL: 'ftp://x' }, /anthropicApiUrl .*Accepted: an http:\/\/ or https:\/\/ URL/],
    [{ HEADROOM_STATELESS: 'maybe' }, /stateless .*Accepted: true\/false/],
    [{ HEADROOM_MAX_BODY_BYTES: '12 parsecs' }, /maxBodyBytes .*Accepted: a byte size/],
    [{ HEADROOM_REQUEST_TIMEOUT: '0' }, /requestTimeoutSeconds .*Accepted: a number above 0/],
  ])('rejects bad values with the field, the source and what is accepted (%j)', (env, re) => {
    expect(() => loadConfig({ env })).toThrow(ConfigError);
    expect(() => loadConfig({ env })).toThrow(re);
  });

  it('rejects unknown keys and broken files', () => {
    expect(() => loadConfig({ env: {}, configFile: file('c.yaml', 'prot: 1\n') })).toThrow(/Unknown option "prot"/);
    expect(() => loadConfig({ env: {}, configFile: file('d.yaml', '- a\n- b\n') })).toThrow(/mapping/);
    expect(() => loadConfig({ env: {}, configFile: file('e.yaml', 'port: [1, 2\n') })).toThrow(/not valid YAML/);
    expect(() => loadConfig({ env: {}, configFile: join(dir, 'missing.yaml') })).toThrow(/Cannot read config file/);
  });

  it('never echoes the proxy token in errors', () => {
    expect(() => loadConfig({ env: {}, overrides: { proxyToken: 42 as unknown as string } })).toThrow(/<redacted>/);
  });

  it('every config key is the camelCase of its flag (commander relies on it)', () => {
    for (const [key, f] of Object.entries(allFields) as [string, Field<unknown>][]) {
      expect(f.flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())).toBe(key);
    }
  });

  it('the README configuration table is up to date', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(configTableMarkdown());
  });

  it('examples/config.yaml is up to date, names every option, and loading it gives the defaults', () => {
    const file = fileURLToPath(new URL('../examples/config.yaml', import.meta.url));
    expect(readFileSync(file, 'utf8'), 'run `npm run docs:config`').toBe(exampleConfigYaml());
    const keys = Object.keys(parseYaml(readFileSync(file, 'utf8')) as object);
    expect(keys.sort()).toEqual(Object.values(allFields).map((f) => f.flag.replace(/-/g, '_')).sort());
    const loaded = loadConfig({ env: {}, configFile: file });
    // the routing registry is read from the config file itself unless another file is named
    expect(loaded.config).toEqual({ ...loadConfig({ env: {} }).config, routingConfig: file });
    expect(new Set(Object.values(loaded.sources))).toEqual(new Set([`file ${file}`]));
  });
});
