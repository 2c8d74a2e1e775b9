/**
 * A mock Vertex AI (Anthropic models) with its own OAuth token endpoint, for tests.
 *
 * - `POST /token`: a refresh-token grant (`grant_type=refresh_token`, the client's id and
 *   secret in HTTP Basic auth), as google-auth-library sends it for a credentials file whose
 *   `token_url` points here; answers a fresh access token valid `tokenLifetimeSeconds`.
 * - `:rawPredict` / `:streamRawPredict`: checks `Authorization: Bearer` against the tokens it
 *   issued and has not seen expire (else 401 `UNAUTHENTICATED` in Vertex's shape), the body
 *   (Anthropic Messages without `model`, `anthropic_version: vertex-2023-10-16`, else 400
 *   `INVALID_ARGUMENT`), then answers like the Anthropic API (JSON or SSE).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cloudEvents, cloudMessage, type CloudReplyOptions } from './cloud-reply.js';
import { PromptCacheSim } from './prompt-cache.js';

type Json = Record<string, unknown>;

export interface MockVertexOptions extends CloudReplyOptions {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  /** Lifetime of issued access tokens (default 3600 s). */
  tokenLifetimeSeconds?: number;
}

export interface VertexRecorded {
  path: string;
  headers: IncomingHttpHeaders;
  json: Json | null;
  body: Buffer;
  status: number;
}

export class MockVertex {
  private server: Server | null = null;
  readonly requests: VertexRecorded[] = [];
  /** Access token -> expiry (ms). */
  readonly issued = new Map<string, number>();
  tokenRequests = 0;
  /** Refuse every token (as for credentials whose permission was withdrawn). */
  refuseTokens = false;
  readonly cache = new PromptCacheSim();
  url = '';

  constructor(private readonly opts: MockVertexOptions) {}

  /** Changes the lifetime of tokens issued from now on. */
  setTokenLifetime(seconds: number): void {
    this.opts.tokenLifetimeSeconds = seconds;
  }

  /** A credentials file (external account authorized user) for google-auth-library, its token endpoint this mock. */
  credentialsJson(): string {
    return JSON.stringify({
      type: 'external_account_authorized_user',
      audience: '//iam.googleapis.com/locations/global/workforcePools/mock/providers/mock',
      client_id: this.opts.clientId,
      client_secret: this.opts.clientSecret,
      refresh_token: this.opts.refreshToken,
      token_url: `${this.url}/token`,
      token_info_url: `${this.url}/tokeninfo`,
    });
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const send = (status: number, headers: Record<string, string>, out: string) => {
          res.writeHead(status, headers);
          res.end(out);
        };
        const path = (req.url ?? '/').split('?')[0]!;
        if (path === '/token') return this.token(req.headers, body, send);
        this.predict(path, req.headers, body, send);
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private token(headers: IncomingHttpHeaders, body: Buffer, send: (s: number, h: Record<string, string>, b: string) => void): void {
    this.tokenRequests++;
    const form = new URLSearchParams(body.toString('utf8'));
    const basic = `Basic ${Buffer.from(`${this.opts.clientId}:${this.opts.clientSecret}`).toString('base64')}`;
    if (headers.authorization !== basic || form.get('grant_type') !== 'refresh_token' || form.get('refresh_token') !== this.opts.refreshToken) {
      return send(400, { 'content-type': 'application/json' }, JSON.stringify({ error: 'invalid_grant', error_description: 'Bad client credentials or refresh token.' }));
    }
    const lifetime = this.opts.tokenLifetimeSeconds ?? 3600;
    const token = `ya29.mock-${randomBytes(12).toString('hex')}`;
    this.issued.set(token, Date.now() + lifetime * 1000);
    send(200, { 'content-type': 'application/json' }, JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: lifetime }));
  }

  private predict(path: string, headers: IncomingHttpHeaders, body: Buffer, send: (s: number, h: Record<string, string>, b: string) => void): void {
    const rec: VertexRecorded = { path, headers, json: null, body, status: 0 };
    this.requests.push(rec);
    const error = (status: number, code: string, message: string) => {
      rec.status = status;
      send(status, { 'content-type': 'application/json' }, JSON.stringify({ error: { code: status, message, status: code } }));
    };
    const authz = headers.authorization;
    const token = typeof authz === 'string' && authz.startsWith('Bearer ') ? authz.slice(7) : null;
    const expiry = token ? this.issued.get(token) : undefined;
    if (this.refuseTokens || expiry === undefined || expiry <= Date.now()) {
      return error(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.');
    }
    const m = /^\/v1\/projects\/[^/]+\/locations\/[^/]+\/publishers\/anthropic\/models\/([^/:]+):(rawPredict|streamRawPredict)$/.exec(path);
    if (!m) return error(404, 'NOT_FOUND', `The requested URL ${path} was not found.`);
    let json: Json;
    try {
      json = JSON.parse(body.toString('utf8')) as Json;
      rec.json = json;
    } catch {
      return error(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
    }
    if (json.anthropic_version !== 'vertex-2023-10-16') return error(400, 'INVALID_ARGUMENT', 'anthropic_version: vertex-2023-10-16 is required.');
    if ('model' in json) return error(400, 'INVALID_ARGUMENT', 'model: Extra inputs are not permitted');
    const model = decodeURIComponent(m[1]!);
    if (model === 'count-tokens') {
      rec.status = 200;
      return send(200, { 'content-type': 'application/json' }, JSON.stringify({ input_tokens: Math.ceil(body.length / 4) }));
    }
    const msg = cloudMessage(json, body.length, model, this.cache, this.opts);
    rec.status = 200;
    if (m[2] === 'rawPredict' && json.stream !== true) return send(200, { 'content-type': 'application/json' }, JSON.stringify(msg));
    const sse = cloudEvents(msg).map((e) => `event: ${String(e.type)}\ndata: ${JSON.stringify(e)}\n\n`).join('');
    send(200, { 'content-type': 'text/event-stream' }, sse);
  }
}
