/**
 * The `credentials` link (position 650: after retries, so every attempt and every CCR round
 * passes it, before signing): a request admitted with a virtual key never sends a client
 * credential upstream. Every credential header the client sent (`CREDENTIAL_HEADERS`) is
 * dropped and the proxy's own key is sent instead:
 *
 * - the key the routing link put on the call's target (`setHeaders`, from the registry's
 *   `api_keys` / `api_key_env`);
 * - else, for the default providers (`anthropic`, `openai`: `--anthropic-api-url`,
 *   `--openai-api-url`), `ANTHROPIC_API_KEY` / `OPENAI_API_KEY` from the proxy's environment;
 *   when that is unset the call is refused (500, provider shape) naming the variable;
 * - else (a registry provider with no keys, e.g. a local Ollama) no credential at all.
 *
 * A provider the key may not use (`providers:` of the key) is refused with 403 here, where the
 * upstream of each attempt is known.
 */
import type { Config } from '../../../config/index.js';
import { upstreamBase } from '../../../providers/routes.js';
import type { CallFailure, Dispatch, ForwardCall, ForwardLink } from '../../proxy/api.js';
import { CREDENTIAL_HEADERS, keyOf, VirtualKeys } from './registry.js';

export const CREDENTIALS_LINK_POSITION = 650;

type UpstreamTarget = NonNullable<ForwardCall['target']>;

/** The default providers' environment variables for a server-side key. */
export const DEFAULT_KEY_ENV: Readonly<Record<string, string>> = { anthropic: 'ANTHROPIC_API_KEY', openai: 'OPENAI_API_KEY' };

const refused = (status: number, type: CallFailure['type'], message: string): CallFailure => ({ kind: 'other', midBody: false, status, type, message });

function carriesCredential(headers: Readonly<Record<string, string>> | undefined): boolean {
  if (!headers) return false;
  for (const name of Object.keys(headers)) if (CREDENTIAL_HEADERS.includes(name.toLowerCase())) return true;
  return false;
}

/** How a provider of `format` takes a key. */
export function credentialHeaders(format: string, key: string): Record<string, string> {
  return format === 'anthropic' ? { 'x-api-key': key } : { authorization: `Bearer ${key}` };
}

/** The server-side default keys, read once from the proxy's environment. */
export function defaultServerKeys(env: NodeJS.ProcessEnv): Map<string, string> {
  const out = new Map<string, string>();
  for (const [provider, name] of Object.entries(DEFAULT_KEY_ENV)) {
    const v = env[name]?.trim();
    if (v) out.set(provider, v);
  }
  return out;
}

export function credentialsLink(config: Config, serverKeys: ReadonlyMap<string, string>): ForwardLink {
  return {
    name: 'credentials',
    position: CREDENTIALS_LINK_POSITION,
    wrap: (next: Dispatch): Dispatch => (call, handler) => {
      const key = keyOf(call.ex);
      if (!key) {
        next(call, handler);
        return;
      }
      const ex = call.ex;
      const provider = ex.route.provider === 'anthropic' ? 'anthropic' : 'openai';
      // no target: the route's default upstream, as the relay would pick it
      const t: UpstreamTarget = call.target ?? { provider, format: provider, baseUrl: upstreamBase(config, ex.route.provider), model: ex.facts?.model ?? '' };
      if (!VirtualKeys.allowsProvider(key, t.provider)) {
        handler.onError(refused(403, 'unauthorized', `The virtual key "${key.name}" may not use provider "${t.provider}" (allowed: ${(key.providers ?? []).join(', ')}).`));
        return;
      }
      let setHeaders = t.setHeaders;
      if (!carriesCredential(setHeaders)) {
        const envName = DEFAULT_KEY_ENV[t.provider];
        if (envName !== undefined) {
          const serverKey = serverKeys.get(t.provider);
          if (!serverKey) {
            handler.onError(refused(500, 'internal', `No server-side key is configured for provider "${t.provider}": with virtual keys the client's key is never forwarded, so set ${envName} in headroom-ts's environment (or give the provider api_keys / api_key_env in providers:).`));
            return;
          }
          setHeaders = { ...setHeaders, ...credentialHeaders(t.format, serverKey) };
        }
      }
      const target: UpstreamTarget = {
        ...t,
        ...(setHeaders ? { setHeaders } : {}),
        dropHeaders: [...new Set([...(t.dropHeaders ?? []), ...CREDENTIAL_HEADERS])],
      };
      const out: ForwardCall = { ...call, target };
      next(out, handler);
    },
  };
}
