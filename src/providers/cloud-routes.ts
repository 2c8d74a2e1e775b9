/**
 * The native paths of Azure OpenAI and the Gemini API: which adapter a request uses (built per
 * request, since the deployment or the model is in the path), its error shape, and the
 * provider's upstream base URL. Other paths under these prefixes are not served (404).
 */
import type { Config } from '../config/index.js';
import { azureAdapter, azureErrors, azureResponsesErrors } from './azure.js';
import { geminiAdapter, geminiErrors } from './gemini.js';
import type { ProviderRoute } from './routes.js';

const AZURE_DEPLOYMENT = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|responses)$/;
const AZURE_V1 = /^\/openai\/(?:v1\/(chat\/completions|responses)|(responses))$/;
const GEMINI = /^\/(?:v1beta|v1)\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;

/** The path prefixes these routes live under (the proxy registers them). */
export const CLOUD_PREFIXES = ['/openai/', '/v1beta/'] as const;

const mapCache = new WeakMap<readonly string[], ReadonlyMap<string, string>>();
/** `deployment=model` entries as a map (parsed once per config value). */
export function deploymentMap(entries: readonly string[]): ReadonlyMap<string, string> {
  let m = mapCache.get(entries);
  if (!m) {
    const map = new Map<string, string>();
    for (const e of entries) {
      const i = e.indexOf('=');
      if (i > 0) map.set(e.slice(0, i), e.slice(i + 1));
    }
    m = map;
    mapCache.set(entries, m);
  }
  return m;
}

function decode(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

/** The Azure or Gemini route of a request (deployments of the flags), or null when the path is neither's. */
export function resolveCloudRoute(method: string, path: string, config: Pick<Config, 'azureDeployments'>): ProviderRoute | null {
  return cloudRouteWith(method, path, deploymentMap(config.azureDeployments));
}

/** Which of the two platforms a path is (null: neither): cheap, for the caller to pick an entry first. */
export function cloudPlatformOf(path: string): 'azure' | 'gemini' | null {
  if (path.startsWith('/openai/')) return 'azure';
  return GEMINI.test(path) ? 'gemini' : null;
}

/** The Azure or Gemini route of a request, Azure deployments priced by `deployments`. */
export function cloudRouteWith(method: string, path: string, deployments: ReadonlyMap<string, string>): ProviderRoute | null {
  if (method !== 'POST') return null;
  if (path.startsWith('/openai/')) {
    const dep = AZURE_DEPLOYMENT.exec(path);
    const v1 = dep ? null : AZURE_V1.exec(path);
    const kind = dep?.[2] ?? v1?.[1] ?? v1?.[2];
    if (!kind) return null;
    const deployment = dep ? decode(dep[1]!) : null;
    if (dep && deployment === null) return null;
    const base = kind === 'responses' ? 'responses' : 'chat';
    return {
      provider: 'azure.ai.openai',
      api: base,
      adapter: azureAdapter(base, deployment, deployments),
      errors: base === 'responses' ? azureResponsesErrors : azureErrors,
    };
  }
  const g = GEMINI.exec(path);
  if (!g) return null;
  const model = decode(g[1]!);
  if (model === null) return null;
  return { provider: 'gcp.gemini', api: 'generate_content', adapter: geminiAdapter(model, g[2] === 'streamGenerateContent'), errors: geminiErrors };
}
