/**
 * Azure OpenAI: the OpenAI Chat Completions and Responses wire formats behind Azure's paths
 * (`/openai/deployments/{deployment}/chat/completions?api-version=...`, `/openai/responses` (the body names the deployment),
 * `/openai/deployments/{deployment}/responses`, and the v1 API's `/openai/v1/chat/completions`
 * and `/openai/v1/responses`, where the body's `model` names the deployment). The adapters
 * are the OpenAI ones with the model priced as the deployment map says (`deployment -> model`);
 * without an entry, the model the response reports (Azure answers with the model behind the
 * deployment), else the deployment name. Errors are Azure's OpenAI-like
 * `{"error":{"code","message"}}`.
 */
import { openaiErrors, openaiResponsesErrors } from './errors.js';
import { openaiChat, openaiResponses } from './openai.js';
import type { ApiAdapter, ErrorShapes, ErrorType, ResponseFacts, StreamObserver } from './types.js';

/** The code Azure puts in `error.code` for an error of ours. */
function azureCode(status: number, type: ErrorType): string {
  if (type === 'budget_exceeded') return 'budget_exceeded';
  if (type === 'rate_limited' || status === 429) return '429';
  if (type === 'body_too_large' || status === 413) return 'request_too_large';
  if (type === 'upstream_timeout' || status === 504 || status === 408) return 'Timeout';
  if (type === 'upstream_connect' || type === 'shutdown' || status === 503 || status === 502) return 'ServiceUnavailable';
  if (status === 401) return '401';
  if (status === 403) return '403';
  if (status === 404) return 'DeploymentNotFound';
  if (status >= 400 && status < 500) return 'BadRequest';
  return 'InternalServerError';
}

const azureErrorJson = (status: number, type: ErrorType, message: string) => JSON.stringify({ error: { code: azureCode(status, type), message } });

export const azureErrors: ErrorShapes = {
  errorBody: azureErrorJson,
  // inside a stream the OpenAI SDKs look for the OpenAI error object
  streamErrorFrame: openaiErrors.streamErrorFrame,
};

export const azureResponsesErrors: ErrorShapes = {
  errorBody: azureErrorJson,
  streamErrorFrame: openaiResponsesErrors.streamErrorFrame,
};

/** Overrides the reported model with the mapped one (when the deployment map has an entry). */
function withModel(facts: ResponseFacts, model: string | null): ResponseFacts {
  return model ? { ...facts, model } : facts;
}

/**
 * The adapter of one Azure request: `base` (Chat or Responses), the deployment from the path
 * (null on the v1 paths: the body's `model` names it). The request's model is
 * `deployments[deployment] ?? body.model ?? deployment`; a mapped model also replaces the one
 * the response reports.
 */
export function azureAdapter(base: 'chat' | 'responses', deployment: string | null, deployments: ReadonlyMap<string, string>): ApiAdapter {
  const a = base === 'chat' ? openaiChat : openaiResponses;
  let mapped: string | null = deployment === null ? null : (deployments.get(deployment) ?? null);
  return {
    provider: 'azure.ai.openai',
    api: a.api,
    describeRequest(body) {
      const facts = a.describeRequest(body);
      const name = deployment ?? facts.model;
      if (name !== null) mapped = deployments.get(name) ?? null;
      return { ...facts, model: mapped ?? facts.model ?? deployment };
    },
    factsFromJson: (body) => withModel(a.factsFromJson(body), mapped),
    streamObserver(onProgress): StreamObserver {
      const inner = a.streamObserver(onProgress && ((f) => onProgress(withModel(f, mapped))));
      return {
        push: (chunk) => inner.push(chunk),
        end: () => withModel(inner.end(), mapped),
        snapshot: () => withModel(inner.snapshot(), mapped),
      };
    },
  };
}
