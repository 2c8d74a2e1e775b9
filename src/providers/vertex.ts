/**
 * Anthropic models on Google Vertex AI: the paths
 * (`/v1/projects/{p}/locations/{l}/publishers/anthropic/models/{model}:rawPredict` and
 * `:streamRawPredict`; the model `count-tokens` is the token counter), request facts and
 * usage (the body is Anthropic Messages without `model`, with `anthropic_version:
 * vertex-2023-10-16`; the answer and its SSE stream are Anthropic's), and Vertex's error
 * shape `{"error": {"code", "message", "status"}}`.
 */
import { anthropicCountTokens, anthropicMessages, describeAnthropicRequest } from './anthropic.js';
import { anthropicErrors } from './errors.js';
import { googleStatus } from './google-status.js';
import type { ApiAdapter, ErrorShapes, ResponseFacts } from './types.js';

export interface VertexPath {
  project: string;
  location: string;
  /** The model as the client named it (`claude-sonnet-4-5@20250929`), or `count-tokens`. */
  model: string;
  op: 'rawPredict' | 'streamRawPredict';
}

const PATH = /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/anthropic\/models\/([^/:]+):(rawPredict|streamRawPredict)$/;

export function parseVertexPath(path: string): VertexPath | null {
  const m = PATH.exec(path);
  if (!m) return null;
  try {
    return { project: decodeURIComponent(m[1]!), location: decodeURIComponent(m[2]!), model: decodeURIComponent(m[3]!), op: m[4] as VertexPath['op'] };
  } catch {
    return null;
  }
}

/** Vertex's public endpoint for a location (`global` has no regional host). */
export function vertexEndpoint(location: string): string {
  return location === 'global' ? 'https://aiplatform.googleapis.com' : `https://${location}-aiplatform.googleapis.com`;
}

const withModel = (facts: ResponseFacts, model: string): ResponseFacts => (facts.model ? facts : { ...facts, model });

export function vertexAdapter(p: VertexPath): ApiAdapter {
  if (p.model === 'count-tokens') return { ...anthropicCountTokens, provider: 'gcp.vertex_ai' };
  const stream = p.op === 'streamRawPredict';
  return {
    provider: 'gcp.vertex_ai',
    api: 'messages',
    describeRequest: (body) => {
      const facts = describeAnthropicRequest(body);
      return { ...facts, model: facts.model ?? p.model, stream: stream || facts.stream };
    },
    factsFromJson: (body) => withModel(anthropicMessages.factsFromJson(body), p.model),
    streamObserver: (onProgress) => {
      const inner = anthropicMessages.streamObserver(onProgress ? (f) => onProgress(withModel(f, p.model)) : undefined);
      return { push: (c) => inner.push(c), snapshot: () => withModel(inner.snapshot(), p.model), end: () => withModel(inner.end(), p.model) };
    },
  };
}

export const vertexErrors: ErrorShapes = {
  errorBody(status, type, message) {
    return JSON.stringify({ error: { code: status, message, status: googleStatus(status, type) } });
  },
  // the stream is Anthropic's SSE: its `error` event is what the SDK raises
  streamErrorFrame: (type, message) => anthropicErrors.streamErrorFrame(type, message),
};
