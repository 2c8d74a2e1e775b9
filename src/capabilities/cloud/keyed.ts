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
 *   place of the client's credentials. An answer refusing the key (401, 403, 429, a quota
 *   body, Gemini's 400 `API_KEY_INVALID`) is dropped and the call made again with the
 *   entry's next untried key; once every key was tried the client gets that answer. Without
 *   keys the client's own credentials pass through.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from '../../core/logger.js';
import { cloudPlatformOf, cloudRouteWith } from '../../providers/cloud-routes.js';
import type { ProviderRoute } from '../../providers/routes.js';
import { KeyPool, type KeyRotation, type Provider, type Registry, shouldRotateKey } from '../../routing/index.js';
import type { CallHandler, FlowControl, ForwardCall, ForwardLink, UpstreamTarget } from '../proxy/api.js';

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

/** Gemini's answer to an invalid key is a 400 whose body says so. */
const INVALID_KEY = /API_KEY_INVALID|API key not valid/;
/** Error bodies larger than this are passed on as they come (not a key refusal). */
const MAX_HELD = 64 * 1024;

/**
 * Passes a response on, or, while the entry has untried keys, holds back an error answer to
 * its end and, when it refuses the key (401, 403, 429, a quota or invalid-key body), drops it
 * and sends again with the next key.
 */
function rotating(call: ForwardCall, out: CallHandler, rotation: KeyRotation | null, pool: KeyPool | null, again: () => void): CallHandler {
  let held: { status: number; headers: IncomingHttpHeaders; control: FlowControl; chunks: Buffer[]; bytes: number } | null = null;
  const release = (): void => {
    const h = held!;
    held = null;
    out.onHeaders(h.status, h.headers, h.control);
    for (const c of h.chunks) out.onData(c, h.control);
  };
  return {
    onHeaders(status, headers, control) {
      if (status >= 400 && rotation && pool && rotation.attempts < pool.size && !call.ex.closed) {
        held = { status, headers, control, chunks: [], bytes: 0 };
        return;
      }
      out.onHeaders(status, headers, control);
    },
    onData(chunk, control) {
      if (!held) return out.onData(chunk, control);
      held.chunks.push(chunk);
      held.bytes += chunk.length;
      if (held.bytes > MAX_HELD) release();
    },
    onEnd() {
      if (!held) return out.onEnd();
      const text = Buffer.concat(held.chunks).toString('utf8', 0, Math.min(held.bytes, 4096));
      if (!call.ex.closed && (shouldRotateKey(held.status, text) || INVALID_KEY.test(text)) && rotation!.next() !== null) {
        held = null;
        return again();
      }
      release();
      out.onEnd();
    },
    onError(f) {
      // nothing of a held answer reached the client
      const wasHeld = held !== null;
      held = null;
      out.onError(wasHeld ? { ...f, midBody: false } : f);
    },
  };
}
