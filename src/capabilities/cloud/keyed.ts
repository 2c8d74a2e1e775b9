/**
 * Azure OpenAI and the Gemini API from the provider registry: when the routing file has a
 * `format: azure` (or `format: gemini`) entry, that platform's native paths go to the entry
 * named by `x-headroom-provider`, else to the first one, instead of the `--azure-openai-*` /
 * `--gemini-*` flags (which serve when the file has none).
 *
 * - The resolver makes the route (Azure deployments priced by the entry's `deployments`).
 * - The `cloud-entry` link (position 645, before the proxy's flag-driven `cloud-keys` at 650)
 *   sets the call's target: the entry's `base_url` and, when it has keys (`api_keys` or
 *   `api_key_env`), the next key of its pool (Azure `api-key`, Gemini `x-goog-api-key`) in
 *   place of the client's credentials. An answer of 401, 403 or 429 is dropped and the call
 *   made again with the entry's next untried key; once every key was tried the client gets
 *   that answer. Without keys the client's own credentials pass through.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from '../../core/logger.js';
import { cloudPlatformOf, cloudRouteWith } from '../../providers/cloud-routes.js';
import type { ProviderRoute } from '../../providers/routes.js';
import { KeyPool, type KeyRotation, type Provider, type Registry, shouldRotateKey } from '../../routing/index.js';
import type { CallHandler, ForwardCall, ForwardLink, UpstreamTarget } from '../proxy/api.js';

export const CLOUD_ENTRY_POSITION = 645;

const EMPTY = new Map<string, string>();

/** The query string without `key=` parameters (a Gemini key in the URL). */
function withoutKeyParam(search: string): string {
  if (!search.includes('key=')) return search;
  const q = new URLSearchParams(search.slice(1));
  q.delete('key');
  const s = q.toString();
  return s ? `?${s}` : '';
}

export class KeyedEntries {
  private readonly entries = new WeakMap<ProviderRoute, Provider>();
  private readonly pools = new WeakMap<Provider, KeyPool>();
  private readonly maps = new WeakMap<Provider, ReadonlyMap<string, string>>();

  /** `registry`: the registry in use now (a reload replaces it). */
  constructor(private readonly registry: () => Registry) {}

  private entryFor(format: 'azure' | 'gemini', headers: IncomingHttpHeaders): Provider | null {
    const providers = this.registry().providers;
    const named = headers['x-headroom-provider'];
    if (typeof named === 'string') {
      const p = providers.get(named);
      if (p && p.format === format) return p;
    }
    for (const p of providers.values()) if (p.format === format) return p;
    return null;
  }

  private deployments(p: Provider): ReadonlyMap<string, string> {
    if (!p.deployments) return EMPTY;
    let m = this.maps.get(p);
    if (!m) this.maps.set(p, (m = new Map(Object.entries(p.deployments))));
    return m;
  }

  readonly resolve = (method: string, path: string, headers: IncomingHttpHeaders): ProviderRoute | null => {
    if (method !== 'POST') return null;
    const platform = cloudPlatformOf(path);
    if (!platform) return null;
    const entry = this.entryFor(platform, headers);
    if (!entry) return null;
    const route = cloudRouteWith(method, path, this.deployments(entry));
    if (route) this.entries.set(route, entry);
    return route;
  };

  of(route: ProviderRoute): Provider | undefined {
    return this.entries.get(route);
  }

  pool(p: Provider): KeyPool | null {
    if (p.apiKeys.length === 0) return null;
    let pool = this.pools.get(p);
    if (!pool) this.pools.set(p, (pool = new KeyPool(p.apiKeys)));
    return pool;
  }
}

function targetOf(call: ForwardCall, entry: Provider, key: string | null): UpstreamTarget {
  const ex = call.ex;
  const azure = entry.format === 'azure';
  const base = { provider: entry.name, format: entry.format, baseUrl: entry.baseUrl, model: ex.facts?.model ?? '' };
  if (key === null) return { ...base, dropHeaders: ['x-headroom-provider'] };
  return {
    ...base,
    setHeaders: azure ? { 'api-key': key } : { 'x-goog-api-key': key },
    dropHeaders: ['authorization', 'x-headroom-provider', ...(azure ? [] : ['api-key'])],
    ...(azure ? {} : { path: ex.path + withoutKeyParam(ex.search) }),
  };
}

export function cloudEntryLink(entries: KeyedEntries, log: Logger): ForwardLink {
  return {
    name: 'cloud-entry',
    position: CLOUD_ENTRY_POSITION,
    apis: ['chat', 'responses', 'generate_content'],
    wrap: (next) => (call, handler) => {
      const entry = call.target ? undefined : entries.of(call.ex.route);
      if (!entry) return next(call, handler);
      const pool = entries.pool(entry);
      const rotation = pool?.begin() ?? null;
      const send = (): void => next({ ...call, target: targetOf(call, entry, rotation?.current() ?? null) }, rotating(call, handler, rotation, pool, () => {
        log.warn({ provider: entry.name, key: rotation?.position() ?? null }, 'upstream refused the key; trying the provider\'s next key');
        send();
      }));
      send();
    },
  };
}

/** Passes a response on, or drops a refused-key answer and sends again with the next key. */
function rotating(call: ForwardCall, out: CallHandler, rotation: KeyRotation | null, pool: KeyPool | null, again: () => void): CallHandler {
  let dropping = false;
  return {
    onHeaders(status, headers, control) {
      if (rotation && pool && !call.ex.closed && shouldRotateKey(status) && rotation.attempts < pool.size) {
        dropping = true;
        return;
      }
      out.onHeaders(status, headers, control);
    },
    onData(chunk, control) {
      if (!dropping) out.onData(chunk, control);
    },
    onEnd() {
      if (!dropping) return out.onEnd();
      if (rotation!.next() === null) return out.onError({ kind: 'other', midBody: false, status: 502, type: 'upstream_client_error', message: 'every key of the provider was refused' });
      again();
    },
    onError(f) {
      out.onError(f);
    },
  };
}
