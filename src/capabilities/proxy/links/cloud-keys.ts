/**
 * The `cloud-keys` link (position 650, after retries, before signing): a call of the Azure
 * OpenAI or Gemini native paths that no routing link gave a target goes to the configured
 * endpoint, with the proxy's own key when one is configured (Azure `api-key`, Gemini
 * `x-goog-api-key`), the client's credentials removed (its `api-key`, `Authorization` bearer,
 * `x-goog-api-key` and a Gemini `key=` query parameter). Without a configured key the client's
 * own credentials pass through unchanged. Other calls pass by untouched.
 */
import type { Config } from '../../../config/index.js';
import type { ForwardLink } from '../chain.js';
import type { UpstreamTarget } from '../target.js';

export const CLOUD_KEYS_POSITION = 650;

/** The query string without `key=` parameters (a Gemini API key in the URL). */
export function withoutKeyParam(search: string): string {
  if (!search.includes('key=')) return search;
  const q = new URLSearchParams(search.startsWith('?') ? search.slice(1) : search);
  q.delete('key');
  const s = q.toString();
  return s ? `?${s}` : '';
}

export function cloudKeysLink(config: Config): ForwardLink {
  return {
    name: 'cloud-keys',
    position: CLOUD_KEYS_POSITION,
    apis: ['chat', 'responses', 'generate_content'],
    wrap: (next) => (call, handler) => {
      const ex = call.ex;
      const provider = ex.route.provider;
      if (call.target || (provider !== 'azure.ai.openai' && provider !== 'gcp.gemini')) return next(call, handler);
      let target: UpstreamTarget;
      const model = ex.facts?.model ?? '';
      if (provider === 'azure.ai.openai') {
        const key = config.azureOpenaiApiKey;
        target = {
          provider, format: 'azure', baseUrl: config.azureOpenaiApiUrl ?? '', model,
          ...(key ? { setHeaders: { 'api-key': key }, dropHeaders: ['authorization'] } : {}),
        };
      } else {
        const key = config.geminiApiKey;
        target = {
          provider, format: 'gemini', baseUrl: config.geminiApiUrl, model,
          ...(key ? { setHeaders: { 'x-goog-api-key': key }, dropHeaders: ['authorization'], path: ex.path + withoutKeyParam(ex.search) } : {}),
        };
      }
      next({ ...call, target }, handler);
    },
  };
}
