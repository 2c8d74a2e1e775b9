/**
 * Headroom's `headroom proxy` flags and environment variables that have no equivalent in
 * headroom-ts. They are accepted (so a Headroom command line or unit file starts as it is) and
 * each one that is set is named in one warning at start, with what to do instead. Options
 * with an equivalent are ordinary config fields (`src/config/fields`) and need nothing here.
 */
import { type Command, Option } from 'commander';

export interface HeadroomOnlyOption {
  /** Flag without dashes; `no-` flags are switches. */
  flag: string;
  /** Takes a value (`--workers 4`); otherwise a switch. */
  takesValue: boolean;
  env: readonly string[];
  /** What headroom-ts does instead. */
  instead: string;
  /** Values that ask for what headroom-ts does anyway (no warning). */
  harmless?: (value: string) => boolean;
}

const on = (v: string) => ['1', 'true', 'yes', 'on'].includes(v.trim().toLowerCase());
const ONLY_ANTHROPIC_OPENAI = 'only Anthropic and OpenAI upstreams are proxied (--anthropic-api-url / --openai-api-url can point at any compatible gateway)';

export const HEADROOM_ONLY_OPTIONS: readonly HeadroomOnlyOption[] = [
  { flag: 'workers', takesValue: true, env: ['HEADROOM_WORKERS'], harmless: (v) => v.trim() === '1', instead: 'headroom-ts is one process; run several on one workspace directory, they share the stats and CCR stores (docs/deploy.md)' },
  { flag: 'limit-concurrency', takesValue: true, env: ['HEADROOM_LIMIT_CONCURRENCY'], instead: 'there is no connection limit; put a reverse proxy in front to limit connections (docs/deploy.md)' },
  { flag: 'backend', takesValue: true, env: ['HEADROOM_BACKEND'], harmless: (v) => v.trim().toLowerCase() === 'anthropic', instead: ONLY_ANTHROPIC_OPENAI },
  { flag: 'cloudcode-api-url', takesValue: true, env: ['CLOUDCODE_TARGET_API_URL'], instead: ONLY_ANTHROPIC_OPENAI },
  { flag: 'vertex-api-url', takesValue: true, env: ['VERTEX_TARGET_API_URL'], instead: ONLY_ANTHROPIC_OPENAI },
  { flag: 'bedrock-api-url', takesValue: true, env: ['BEDROCK_TARGET_API_URL'], instead: ONLY_ANTHROPIC_OPENAI },
  { flag: 'no-ccr-marker', takesValue: false, env: ['HEADROOM_NO_CCR_MARKER'], instead: 'every lossy cut keeps its retrieval marker (it is how the model gets the original back)' },
  { flag: 'no-ccr-proactive-expansion', takesValue: false, env: ['HEADROOM_NO_CCR_PROACTIVE_EXPANSION'], harmless: () => true, instead: 'there is no proactive expansion' },
  { flag: 'no-subscription-tracking', takesValue: false, env: ['HEADROOM_NO_SUBSCRIPTION_TRACKING'], harmless: () => true, instead: 'there is no subscription-window tracking' },
  { flag: 'subscription-poll-interval', takesValue: true, env: ['HEADROOM_SUBSCRIPTION_POLL_INTERVAL'], instead: 'there is no subscription-window tracking' },
  // `--telemetry` / `--no-telemetry` (HEADROOM_TELEMETRY=on|off): only turning it on asks for something missing
  { flag: 'telemetry', takesValue: false, env: ['HEADROOM_TELEMETRY'], harmless: (v) => !on(v), instead: 'headroom-ts never sends anonymous telemetry; OpenTelemetry export is --otel-metrics-enabled / --otel-traces-enabled' },
  { flag: 'proxy-extension', takesValue: true, env: ['HEADROOM_PROXY_EXTENSIONS'], instead: 'there are no proxy extensions' },
];

/** Headroom variables with no flag and no equivalent: named in the start-up warning when set. */
export const HEADROOM_ONLY_ENV: Readonly<Record<string, string>> = {
  HEADROOM_CORS_ORIGINS: 'no CORS headers are sent (the dashboard is served from the proxy itself)',
  HEADROOM_CONTEXT_TOOL: 'there is no CLI context-tool (RTK, lean-ctx) integration',
  HEADROOM_PROXY_TRUSTED_GATEWAY_CIDRS: 'X-Forwarded-For is never trusted for client identity',
  HEADROOM_SAVINGS_EVENTS_PATH: 'per-request savings events are kept in the SQLite stats store',
  HEADROOM_DEPLOYMENT_PROFILE: '/health has no deployment block',
  HEADROOM_DEPLOYMENT_PRESET: '/health has no deployment block',
  HEADROOM_DEPLOYMENT_RUNTIME: '/health has no deployment block',
  HEADROOM_DEPLOYMENT_SUPERVISOR: '/health has no deployment block',
  HEADROOM_DEPLOYMENT_SCOPE: '/health has no deployment block',
};

/** Variables clients read (SDKs, `wrap` sets some) or headroom-ts reads outside the config fields: never warned about. */
export const CLIENT_ENV: readonly string[] = ['HEADROOM_BASE_URL', 'HEADROOM_API_KEY', 'HEADROOM_STACK', 'HEADROOM_CONFIG'];

const attr = (flag: string) => flag.replace(/^no-/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Adds the Headroom-only flags to a command (hidden from `--help`; docs/cli.md lists them). */
export function addHeadroomOnlyOptions(cmd: Command): Command {
  for (const o of HEADROOM_ONLY_OPTIONS) {
    const help = `Headroom option without an equivalent: ${o.instead}`;
    cmd.addOption(new Option(o.takesValue ? `--${o.flag} <value>` : `--${o.flag}`, help).hideHelp());
    if (o.flag === 'telemetry') cmd.addOption(new Option('--no-telemetry', help).hideHelp());
  }
  return cmd;
}

/** One warning line per Headroom-only option or variable that is set (flag, else environment). */
export function headroomOnlyWarnings(cmd: Command, env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const o of HEADROOM_ONLY_OPTIONS) {
    const name = attr(o.flag);
    let value: string | null = null;
    let where = '';
    if (cmd.getOptionValueSource(name) === 'cli') {
      const v = cmd.getOptionValue(name) as unknown;
      // a value flag gives its value; `--no-x` gives false (it was given); `--telemetry`/`--no-telemetry` give their state
      value = typeof v === 'string' ? v : o.flag === 'telemetry' ? String(v) : 'true';
      where = o.flag === 'telemetry' && v === false ? '--no-telemetry' : `--${o.flag}`;
    } else {
      for (const e of o.env) {
        if (env[e] === undefined) continue;
        value = env[e] as string;
        where = e;
        break;
      }
    }
    if (value === null || o.harmless?.(value)) continue;
    out.push(`${where} is a Headroom option with no equivalent in headroom-ts; ignored: ${o.instead}`);
  }
  for (const [name, instead] of Object.entries(HEADROOM_ONLY_ENV)) {
    if (env[name] !== undefined) out.push(`${name} is a Headroom variable with no equivalent in headroom-ts; ignored: ${instead}`);
  }
  return out;
}

/** Every variable name a warning should not call unknown. */
export function headroomKnownEnv(): string[] {
  return [...HEADROOM_ONLY_OPTIONS.flatMap((o) => o.env), ...Object.keys(HEADROOM_ONLY_ENV), ...CLIENT_ENV];
}
