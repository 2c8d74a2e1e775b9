/**
 * Which provider and API a request path belongs to, where it goes upstream, and how its
 * errors are shaped.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Config } from '../config/index.js';
import type { ApiKind, ProviderId } from '../telemetry/outcome.js';
import { anthropicCountTokens, anthropicMessages } from './anthropic.js';
import { anthropicErrors, openaiErrors, openaiResponsesErrors } from './errors.js';
import { openaiChat, openaiResponses } from './openai.js';
import type { ApiAdapter, ErrorShapes } from './types.js';

export interface ProviderRoute {
  provider: ProviderId;
  api: ApiKind;
  /** Adapter for LLM calls (JSON body parsed, usage read); null for plain passthrough. */
  adapter: ApiAdapter | null;
  errors: ErrorShapes;
}

const ROUTES: Record<string, ProviderRoute> = {
  'POST /v1/messages': { provider: 'anthropic', api: 'messages', adapter: anthropicMessages, errors: anthropicErrors },
  'POST /v1/messages/count_tokens': { provider: 'anthropic', api: 'count_tokens', adapter: anthropicCountTokens, errors: anthropicErrors },
  'POST /v1/chat/completions': { provider: 'openai', api: 'chat', adapter: openaiChat, errors: openaiErrors },
  'POST /v1/responses': { provider: 'openai', api: 'responses', adapter: openaiResponses, errors: openaiResponsesErrors },
};

/** Anthropic clients identify themselves by these headers; everything else defaults to OpenAI. */
export function looksAnthropic(path: string, headers: IncomingHttpHeaders): boolean {
  if (path.startsWith('/v1/messages')) return true;
  if (path.startsWith('/v1/chat/') || path.startsWith('/v1/responses')) return false;
  return headers['anthropic-version'] !== undefined || headers['x-api-key'] !== undefined;
}

/** Resolves a `/v1/*` request to its provider route (passthrough for unknown paths). */
export function resolveProviderRoute(method: string, path: string, headers: IncomingHttpHeaders): ProviderRoute {
  const exact = ROUTES[`${method} ${path}`];
  if (exact) return exact;
  const anthropic = looksAnthropic(path, headers);
  const api: ApiKind = method === 'GET' && (path === '/v1/models' || path.startsWith('/v1/models/')) ? 'models' : 'passthrough';
  return anthropic
    ? { provider: 'anthropic', api, adapter: null, errors: anthropicErrors }
    : { provider: 'openai', api, adapter: null, errors: openaiErrors };
}

export function upstreamBase(config: Config, provider: ProviderId): string {
  return provider === 'anthropic' ? config.anthropicApiUrl : config.openaiApiUrl;
}

export function errorShapesFor(provider: ProviderId): ErrorShapes {
  return provider === 'anthropic' ? anthropicErrors : openaiErrors;
}
