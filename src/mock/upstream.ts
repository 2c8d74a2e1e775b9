/**
 * A mock LLM upstream for tests, benchmarks and the demo. It speaks Anthropic Messages
 * (and count_tokens), OpenAI Chat Completions and Responses, streaming and not, with usage
 * blocks that include simulated prompt-cache reads and writes, and it can fail in every way a
 * real upstream fails.
 *
 * A scenario is chosen per request by the `x-mock-scenario` header, else from a queue
 * (`enqueue`), else the default:
 *   ok | echo | status:<code>[:retry-after=<s>] | reset-before-headers | reset-mid-stream:<frames> |
 *   hang | hang-mid-stream:<frames> | truncate:<frames> | malformed-sse | stream-error:<frames> |
 *   slow-drip:<ms> | no-stream (JSON even when a stream was asked for) | retrieve[:loop|mixed|miss] (the model calls headroom_retrieve, see retrieve.ts) |
 *   json-truncate:length|reset|end (a non-streaming 200 cut in half: the connection closes short of
 *   its content-length, is reset mid-body, or a chunked body ends cleanly but incomplete)
 * `x-mock-fail-times: N` with `x-mock-fail-status` (default 503) and `x-mock-key` fails the
 * first N attempts of that key. `x-mock-latency-ms` delays the response headers.
 * `x-mock-tools: off` makes the model answer with text even when tools are offered;
 * `x-mock-tool-call: <name>` (+ `x-mock-tool-args: <json>`) makes it call that tool, then quote its result.
 * `x-mock-reject-keys: k1,k2` answers 401 (or `x-mock-reject-status`) to a request whose key
 * (`x-api-key` or `Authorization: Bearer`) is in the list.
 * The Responses WebSocket (`GET /v1/responses` upgrades) is served on the same port
 * (`responses-ws.ts`, recorded in `ws.sessions`).
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { anthropicError, anthropicMessage, anthropicStream, type Frame } from './anthropic.js';
import { chatCompletion, chatStream, openaiError, responsesObject, responsesStream } from './openai.js';
import { approxTokens, type MockTokenizer, PromptCacheSim } from './prompt-cache.js';
import { forcedToolOf } from './replies.js';
import { retrieveModeOf } from './retrieve.js';
import { MockResponsesSocket } from './responses-ws.js';
import { decodeResponseBody } from '../providers/content-encoding.js';

type Json = Record<string, unknown>;

export interface RecordedRequest {
  method: string;
  path: string;
  /** The request target as received, query string included. */
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
  sha256: string;
  json: Json | null;
  scenario: string;
  /** The peer (the proxy) closed the connection before the response finished. */
  abortedByPeer: boolean;
  /** Exactly the response body bytes the mock wrote. */
  response: Buffer[];
}

export interface MockUpstreamOptions {
  host?: string;
  port?: number;
  /** Delay before response headers, for every request. */
  latencyMs?: number;
  /** Delay between streamed frames. */
  frameIntervalMs?: number;
  /** Keep every request (turn off for benchmarks). */
  record?: boolean;
  defaultScenario?: string;
  /** How prompt tokens are counted (default `bytes`: 4 bytes a token; `cl100k`: a BPE vocabulary over the content). */
  tokenizer?: MockTokenizer;
}

type Provider = 'anthropic' | 'openai';

const ANTHROPIC_TYPES: Record<number, string> = {
  400: 'invalid_request_error', 401: 'authentication_error', 403: 'permission_error', 404: 'not_found_error',
  413: 'request_too_large', 429: 'rate_limit_error', 500: 'api_error', 529: 'overloaded_error',
};

export class MockUpstream {
  readonly requests: RecordedRequest[] = [];
  readonly cache: PromptCacheSim;
  /** The Responses WebSocket (`GET /v1/responses` upgrades), on the same port. */
  readonly ws: MockResponsesSocket;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly queue: string[] = [];
  private readonly attemptsByKey = new Map<string, number>();
  private readonly waiters: { n: number; resolve: () => void }[] = [];
  private readonly abortWaiters: (() => void)[] = [];
  private readonly recordByRes = new WeakMap<ServerResponse, RecordedRequest>();
  url = '';

