/**
 * The configured virtual keys (`keys:`), matched against what a request presents. A client's
 * SDK sends its key as `x-api-key` (Anthropic), `Authorization: Bearer` (OpenAI) or `api-key`
 * (Azure style); each of those is tried, except an `Authorization` that carried the proxy
 * token. The matched key is remembered per exchange (by identity, never by its value).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { VirtualKeyEntry } from '../../../config/fields/keys.js';
import { globMatch } from '../../../routing/glob.js';
import type { Exchange } from '../../proxy/api.js';
import { digestOf, matchDigest } from './secret.js';

/** Client headers that can carry a credential: none of them is forwarded for a virtual-key request. */
export const CREDENTIAL_HEADERS: readonly string[] = ['authorization', 'x-api-key', 'api-key', 'x-goog-api-key'];

export interface VirtualKey {
  readonly name: string;
  readonly models: readonly string[] | null;
  readonly providers: readonly string[] | null;
  readonly budgetUsd: number | null;
  readonly rpm: number | null;
  readonly tpm: number | null;
}

const bound = new WeakMap<Exchange, VirtualKey>();

/** The virtual key an exchange was admitted with (null: none, or virtual keys are off). */
export function keyOf(ex: Exchange): VirtualKey | null {
  return bound.get(ex) ?? null;
}

export function bindKey(ex: Exchange, key: VirtualKey): void {
  bound.set(ex, key);
  ex.rec.ext.virtualKey = key.name;
}

const matchesAny = (globs: readonly string[], value: string) => globs.some((g) => globMatch(g, value));

export class VirtualKeys {
  readonly keys: readonly VirtualKey[];
  private readonly digests: readonly Buffer[];
  private readonly byName: ReadonlyMap<string, VirtualKey>;

  constructor(entries: readonly VirtualKeyEntry[]) {
    this.keys = entries.map((e) => ({
      name: e.name,
      models: e.models ?? null,
      providers: e.providers ?? null,
      budgetUsd: e.budget_usd ?? null,
      rpm: e.rpm ?? null,
      tpm: e.tpm ?? null,
    }));
    this.digests = entries.map((e) => digestOf(e.hash));
    this.byName = new Map(this.keys.map((k) => [k.name, k]));
  }

  named(name: string): VirtualKey | null {
    return this.byName.get(name) ?? null;
  }

  /** The key among what the request presents (see the module comment), or null. */
  match(headers: IncomingHttpHeaders, authorizationIsProxyToken: boolean): VirtualKey | null {
    for (const given of presented(headers, authorizationIsProxyToken)) {
      const i = matchDigest(this.digests, given);
      if (i !== -1) return this.keys[i] as VirtualKey;
    }
    return null;
  }

  /** Whether the request presented anything that could be a key (for the refusal's wording). */
  static presentsAny(headers: IncomingHttpHeaders, authorizationIsProxyToken: boolean): boolean {
    return presented(headers, authorizationIsProxyToken).length > 0;
  }

  static allowsModel(key: VirtualKey, model: string): boolean {
    return key.models === null || matchesAny(key.models, model);
  }

  static allowsProvider(key: VirtualKey, provider: string): boolean {
    return key.providers === null || matchesAny(key.providers, provider);
  }
}

function presented(headers: IncomingHttpHeaders, authorizationIsProxyToken: boolean): string[] {
  const out: string[] = [];
  const x = headers['x-api-key'];
  if (typeof x === 'string' && x.trim()) out.push(x.trim());
  const azure = headers['api-key'];
  if (typeof azure === 'string' && azure.trim()) out.push(azure.trim());
  const auth = headers.authorization;
  if (!authorizationIsProxyToken && typeof auth === 'string' && /^bearer\s+\S/i.test(auth)) out.push(auth.replace(/^bearer\s+/i, '').trim());
  return out;
}
