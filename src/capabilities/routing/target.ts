/**
 * From a resolved model to the `UpstreamTarget` of one attempt: the provider's base URL, the
 * path of the provider's format (`/chat/completions` under an OpenAI-format base that carries
 * its version path, `/v1/messages` under an Anthropic-format host), the model it is asked for,
 * and the key headers: the proxy's own key replaces the client's (`x-api-key` for Anthropic
 * format, `Authorization: Bearer` for OpenAI format); without server-side keys the client's key
 * passes through, moved to the header the provider's format reads when the formats differ.
 * A Gemini-format provider is reached at `/v1beta/models/{model}:generateContent` (or
 * `:streamGenerateContent?alt=sse`) with the key as `x-goog-api-key`, never in the query; an
 * Azure OpenAI one at `/openai/deployments/{deployment}/chat/completions?api-version=...` with
 * the key as `api-key` (the client's Bearer key is moved there when the provider has none).
 */

/** The `api-version` sent to an Azure OpenAI target when the client gave none (the current GA version). */
export const AZURE_API_VERSION = '2024-10-21';
import { type ApiFormat, type ResolvedModel, wireFormatOf } from '../../routing/index.js';
import type { Exchange, UpstreamTarget } from '../proxy/api.js';

export const API_FORMAT_OF: Partial<Record<string, ApiFormat>> = { messages: 'anthropic', chat: 'openai' };

/** The key the client sent, from the header its own format uses (never the proxy token). */
function clientKey(ex: Exchange, clientFormat: ApiFormat): string | null {
  const h = ex.req.headers;
  if (clientFormat === 'anthropic' && typeof h['x-api-key'] === 'string' && h['x-api-key']) return h['x-api-key'];
  const auth = h.authorization;
  if (!ex.authorizationIsProxyToken && typeof auth === 'string' && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, '').trim() || null;
  return null;
}

/**
 * An Azure OpenAI target's chat endpoint: the deployment is the model when `deployments` names
 * it, else the deployment mapped to that model, else the model itself; the client's own
 * `api-version` when it sent one.
 */
function azurePath(r: ResolvedModel, ex: Exchange): string {
  const deployments = r.provider.deployments ?? {};
  const deployment = Object.hasOwn(deployments, r.model) ? r.model : (Object.keys(deployments).find((d) => deployments[d] === r.model) ?? r.model);
  const version = new URLSearchParams(ex.search.slice(1)).get('api-version') ?? AZURE_API_VERSION;
  return `/openai/deployments/${encodeURIComponent(deployment)}/chat/completions?api-version=${encodeURIComponent(version)}`;
}

/** The endpoint of a provider's format below its base URL. */
function pathFor(format: string, model: string, ex: Exchange): string {
  if (format === 'openai') return '/chat/completions';
  if (format === 'gemini') {
    const m = encodeURIComponent(model);
    return ex.info.stream ? `/v1beta/models/${m}:streamGenerateContent?alt=sse` : `/v1beta/models/${m}:generateContent`;
  }
  return '/v1/messages';
}

/**
 * The target of one attempt, or undefined when the request goes to the route's default upstream
 * unchanged (a built-in provider of the client's format, the model as sent, the client's key):
 * then the relay forwards exactly as it did before routing existed.
 */
export function targetFor(r: ResolvedModel, clientFormat: ApiFormat, key: string | null, ex: Exchange): UpstreamTarget | undefined {
  const p = r.provider;
  if (p.builtIn && p.format === clientFormat && r.model === r.requested && key === null) return undefined;
  const sameFormat = p.format === clientFormat;
  const path = p.format === 'azure' ? azurePath(r, ex) : pathFor(p.format, r.model, ex) + (sameFormat ? ex.search : '');
  const setHeaders: Record<string, string> = {};
  const dropHeaders: string[] = [];
  const k = key ?? (sameFormat ? null : clientKey(ex, clientFormat));
  if (p.format === 'gemini' || p.format === 'azure') dropHeaders.push('authorization', 'x-api-key', 'api-key', 'x-goog-api-key');
  if (k !== null) {
    if (p.format === 'gemini') setHeaders['x-goog-api-key'] = k;
    else if (p.format === 'azure') setHeaders['api-key'] = k;
    else if (p.format === 'anthropic') {
      setHeaders['x-api-key'] = k;
      dropHeaders.push('authorization');
    } else {
      setHeaders.authorization = `Bearer ${k}`;
      dropHeaders.push('x-api-key');
    }
  }
  if (p.format === 'anthropic' && !sameFormat && ex.req.headers['anthropic-version'] === undefined) setHeaders['anthropic-version'] = '2023-06-01';
  return {
    provider: p.name,
    format: p.format,
    baseUrl: p.baseUrl,
    path,
    model: r.model,
    ...(Object.keys(setHeaders).length ? { setHeaders } : {}),
    ...(dropHeaders.length ? { dropHeaders } : {}),
  };
}
