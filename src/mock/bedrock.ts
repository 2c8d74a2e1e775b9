/**
 * A mock Amazon Bedrock runtime for tests: it checks what the real one checks and answers the
 * way it does.
 *
 * - Authentication: the SigV4 signature is recomputed with `@smithy/signature-v4` from the
 *   request as received (method, path, query, the signed headers, the body) and the mock's
 *   credentials; a mismatch is 403 `InvalidSignatureException`, no credentials 403
 *   `MissingAuthenticationTokenException`. `Authorization: Bearer <key>` is accepted for the
 *   API keys configured (Bedrock API keys).
 * - `invoke` / `invoke-with-response-stream`: an Anthropic body without `model`, with
 *   `anthropic_version` (else 400 `ValidationException`); the stream is a real AWS event stream
 *   of `chunk` events (`{"bytes": base64 Anthropic event}`), the last carrying
 *   `amazon-bedrock-invocationMetrics`.
 * - `converse` / `converse-stream`: Bedrock's own format and events.
 * - Scenario (`x-mock-scenario` or `enqueue`): `ok`, `throttle` (429 `ThrottlingException`),
 *   `throttle-mid-stream:<n>` (a `throttlingException` frame after n chunks).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import { encodeEvent, encodeException, EVENT_STREAM_CONTENT_TYPE } from '../providers/eventstream.js';
import { Sha256, splitQuery } from '../providers/sigv4.js';
import { cloudEvents, cloudMessage, type CloudReplyOptions } from './cloud-reply.js';
import { PromptCacheSim } from './prompt-cache.js';

type Json = Record<string, unknown>;

export interface MockBedrockOptions extends CloudReplyOptions {
  accessKeyId: string;
  secretAccessKey: string;
  region?: string;
  /** Bedrock API keys accepted as `Authorization: Bearer`. */
  apiKeys?: string[];
}

export interface BedrockRecorded {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  json: Json | null;
  /** Authentication result: `sigv4`, `bearer`, or the error name answered. */
  auth: string;
  status: number;
}

function parseAuthorization(v: string): { akid: string; date: string; region: string; service: string; signed: string[]; signature: string } | null {
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]+)$/.exec(v);
  return m ? { akid: m[1]!, date: m[2]!, region: m[3]!, service: m[4]!, signed: m[5]!.split(';'), signature: m[6]! } : null;
}

/** `20261207T010203Z` to a Date. */
const amzDate = (s: string) => new Date(`${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13, 15)}Z`);

export class MockBedrock {
  private server: Server | null = null;
  readonly requests: BedrockRecorded[] = [];
  private readonly queue: string[] = [];
  readonly cache = new PromptCacheSim();
  url = '';

  constructor(private readonly opts: MockBedrockOptions) {}