  constructor(private readonly opts: MockUpstreamOptions = {}) {
    this.cache = new PromptCacheSim(Date.now, opts.tokenizer ?? 'bytes');
    this.server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => void this.handle(req, res));
    this.ws = new MockResponsesSocket(this.server, this.cache, { frameIntervalMs: opts.frameIntervalMs ?? 0 });
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1', resolve));
    const addr = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${addr.port}`;
    return this.url;
  }

  async close(): Promise<void> {
    this.ws.close();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Scenarios for the next requests, in order. */
  enqueue(...scenarios: string[]): void {
    this.queue.push(...scenarios);
  }

  reset(): void {
    this.requests.length = 0;
    this.queue.length = 0;
    this.attemptsByKey.clear();
    this.cache.clear();
    this.ws.reset();
  }

  /** Resolves once at least `n` requests were received. */
  waitForRequests(n: number): Promise<void> {
    if (this.requests.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  /** Resolves when a request's connection is closed by the proxy before its response finished. */
  waitForPeerAbort(): Promise<void> {
    if (this.requests.some((r) => r.abortedByPeer)) return Promise.resolve();
    return new Promise((resolve) => this.abortWaiters.push(resolve));
  }

  get last(): RecordedRequest | undefined {
    return this.requests[this.requests.length - 1];
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const path = (req.url ?? '/').split('?')[0] as string;
    let json: Json | null = null;
    if (body.length) {
      try {
        // an encoded body is read as a provider would (the recorded body stays as received)
        json = JSON.parse(decodeResponseBody(body, req.headers['content-encoding']).toString('utf8')) as Json;
      } catch {
        json = null;
      }
    }
    const scenario = this.pickScenario(req.headers);
    if (this.opts.record !== false) {
      const rec: RecordedRequest = {
        method: req.method ?? 'GET', path, url: req.url ?? '/', headers: req.headers, rawHeaders: req.rawHeaders, body,
        sha256: createHash('sha256').update(body).digest('hex'), json, scenario, abortedByPeer: false, response: [],
      };
      this.recordByRes.set(res, rec);
      this.requests.push(rec);
      res.once('close', () => {
        if (!res.writableFinished) {
          rec.abortedByPeer = true;
          for (const fn of this.abortWaiters.splice(0)) fn();
        }
      });
      for (let i = this.waiters.length - 1; i >= 0; i--) {
        const w = this.waiters[i]!;
        if (this.requests.length >= w.n) {
          this.waiters.splice(i, 1);
          w.resolve();
        }
      }
    }
    const provider: Provider = path.startsWith('/v1/messages') || req.headers['anthropic-version'] ? 'anthropic' : 'openai';
    const latency = Number(req.headers['x-mock-latency-ms'] ?? this.opts.latencyMs ?? 0);
    if (latency > 0) await delay(latency);
    if (res.destroyed) return;

    const [kind, arg, arg2] = scenario.split(':');
    switch (kind) {
      case 'hang':
        return; // never answer; the socket stays open until the client gives up
      case 'reset-before-headers':
        req.socket.destroy();
        return;
      case 'status':
        return this.sendStatus(res, provider, Number(arg), arg2);
      case 'echo': {
        // the request body, verbatim, as the response (byte-exactness tests)
        this.recordByRes.get(res)?.response.push(body);
        res.writeHead(200, { 'content-type': String(req.headers['content-type'] ?? 'application/octet-stream'), 'content-length': body.length });
        res.end(body);
        return;
      }
      default:
        break;
    }
    if (typeof req.headers['x-mock-reject-keys'] === 'string') {
      // a provider that refuses some keys: 401 (or x-mock-reject-status) for a key in the list
      const auth = req.headers.authorization;
      const key = String(req.headers['x-api-key'] ?? (typeof auth === 'string' ? auth.replace(/^bearer\s+/i, '') : ''));
      if (req.headers['x-mock-reject-keys'].split(',').map((k) => k.trim()).includes(key)) {
        return this.sendStatus(res, provider, Number(req.headers['x-mock-reject-status'] ?? 401));
      }
    }
    if (req.headers['x-mock-fail-times']) {
      const key = String(req.headers['x-mock-key'] ?? 'default');
      const seen = (this.attemptsByKey.get(key) ?? 0) + 1;
      this.attemptsByKey.set(key, seen);
      if (seen <= Number(req.headers['x-mock-fail-times'])) {
        return this.sendStatus(res, provider, Number(req.headers['x-mock-fail-status'] ?? 503), req.headers['x-mock-retry-after'] ? `retry-after=${String(req.headers['x-mock-retry-after'])}` : undefined);
      }
    }
    try {
      this.respond(req, res, path, body, json, scenario);
    } catch (err) {
      // a body the mock cannot handle (e.g. nested too deeply to serialise) gets the 400 a provider gives
      if (res.headersSent) return void res.destroy();
      const msg = `mock: cannot process the request body (${(err as Error)?.message ?? String(err)})`;
      const text = provider === 'anthropic' ? anthropicError('invalid_request_error', msg) : openaiError('invalid_request_error', msg);
      this.recordByRes.get(res)?.response.push(Buffer.from(text));
      res.writeHead(400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    }
  }

  private pickScenario(headers: IncomingHttpHeaders): string {
    const h = headers['x-mock-scenario'];
    if (typeof h === 'string' && h) return h;
    return this.queue.shift() ?? this.opts.defaultScenario ?? 'ok';
  }

  private sendStatus(res: ServerResponse, provider: Provider, status: number, extra?: string): void {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const ra = extra?.startsWith('retry-after=') ? extra.slice('retry-after='.length) : null;
    if (ra !== null) headers['retry-after'] = ra;
    const message = `mock upstream failure (HTTP ${status})`;
    const body = provider === 'anthropic'
      ? anthropicError(ANTHROPIC_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error'), message)
      : openaiError(status === 429 ? 'rate_limit_error' : status >= 500 ? 'server_error' : 'invalid_request_error', message, status === 429 ? 'rate_limit_exceeded' : null);
    this.recordByRes.get(res)?.response.push(Buffer.from(body));
    res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  private respond(req: IncomingMessage, res: ServerResponse, path: string, raw: Buffer, json: Json | null, scenario: string): void {
    const method = req.method ?? 'GET';
    const toolsEnabled = req.headers['x-mock-tools'] !== 'off';
    if (method === 'GET' && path === '/v1/models') return this.sendJson(res, 200, modelsList(req.headers['anthropic-version'] !== undefined));
    if (method !== 'POST') return this.sendJson(res, 404, { error: { message: `mock: no route ${method} ${path}`, type: 'invalid_request_error' } });
    if (!json) {
      const msg = 'mock: request body is not JSON';
      const body = path.startsWith('/v1/messages') ? anthropicError('invalid_request_error', msg) : openaiError('invalid_request_error', msg);
      this.recordByRes.get(res)?.response.push(Buffer.from(body));
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(body);
      return;
    }
    // `no-stream`: a server that answers a streaming request with one JSON body
    const stream = json.stream === true && scenario !== 'no-stream';
    const bytes = raw.length;
    const rm = retrieveModeOf(scenario);
    const forced = forcedToolOf(req.headers);
    switch (path) {
      case '/v1/messages':
        return stream
          ? void this.sendFrames(res, anthropicStream(json, bytes, this.cache, toolsEnabled, rm, forced), scenario, 'anthropic')
          : this.sendJson(res, 200, anthropicMessage(json, bytes, this.cache, toolsEnabled, rm, forced), { 'request-id': `req_mock_${Date.now()}` }, scenario);
      case '/v1/messages/count_tokens':
        return this.sendJson(res, 200, { input_tokens: this.cache.promptTokens(json, bytes, 'anthropic') });
      case '/v1/chat/completions':
        return stream
          ? void this.sendFrames(res, chatStream(json, bytes, this.cache, toolsEnabled, rm, forced), scenario, 'openai')
          : this.sendJson(res, 200, chatCompletion(json, bytes, this.cache, toolsEnabled, rm, forced), { 'x-request-id': `req_mock_${Date.now()}` }, scenario);
      case '/v1/responses':
        return stream
          ? void this.sendFrames(res, responsesStream(json, bytes, this.cache, toolsEnabled, rm), scenario, 'openai')
          : this.sendJson(res, 200, responsesObject(json, bytes, this.cache, toolsEnabled, rm), {}, scenario);
      case '/v1/embeddings': {
        const vector = [0.1, 0.2, 0.3];
        const embedding = json.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
        return this.sendJson(res, 200, { object: 'list', data: [{ object: 'embedding', index: 0, embedding }], model: json.model, usage: { prompt_tokens: approxTokens(bytes), total_tokens: approxTokens(bytes) } });
      }
      default:
        return this.sendJson(res, 404, { error: { message: `mock: no route POST ${path}`, type: 'invalid_request_error' } });
    }
  }

  private sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}, scenario = 'ok'): void {
    const text = JSON.stringify(body);
    const [kind, mode] = scenario.split(':');
    if (kind === 'json-truncate') return this.sendTruncatedJson(res, status, text, headers, mode ?? 'length');
    this.recordByRes.get(res)?.response.push(Buffer.from(text));
    res.writeHead(status, { 'content-type': 'application/json', ...headers, 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  /** Half of a JSON body, then the failure `mode` names. */
  private sendTruncatedJson(res: ServerResponse, status: number, text: string, headers: Record<string, string>, mode: string): void {
    const half = Buffer.from(text).subarray(0, Math.floor(Buffer.byteLength(text) / 2));
    this.recordByRes.get(res)?.response.push(half);
    if (mode === 'end') {
      // chunked framing that ends cleanly: only the JSON itself is incomplete
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(half);
      return;
    }
    res.writeHead(status, { 'content-type': 'application/json', ...headers, ...(mode === 'length' ? { 'content-length': Buffer.byteLength(text) } : {}) });
    res.write(half);
    // let the first half reach the peer, then fail
    setTimeout(() => {
      const socket = res.socket;
      if (!socket) return;
      if (mode === 'reset') socket.resetAndDestroy();
      else socket.destroy();
    }, 25);
  }

  private async sendFrames(res: ServerResponse, frames: Frame[], scenario: string, provider: Provider): Promise<void> {
    const [kind, argText] = scenario.split(':');
    const arg = Number(argText ?? 0);
    const interval = kind === 'slow-drip' ? arg : (this.opts.frameIntervalMs ?? 0);
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    const rec = this.recordByRes.get(res);
    const write = (fr: Frame) => {
      const text = `${fr.event ? `event: ${fr.event}\n` : ''}data: ${fr.data}\n\n`;
      rec?.response.push(Buffer.from(text));
      return res.write(text);
    };
    for (let i = 0; i < frames.length; i++) {
      if (res.destroyed) return;
      if (i === arg && MID_STREAM_FAILURES.has(kind ?? '')) {
        // let the frames written so far reach the peer before the failure
        await delay(25);
        if (res.destroyed) return;
        if (kind === 'reset-mid-stream') {
          res.socket?.destroy();
          return;
        }
        if (kind === 'hang-mid-stream') return; // stop sending, keep the connection open
        if (kind === 'truncate') {
          res.end();
          return;
        }
        if (kind === 'stream-error') {
          const data = provider === 'anthropic'
            ? anthropicError('overloaded_error', 'mock: overloaded mid-stream')
            : JSON.stringify({ error: { message: 'mock: server error mid-stream', type: 'server_error', param: null, code: null } });
          const text = provider === 'anthropic' ? `event: error\ndata: ${data}\n\n` : `data: ${data}\n\n`;
          rec?.response.push(Buffer.from(text));
          res.write(text);
          res.end();
          return;
        }
      }
      if (kind === 'malformed-sse' && i === 2) {
        const text = 'data: {"type": "content_block_delta", "index": 0, "delta": {"type": "text_de\n\nthis is not an sse line\n\n';
        rec?.response.push(Buffer.from(text));
        res.write(text);
        res.end();
        return;
      }
      write(frames[i] as Frame);
      if (interval > 0) await delay(interval);
    }
    res.end();
  }
}

function modelsList(anthropic: boolean): Json {
  if (anthropic) {
    return {
      data: [
        { type: 'model', id: 'claude-sonnet-5-5', display_name: 'Claude Sonnet 4.5', created_at: '2025-09-29T00:00:00Z' },
        { type: 'model', id: 'claude-haiku-5-5', display_name: 'Claude Haiku 4.5', created_at: '2025-10-01T00:00:00Z' },
      ],
      has_more: false, first_id: 'claude-sonnet-5-5', last_id: 'claude-haiku-5-5',
    };
  }
  return { object: 'list', data: [{ id: 'gpt-4o', object: 'model', created: 1715367049, owned_by: 'system' }, { id: 'gpt-4o-mini', object: 'model', created: 1721172741, owned_by: 'system' }] };
}

/** Scenarios that break a stream at frame `arg` (others never pause before a frame). */
const MID_STREAM_FAILURES = new Set(['reset-mid-stream', 'hang-mid-stream', 'truncate', 'stream-error']);

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
