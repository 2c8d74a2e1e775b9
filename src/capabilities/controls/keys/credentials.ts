/**
 * The `credentials` link (position 660: after retries, translation and the model splice, so
 * every attempt and every CCR round passes it, before signing): a request admitted with a virtual key never sends a client
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
 * A credential the routing link moved from the client's headers into `setHeaders` (a provider
 * of another format without keys of its own) is the client's, not the proxy's: it is removed
 * like the rest. A provider the key may not use (`providers:` of the key) is refused with 403
 * here, where the upstream of each attempt is known. Refusals are answered to the client from
 * here (provider shape) and the call then ends as one with nothing more to write, so neither a
 * fallback nor a circuit breaker takes them for a provider failure.
 */
import type { Config } from '../../../config/index.js';
import { upstreamBase } from '../../../providers/routes.js';
import type { CallFailure, Dispatch, Exchange, ForwardCall, ForwardLink } from '../../proxy/api.js';
import { CREDENTIAL_HEADERS, keyOf, VirtualKeys } from './registry.js';

export const CREDENTIALS_LINK_POSITION = 660;

type UpstreamTarget = NonNullable<ForwardCall['target']>;

/** The default providers' environment variables for a server-side key. */
export const DEFAULT_KEY_ENV: Readonly<Record<string, string>> = { anthropic: 'ANTHROPIC_API_KEY', openai: 'OPENAI_API_KEY' };

/** The client's credential values (as sent, and without a `Bearer ` prefix). */
function clientCredentials(ex: Exchange): Set<string> {
  const out = new Set<string>();
  for (const name of CREDENTIAL_HEADERS) {
    const v = ex.req.headers[name];
    if (typeof v !== 'string' || !v.trim()) continue;
    out.add(v.trim());
    out.add(v.replace(/^bearer\s+/i, '').trim());
  }
  return out;
}

/** `setHeaders` without any credential header carrying a client credential; whether a (server) credential is left. */
function serverSide(headers: Readonly<Record<string, string>> | undefined, client: Set<string>): { headers: Record<string, string>; credential: boolean } {
  const out: Record<string, string> = {};
  let credential = false;
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (CREDENTIAL_HEADERS.includes(name.toLowerCase())) {
      if (client.has(value.trim()) || client.has(value.replace(/^bearer\s+/i, '').trim())) continue;
      credential = true;
    }
    out[name] = value;
  }
  return { headers: out, credential };
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
      // answered here, then the call ends with nothing more to write (not a provider failure)
      const refuse = (status: number, type: CallFailure['type'], message: string) => {
        ex.replyError(status, type, message);
        handler.onError({ kind: 'aborted', midBody: false, status, type, message });
      };
      const provider = ex.route.provider === 'anthropic' ? 'anthropic' : 'openai';
      // no target: the route's default upstream, as the relay would pick it
      const t: UpstreamTarget = call.target ?? { provider, format: provider, baseUrl: upstreamBase(config, ex.route.provider), model: ex.facts?.model ?? '' };
      if (!VirtualKeys.allowsProvider(key, t.provider)) {
        refuse(403, 'unauthorized', `The virtual key "${key.name}" may not use provider "${t.provider}" (allowed: ${(key.providers ?? []).join(', ')}).`);
        return;
      }
      const own = serverSide(t.setHeaders, clientCredentials(ex));
      let setHeaders = own.headers;
      if (!own.credential) {
        const envName = DEFAULT_KEY_ENV[t.provider];
        if (envName !== undefined) {
          const serverKey = serverKeys.get(t.provider);
          if (!serverKey) {
            refuse(500, 'internal', `No server-side key is configured for provider "${t.provider}": with virtual keys the client's key is never forwarded, so set ${envName} in headroom-ts's environment (or give the provider api_keys / api_key_env in providers:).`);
            return;
          }
          setHeaders = { ...setHeaders, ...credentialHeaders(t.format, serverKey) };
        }
      }
      const target: UpstreamTarget = {
        ...t,
        setHeaders,
        dropHeaders: [...new Set([...(t.dropHeaders ?? []), ...CREDENTIAL_HEADERS])],
      };
      const out: ForwardCall = { ...call, target };
      next(out, handler);
    },
  };
}