  enqueue(...scenarios: string[]): void {
    this.queue.push(...scenarios);
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void this.handle(req.method ?? 'GET', req.url ?? '/', req.headers, Buffer.concat(chunks)).then(({ status, headers, body, rec }) => {
          rec.status = status;
          this.requests.push(rec);
          res.writeHead(status, headers);
          if (Array.isArray(body)) {
            for (const b of body) res.write(b);
            res.end();
          } else res.end(body);
        });
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private async verify(method: string, url: string, headers: IncomingHttpHeaders, body: Buffer): Promise<string | null> {
    const authz = headers.authorization;
    if (typeof authz === 'string' && authz.startsWith('Bearer ')) {
      return this.opts.apiKeys?.includes(authz.slice(7)) ? null : 'UnrecognizedClientException';
    }
    if (typeof authz !== 'string') return 'MissingAuthenticationTokenException';
    const a = parseAuthorization(authz);
    const date = headers['x-amz-date'];
    if (!a || typeof date !== 'string' || a.akid !== this.opts.accessKeyId || a.service !== 'bedrock') return 'InvalidSignatureException';
    const signedHeaders: Record<string, string> = {};
    for (const name of a.signed) {
      const v = headers[name];
      if (v === undefined) return 'InvalidSignatureException';
      signedHeaders[name] = Array.isArray(v) ? v.join(',') : v;
    }
    const [path, query] = splitQuery(url);
    const signer = new SignatureV4({ service: 'bedrock', region: a.region, sha256: Sha256, credentials: { accessKeyId: this.opts.accessKeyId, secretAccessKey: this.opts.secretAccessKey, ...(typeof headers['x-amz-security-token'] === 'string' ? { sessionToken: headers['x-amz-security-token'] } : {}) } });
    const host = signedHeaders.host ?? '';
    const signed = await signer.sign({ method, protocol: 'http:', hostname: host.split(':')[0]!, path, query, headers: signedHeaders, body }, { signingDate: amzDate(date) });
    const expected = /Signature=([0-9a-f]+)/.exec(String(signed.headers.authorization))?.[1];
    return expected === a.signature && (!this.opts.region || a.region === this.opts.region) ? null : 'InvalidSignatureException';
  }

  private async handle(method: string, url: string, headers: IncomingHttpHeaders, body: Buffer): Promise<{ status: number; headers: Record<string, string>; body: Buffer | Buffer[]; rec: BedrockRecorded }> {
    const path = url.split('?')[0]!;
    const rec: BedrockRecorded = { path, headers, body, json: null, auth: 'sigv4', status: 0 };
    const error = (status: number, name: string, message: string) => ({ status, headers: { 'content-type': 'application/json', 'x-amzn-errortype': `${name}:http://internal.amazon.com/coral/com.amazon.bedrock/`, 'x-amzn-requestid': 'mock-request' }, body: Buffer.from(JSON.stringify({ message })), rec });
    const authError = await this.verify(method, url, headers, body);
    if (authError) {
      rec.auth = authError;
      const message = authError === 'InvalidSignatureException'
        ? 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.'
        : authError === 'MissingAuthenticationTokenException' ? 'Missing Authentication Token' : 'The security token included in the request is invalid.';
      return error(403, authError, message);
    }
    if (typeof headers.authorization === 'string' && headers.authorization.startsWith('Bearer ')) rec.auth = 'bearer';
    const m = /^\/model\/([^/]+)\/(invoke|invoke-with-response-stream|converse|converse-stream)$/.exec(path);
    if (method !== 'POST' || !m) return error(404, 'UnknownOperationException', 'Unknown operation');
    const modelId = decodeURIComponent(m[1]!);
    const op = m[2]!;
    let json: Json;
    try {
      json = JSON.parse(body.toString('utf8')) as Json;
      rec.json = json;
    } catch {
      return error(400, 'ValidationException', 'Malformed input request, please reformat your input and try again.');
    }
    const scenario = typeof headers['x-mock-scenario'] === 'string' ? headers['x-mock-scenario'] : (this.queue.shift() ?? 'ok');
    if (scenario === 'throttle') return error(429, 'ThrottlingException', 'Too many requests, please wait before trying again.');
    if (op === 'invoke' || op === 'invoke-with-response-stream') {
      if (typeof json.anthropic_version !== 'string') return error(400, 'ValidationException', 'Malformed input request: #: required key [anthropic_version] not found, please reformat your input and try again.');
      if ('model' in json) return error(400, 'ValidationException', 'Malformed input request: #: extraneous key [model] is not permitted, please reformat your input and try again.');
      const msg = cloudMessage(json, body.length, modelId, this.cache, this.opts);
      if (op === 'invoke') return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(msg)), rec };
      const events = cloudEvents(msg);
      const usage = msg.usage as Json;
      const last = events[events.length - 1]!;
      last['amazon-bedrock-invocationMetrics'] = { inputTokenCount: usage.input_tokens, outputTokenCount: usage.output_tokens, invocationLatency: 5, firstByteLatency: 2, cacheReadInputTokenCount: usage.cache_read_input_tokens, cacheWriteInputTokenCount: usage.cache_creation_input_tokens };
      const frames = events.map((e) => encodeEvent('chunk', JSON.stringify({ bytes: Buffer.from(JSON.stringify(e)).toString('base64'), p: 'abcdefgh' })));
      const cut = /^throttle-mid-stream:(\d+)$/.exec(scenario);
      if (cut) {
        frames.length = Math.min(frames.length, Number(cut[1]));
        frames.push(encodeException('throttlingException', 'Too many tokens, please wait before trying again.'));
      }
      return { status: 200, headers: { 'content-type': EVENT_STREAM_CONTENT_TYPE, 'x-amzn-bedrock-content-type': 'application/json' }, body: frames, rec };
    }
    return this.converse(op === 'converse-stream', json, body.length, rec);
  }

  private converse(stream: boolean, json: Json, bytes: number, rec: BedrockRecorded) {
    const input = Math.max(1, Math.ceil(bytes / 4));
    const text = 'mock reply from converse.';
    const usage = { inputTokens: input, outputTokens: 7, totalTokens: input + 7, cacheReadInputTokens: 0, cacheWriteInputTokens: 0 };
    if (!stream) {
      return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ output: { message: { role: 'assistant', content: [{ text }] } }, stopReason: 'end_turn', usage, metrics: { latencyMs: 5 } })), rec };
    }
    const frames = [
      encodeEvent('messageStart', JSON.stringify({ role: 'assistant' })),
      encodeEvent('contentBlockDelta', JSON.stringify({ contentBlockIndex: 0, delta: { text } })),
      encodeEvent('contentBlockStop', JSON.stringify({ contentBlockIndex: 0 })),
      encodeEvent('messageStop', JSON.stringify({ stopReason: 'end_turn' })),
      encodeEvent('metadata', JSON.stringify({ usage, metrics: { latencyMs: 5 } })),
    ];
    void json;
    return { status: 200, headers: { 'content-type': EVENT_STREAM_CONTENT_TYPE }, body: frames, rec };
  }
}
