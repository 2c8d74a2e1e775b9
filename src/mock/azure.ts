/**
 * A mock Azure OpenAI resource: `/openai/deployments/{deployment}/chat/completions` and
 * `/responses` (an `api-version` query parameter required) and the v1 API's
 * `/openai/v1/chat/completions` and `/responses` (the body's `model` names the deployment).
 * It checks the `api-key` header or an Entra ID `Authorization: Bearer` token, answers for the
 * model behind the deployment (responses report that model, as Azure does), with the OpenAI
 * mock's replies and usage, and fails the way Azure does: 401 for a bad key, 404
 * `DeploymentNotFound`, 400 `MissingApiVersionParameter`, `x-mock-status: <code>` for others.
 */
import type { ServerResponse } from 'node:http';
import { chatCompletion, chatStream, responsesObject, responsesStream } from './openai.js';
import { RecordingServer, type MockRecord } from './http-server.js';
import { PromptCacheSim } from './prompt-cache.js';

export interface MockAzureOptions {
  /** Accepted `api-key` values. */
  apiKeys: readonly string[];
  /** Accepted Entra ID bearer tokens. */
  bearerTokens?: readonly string[];
  /** Deployment name -> the model it serves (as reported in responses). */
  deployments: Readonly<Record<string, string>>;
}

const DEPLOYMENT = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|responses)$/;
const V1 = /^\/openai\/(?:v1\/(chat\/completions|responses)|(responses))$/;

export const AZURE_BAD_KEY_MESSAGE =
  'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.';

export class MockAzureOpenAI extends RecordingServer {
  readonly cache = new PromptCacheSim();

  constructor(private readonly opts: MockAzureOptions) {
    super();
  }

  private error(res: ServerResponse, status: number, code: string, message: string): void {
    this.send(res, status, JSON.stringify({ error: { code, message } }));
  }

  protected handle(rec: MockRecord, res: ServerResponse): void {
    const dep = DEPLOYMENT.exec(rec.path);
    const v1 = dep ? null : V1.exec(rec.path);
    if (rec.method !== 'POST' || (!dep && !v1)) return this.error(res, 404, '404', 'Resource not found');
    const params = new URLSearchParams(rec.search.slice(1));
    if (!rec.path.startsWith('/openai/v1/') && !params.get('api-version')) {
      return this.error(res, 400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
    }
    const key = rec.headers['api-key'];
    const auth = rec.headers.authorization;
    const bearer = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : null;
    const keyOk = typeof key === 'string' && this.opts.apiKeys.includes(key);
    const bearerOk = bearer !== null && (this.opts.bearerTokens ?? []).includes(bearer);
    if (!keyOk && !bearerOk) return this.error(res, 401, '401', AZURE_BAD_KEY_MESSAGE);
    const status = Number(rec.headers['x-mock-status'] ?? 0);
    if (status >= 400) return this.error(res, status, status === 429 ? '429' : String(status), `mock Azure failure (HTTP ${status})`);
    if (!rec.json) return this.error(res, 400, 'BadRequest', 'The request body is not valid JSON.');
    const deployment = dep ? decodeURIComponent(dep[1]!) : String(rec.json.model ?? '');
    const model = this.opts.deployments[deployment];
    if (!model) {
      return this.error(res, 404, 'DeploymentNotFound', 'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.');
    }
    const body: Record<string, unknown> = { ...rec.json, model };
    const bytes = rec.body.length;
    const responses = (dep?.[2] ?? v1?.[1] ?? v1?.[2]) === 'responses';
    if (body.stream === true) {
      const frames = responses ? responsesStream(body, bytes, this.cache, true) : chatStream(body, bytes, this.cache, true);
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'apim-request-id': 'mock-apim' });
      for (const f of frames) res.write(`${f.event ? `event: ${f.event}\n` : ''}data: ${f.data}\n\n`);
      res.end();
      return;
    }
    const reply = responses ? responsesObject(body, bytes, this.cache, true) : chatCompletion(body, bytes, this.cache, true);
    this.send(res, 200, JSON.stringify(reply));
  }
}
