/**
 * Which provider and API a request path belongs to, where it goes upstream, and how its
 * errors are shaped.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Config } from '../config/index.js';
import type { ApiKind, ProviderId } from './types.js';
import { anthropicCountTokens, anthropicMessages } from './anthropic.js';
import { anthropicErrors, openaiErrors, openaiResponsesErrors } from './errors.js';
import { bedrockErrors } from './bedrock.js';
import { openaiChat, openaiResponses } from './openai.js';
import { vertexErrors } from './vertex.js';
import { azureErrors } from './azure.js';
import { geminiErrors } from './gemini.js';
import type { ApiAdapter, ErrorShapes } from './types.js';

export interface ProviderRoute {
  provider: ProviderId;
  api: ApiKind;
  /** Adapter for LLM calls (JSON body parsed, usage read); null for plain passthrough. */
  adapter: ApiAdapter | null;
  errors: ErrorShapes;
  /** Streams answer as an AWS event stream, not SSE (Bedrock): stages that read SSE rounds skip it. */
  eventStream?: boolean;
}

const ROUTES: Record<string, ProviderRoute> = {
  'POST /v1/messages': { provider: 'anthropic', api: 'messages', adapter: anthropicMessages, errors: anthropicErrors },
  'POST /v1/messages/count_tokens': { provider: 'anthropic', api: 'count_tokens', adapter: anthropicCountTokens, errors: anthropicErrors },
  'POST /v1/chat/completions': { provider: 'openai', api: 'chat', adapter: openaiChat, errors: openaiErrors },
  'POST /v1/responses': { provider: 'openai', api: 'responses', adapter: openaiResponses, errors: openaiResponsesErrors },
};

/**
 * The API paths each provider serves (a prefix matches itself and every path below it). The
 * catch-all forwards only these: a path of neither API (another SDK's endpoint, a typo) is
 * answered 404 by headroom-ts, so the caller's credentials never reach an upstream the request
 * was not meant for.
 */
const ANTHROPIC_PATHS = ['/v1/messages', '/v1/complete', '/v1/skills', '/v1/organizations', '/v1/experimental'];
const OPENAI_PATHS = [
  '/v1/chat', '/v1/completions', '/v1/responses', '/v1/conversations', '/v1/embeddings', '/v1/moderations', '/v1/images',
  '/v1/audio', '/v1/uploads', '/v1/batches', '/v1/fine_tuning', '/v1/vector_stores', '/v1/assistants', '/v1/threads',
  '/v1/realtime', '/v1/evals', '/v1/containers', '/v1/organization', '/v1/videos', '/v1/chatkit',
];
/** Both APIs: the caller's headers decide (`anthropic-version` or `x-api-key` = Anthropic). */
const SHARED_PATHS = ['/v1/models', '/v1/files'];

const under = (path: string, prefixes: readonly string[]) => prefixes.some((p) => path === p || path.startsWith(`${p}/`));

/** Which provider's API a path belongs to, or null when it is neither's. */
export function providerOfPath(path: string, headers: IncomingHttpHeaders): ProviderId | null {
  if (under(path, ANTHROPIC_PATHS)) return 'anthropic';
  if (under(path, OPENAI_PATHS)) return 'openai';
  if (under(path, SHARED_PATHS)) return headers['anthropic-version'] !== undefined || headers['x-api-key'] !== undefined ? 'anthropic' : 'openai';
  return null;
}

/** Resolves a `/v1/*` request to its provider route (passthrough for other paths of that API); null: no provider serves it. */
export function resolveProviderRoute(method: string, path: string, headers: IncomingHttpHeaders): ProviderRoute | null {
  const exact = ROUTES[`${method} ${path}`];
  if (exact) return exact;
  const provider = providerOfPath(path, headers);
  if (!provider) return null;
  const api: ApiKind = method === 'GET' && (path === '/v1/models' || path.startsWith('/v1/models/')) ? 'models' : 'passthrough';
  return provider === 'anthropic'
    ? { provider, api, adapter: null, errors: anthropicErrors }
    : { provider, api, adapter: null, errors: openaiErrors };
}

/**
 * Requests that cost money but that headroom-ts cannot price before they run (no usage on the
 * response, or no price for the API): message batches, legacy completions, embeddings, images,
 * audio, fine-tuning, realtime sessions, assistant runs, evals. With a budget or a rate limit
 * configured they are refused rather than let through unmetered. Returns what the request is.
 */
const UNPRICED: [RegExp, string][] = [
  [/^\/v1\/messages\/batches$/, 'a message batch'],
  [/^\/v1\/complete$/, 'a legacy text completion'],
  [/^\/v1\/experimental\//, 'a prompt-tools call'],
  [/^\/v1\/completions$/, 'a legacy completion'],
  [/^\/v1\/embeddings$/, 'an embeddings request'],
  [/^\/v1\/batches$/, 'a batch'],
  [/^\/v1\/images\//, 'an image request'],
  [/^\/v1\/audio\//, 'an audio request'],
  [/^\/v1\/fine_tuning\/jobs$/, 'a fine-tuning job'],
  [/^\/v1\/realtime(?:\/|$)/, 'a realtime session'],
  [/^\/v1\/threads(?:\/[^/]+)?\/runs(?:\/|$)/, 'an assistant run'],
  [/^\/v1\/evals\/[^/]+\/runs$/, 'an eval run'],
  [/^\/v1\/videos$/, 'a video generation'],
  [/^\/model\/[^/]+\/(?:converse|converse-stream)$/, 'a Bedrock Converse call'],
  [/^\/model\/[^/]+\/(?:invoke|invoke-with-response-stream)$/, 'a Bedrock call signed by the client (the proxy has no AWS credentials to estimate and sign it)'],
];

export function unpricedBillable(method: string, path: string): string | null {
  if (method !== 'POST') return null;
  for (const [re, what] of UNPRICED) if (re.test(path)) return what;
  return null;
}

/**
 * The default upstream of a provider. The cloud platforms have none: each call's endpoint
 * (region, provider entry) is set on it as its target by the signing link; '' here.
 */
export function upstreamBase(config: Config, provider: ProviderId): string {
  if (provider === 'aws.bedrock' || provider === 'gcp.vertex_ai') return '';
  if (provider === 'azure.ai.openai') return config.azureOpenaiApiUrl ?? '';
  if (provider === 'gcp.gemini') return config.geminiApiUrl;
  return provider === 'anthropic' ? config.anthropicApiUrl : config.openaiApiUrl;
}

export function errorShapesFor(provider: ProviderId): ErrorShapes {
  if (provider === 'aws.bedrock') return bedrockErrors;
  if (provider === 'gcp.vertex_ai') return vertexErrors;
  if (provider === 'azure.ai.openai') return azureErrors;
  if (provider === 'gcp.gemini') return geminiErrors;
  return provider === 'anthropic' ? anthropicErrors : openaiErrors;
}
