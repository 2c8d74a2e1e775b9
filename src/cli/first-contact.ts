/**
 * The start-up announcement of `headroom-ts proxy`. In a terminal it is one line a person can
 * act on: where it listens, the dashboard, the workspace, and the base URLs to export. Anywhere
 * else (a pipe, a service manager, a log shipper) it is the JSON log line with the same facts.
 */
import type { Config } from '../config/index.js';

export interface Listening {
  /** Bound address (`127.0.0.1`, `::`, ...). */
  host: string;
  port: number;
  url: string;
}

const UNSPECIFIED = new Set(['0.0.0.0', '::', '']);

/** The URL a client on this machine uses (a wildcard bind is reached through loopback). */
export function localUrl(l: Listening): string {
  return UNSPECIFIED.has(l.host) ? `http://127.0.0.1:${l.port}` : l.url;
}

export interface StartFacts {
  url: string;
  dashboard: string | null;
  workspace: string;
  anthropic_base_url: string;
  openai_base_url: string;
  version: string;
}

export function startFacts(l: Listening, config: Config, version: string): StartFacts {
  const local = localUrl(l);
  return {
    url: l.url,
    dashboard: config.dashboard ? `${local}/dashboard` : null,
    workspace: config.stateless ? `${config.workspaceDir} (stateless: nothing is written)` : config.workspaceDir,
    anthropic_base_url: local,
    openai_base_url: `${local}/v1`,
    version,
  };
}

/** `headroom-ts 0.1.0 listening on http://127.0.0.1:8787 · dashboard ... · workspace ... · export ...` */
export function firstContactLine(f: StartFacts): string {
  return [
    `headroom-ts ${f.version} listening on ${f.url}`,
    f.dashboard ? `dashboard ${f.dashboard}` : 'dashboard off',
    `workspace ${f.workspace}`,
    `export ANTHROPIC_BASE_URL=${f.anthropic_base_url} OPENAI_BASE_URL=${f.openai_base_url}`,
  ].join(' · ');
}
