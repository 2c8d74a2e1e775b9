/**
 * The mock upstream's Responses WebSocket (`GET /v1/responses` with `Upgrade: websocket`), as
 * the OpenAI API serves it: each `response.create` message (the Responses create body with a
 * `type`) is answered with the Responses streaming events (`response.created`,
 * `response.output_text.delta`, ..., `response.completed` with usage, cached tokens included).
 * The connection keeps its last response: a `response.create` with that
 * `previous_response_id` continues it (input tokens count the whole conversation, and the
 * prompt-cache simulation sees it as one prompt); an unknown id gets the
 * `previous_response_not_found` error event. A message that is not JSON, or not an event the
 * mock knows, gets an `error` event.
 *
 * Scenarios, from the upgrade's `x-mock-scenario` header: `status:<code>` refuses the
 * handshake with that HTTP status and an OpenAI error body; `drop-mid-stream:<n>` sends the
 * first n events of each response and then drops the connection; `close-after-turns:<n>`
 * closes the socket normally (1000) once n responses completed; `late-done` sends, before
 * answering a response.create, a `response.done` event for the previous response (some
 * servers send one after `response.completed`; late, it must not end the next turn).
 */
import type { IncomingMessage, Server } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { openaiError, responsesStream } from './openai.js';
import type { PromptCacheSim } from './prompt-cache.js';

type Json = Record<string, unknown>;

/** One WebSocket session the mock served. */
export interface RecordedWsSession {
  /** Handshake headers as received. */
  headers: IncomingMessage['headers'];
  url: string;
  scenario: string;
  /** Every message received, exactly as sent. */
  received: Buffer[];
  /** Every event sent, exactly as sent. */
  sent: string[];
  /** Close code received from the peer (null while open, 1006 when the connection dropped). */
  closeCode: number | null;
}

export interface MockWsOptions {
  frameIntervalMs?: number;
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

function wsError(status: number, type: string, code: string, message: string): string {
  return JSON.stringify({ type: 'error', status, error: { type, code, message, param: null } });
}

export class MockResponsesSocket {
  readonly sessions: RecordedWsSession[] = [];
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly open = new Set<WebSocket>();
  private readonly waiters: { n: number; resolve: () => void }[] = [];

  constructor(
    server: Server,
    private readonly cache: PromptCacheSim,
    private readonly opts: MockWsOptions = {},
  ) {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
  }

  /** Resolves once `n` messages in total were received over every session. */
  waitForMessages(n: number): Promise<void> {
    if (this.messageCount() >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  private messageCount(): number {
    return this.sessions.reduce((a, s) => a + s.received.length, 0);
  }

  get last(): RecordedWsSession | undefined {
    return this.sessions[this.sessions.length - 1];
  }

  reset(): void {
    this.sessions.length = 0;
  }

  close(): void {
    for (const ws of this.open) ws.terminate();
    this.wss.close();
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? '/').split('?')[0];
    const scenario = typeof req.headers['x-mock-scenario'] === 'string' ? req.headers['x-mock-scenario'] : 'ok';
    const [kind, arg] = scenario.split(':');
    if (path !== '/v1/responses') return this.refuse(socket, 404, openaiError('invalid_request_error', `Unknown WebSocket path ${path}`));
    if (kind === 'status') {
      const status = Number(arg) || 500;
      const type = status === 401 ? 'invalid_request_error' : status === 429 ? 'rate_limit_error' : status >= 500 ? 'server_error' : 'invalid_request_error';
      return this.refuse(socket, status, openaiError(type, `mock upstream refused the WebSocket with ${status}`, status === 401 ? 'invalid_api_key' : null));
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.serve(ws, req, scenario));
  }

  private refuse(socket: Duplex, status: number, body: string): void {
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }

  private serve(ws: WebSocket, req: IncomingMessage, scenario: string): void {
    const rec: RecordedWsSession = { headers: req.headers, url: req.url ?? '/', scenario, received: [], sent: [], closeCode: null };
    this.sessions.push(rec);
    this.open.add(ws);
    const [kind, arg] = scenario.split(':');
    let last: { id: string; input: unknown[]; done: unknown } | null = null;
    let completed = 0;
    let chain = Promise.resolve();
    const send = (text: string) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      rec.sent.push(text);
      ws.send(text);
    };
    ws.on('close', (code) => {
      rec.closeCode = code;
      this.open.delete(ws);
    });
    ws.on('message', (data: RawData) => {
      const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      rec.received.push(buf);
      for (let i = this.waiters.length - 1; i >= 0; i--) {
        if (this.messageCount() >= this.waiters[i]!.n) this.waiters.splice(i, 1)[0]!.resolve();
      }
      chain = chain.then(async () => {
        let msg: Json;
        try {
          msg = JSON.parse(buf.toString('utf8')) as Json;
        } catch {
          return send(wsError(400, 'invalid_request_error', 'invalid_json', 'The message is not valid JSON.'));
        }
        if (msg.type !== 'response.create') return send(wsError(400, 'invalid_request_error', 'unknown_event', `Unknown event type ${String(msg.type)}.`));
        const { type: _type, previous_response_id: prevId, ...body } = msg;
        let input: unknown[] = typeof body.input === 'string' ? [{ role: 'user', content: body.input }] : Array.isArray(body.input) ? body.input : [];
        if (typeof prevId === 'string') {
          if (!last || last.id !== prevId) return send(wsError(400, 'invalid_request_error', 'previous_response_not_found', `Previous response with id '${prevId}' not found.`));
          input = [...last.input, ...input];
        }
        const whole: Json = { ...body, input };
        if (kind === 'late-done' && last) send(JSON.stringify({ type: 'response.done', response: last.done }));
        const frames = responsesStream(whole, Buffer.byteLength(JSON.stringify(whole)), this.cache, true);
        const drop = kind === 'drop-mid-stream' ? Number(arg) || 1 : Infinity;
        for (let i = 0; i < frames.length; i++) {
          if (i >= drop) {
            ws.terminate();
            return;
          }
          send(frames[i]!.data);
          if (this.opts.frameIntervalMs) await delay(this.opts.frameIntervalMs);
        }
        const done = JSON.parse(frames[frames.length - 1]!.data) as { response: { id: string; output: unknown[] } };
        last = { id: done.response.id, input: [...input, ...done.response.output], done: done.response };
        completed++;
        if (kind === 'close-after-turns' && completed >= (Number(arg) || 1)) ws.close(1000, 'done');
      });
    });
  }
}
