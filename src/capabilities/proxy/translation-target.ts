/**
 * The upstream target of a translated call: the target format's endpoint, and headers fixed
 * for that format. The key goes where the target format wants it (OpenAI: `Authorization:
 * Bearer`, Anthropic: `x-api-key` plus `anthropic-version`, Gemini: `x-goog-api-key`, Azure: `api-key`): the target's own key when routing
 * set one, else the client's key, converted. The client's headers of the other format
 * (`anthropic-beta`, `openai-organization`, ...) are not forwarded.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { UpstreamTarget } from './target.js';

export const ANTHROPIC_VERSION = '2023-06-01';

/** Client headers never forwarded on a translated call (the key is re-set in the target's form). */
const FOREIGN = [
  'authorization', 'x-api-key', 'api-key', 'x-goog-api-key',
  'anthropic-version', 'anthropic-beta', 'anthropic-dangerous-direct-browser-access',
  'openai-organization', 'openai-project', 'openai-beta',
];
const KEY_HEADERS = new Set(['authorization', 'x-api-key', 'api-key', 'x-goog-api-key']);

const bearer = (v: string | undefined): string | null => {
  const m = v === undefined ? null : /^Bearer\s+(.+)$/i.exec(v.trim());
  return m ? (m[1] as string) : null;
};

/** The key the client sent (`x-api-key`, or a Bearer token that is not the proxy's own). */
export function clientKey(headers: IncomingHttpHeaders, authorizationIsProxyToken: boolean): string | null {
  const x = headers['x-api-key'];
  if (typeof x === 'string' && x) return x;
  if (!authorizationIsProxyToken) return bearer(headers.authorization);
  return null;
}

function endpointPath(target: UpstreamTarget, path: string): string {
  const given = target.path;
  if (given !== undefined && given.split('?')[0]!.endsWith(path)) return given;
  return path;
}

/** `target` fixed for a call translated into its format, to `path` below its base URL. */
export function translatedTarget(target: UpstreamTarget, path: string, clientKeyValue: string | null): UpstreamTarget {
  const set: Record<string, string> = {};
  let own: string | null = null;
  for (const [name, value] of Object.entries(target.setHeaders ?? {})) {
    const lower = name.toLowerCase();
    if (KEY_HEADERS.has(lower)) own ??= lower === 'authorization' ? bearer(value) : value;
    else set[lower] = value;
  }
  const key = own ?? clientKeyValue;
  if (target.format === 'gemini') {
    if (key) set['x-goog-api-key'] = key;
  } else if (target.format === 'azure') {
    if (key) set['api-key'] = key;
  } else if (target.format === 'anthropic') {
    if (key) set['x-api-key'] = key;
    set['anthropic-version'] ??= ANTHROPIC_VERSION;
  } else if (key) set.authorization = `Bearer ${key}`;
  const drop = new Set([...(target.dropHeaders ?? []), ...FOREIGN]);
  return { ...target, path: endpointPath(target, path), setHeaders: set, dropHeaders: [...drop] };
}
