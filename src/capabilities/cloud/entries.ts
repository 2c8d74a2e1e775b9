/**
 * The cloud providers of the routing file (`--routing-config`, default the `--config` file):
 * the `providers` entries with `format: bedrock` or `format: vertex` (validated by the routing
 * schema), in file order. The plugin takes the file the routing capability parsed (and each
 * reload of it); `cloudProvidersOf` reads it itself when no routing capability is installed.
 */
import type { Config } from '../../config/index.js';
import { readRoutingFile } from '../../routing/file.js';
import { parseRoutingFile } from '../../routing/schema.js';
import type { ProviderFileEntry } from '../../routing/schema.js';

export interface CloudProvider {
  name: string;
  format: 'bedrock' | 'vertex';
  /** Base URL override (tests, VPC endpoints); absent: the platform's public regional endpoint. */
  baseUrl: string | null;
  region: string | null;
  project: string | null;
  /** How the proxy authenticates upstream. */
  auth:
    | { kind: 'client' }
    | { kind: 'aws-static'; accessKeyId: string; secretAccessKey: string; sessionToken?: string }
    | { kind: 'aws-chain'; profile?: string }
    | { kind: 'google'; keyFile?: string };
}

function authOf(e: ProviderFileEntry, format: 'bedrock' | 'vertex'): CloudProvider['auth'] {
  if (e.credentials === 'client') return { kind: 'client' };
  if (format === 'bedrock') {
    if (e.access_key_id && e.secret_access_key) {
      return { kind: 'aws-static', accessKeyId: e.access_key_id, secretAccessKey: e.secret_access_key, ...(e.session_token ? { sessionToken: e.session_token } : {}) };
    }
    if (e.profile || e.credentials === 'chain') return { kind: 'aws-chain', ...(e.profile ? { profile: e.profile } : {}) };
    return { kind: 'client' };
  }
  if (e.credentials_file) return { kind: 'google', keyFile: e.credentials_file };
  if (e.credentials === 'adc') return { kind: 'google' };
  return { kind: 'client' };
}

/** The cloud providers among a file's `providers` (throws RoutingConfigError naming a bad field). */
export function cloudProvidersFrom(sections: Record<string, unknown>): CloudProvider[] {
  const file = parseRoutingFile({ providers: sections.providers ?? {} });
  const out: CloudProvider[] = [];
  for (const [name, entry] of Object.entries(file.providers ?? {})) {
    if (!entry || (entry.format !== 'bedrock' && entry.format !== 'vertex')) continue;
    out.push({
      name,
      format: entry.format,
      baseUrl: entry.base_url ? entry.base_url.replace(/\/+$/, '') : null,
      region: entry.region ?? null,
      project: entry.project ?? null,
      auth: authOf(entry, entry.format),
    });
  }
  return out;
}

/** The cloud providers of a config's routing file (none without one). */
export function cloudProvidersOf(config: Pick<Config, 'routingConfig'>): CloudProvider[] {
  return config.routingConfig ? cloudProvidersFrom(readRoutingFile(config.routingConfig)) : [];
}
