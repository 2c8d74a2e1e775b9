/**
 * One Responses WebSocket session: the client's socket, the upstream's, and the relay between
 * them. Every message goes through unchanged and in order, except the `response.create`
 * messages, whose newest input items are compressed like an HTTP `/v1/responses` body (the
 * replay map keeps resent history byte-identical); a message that is not JSON is answered
 * with an `error` event and not forwarded.
 *
 * Each `response.create` is a turn (`turn.ts`) with one recorder: one start event and one
 * outcome, recorded at its terminal event; turns are answered in the order they were sent
 * (a FIFO), which is how the upstream answers them. When the upstream cannot be reached, refuses the handshake
 * or goes away, the client gets an `error` event in the Responses shape and a close, and every
 * turn still waiting is recorded with that error (a session that had none records one
 * outcome of its own). A client that goes away ends its turns as `client_abort`.
 */
import type { IncomingMessage } from 'node:http';
import WebSocket, { type RawData } from 'ws';
import type { Config } from '../../config/index.js';
import { jsonTooDeep, tooDeepMessage } from '../../compress/json-depth.js';
import type { InFlight } from '../../core/app.js';
import type { Funnel } from '../../core/funnel.js';
import type { Logger } from '../../core/logger.js';
import type { ErrorType } from '../../core/outcome.js';
import type { CompressionTarget } from '../compression/api.js';
import { closeReason, errorEvent, sendableCode } from './events.js';
import { type SessionIdentity, Turn } from './turn.js';
import { requestedProtocols, upstreamHeaders, upstreamUrl } from './upstream.js';
import { round3 } from '../../util/round.js';

export interface SessionHost {
  readonly config: Config;
  readonly log: Logger;
  readonly funnel: Funnel;
  nextRequestId(): string;
  track(work: InFlight): () => void;
  readonly draining: boolean;
  /** The compression service's stage (absent: forwarded as sent). */
  readonly compress: ((t: CompressionTarget) => void | Promise<void>) | null;
  /** The session ended (its gauge goes down). */
  ended(session: Session): void;
}

interface Cause {
  status: number;
  type: ErrorType;
  message: string;
}

const SHUTDOWN = 'headroom-ts is shutting down and ended this session; reconnect (to another instance if one is available).';

export class Session {
  readonly id: string;
  readonly t0 = performance.now();
  private upstream: WebSocket | null = null;
  /** The upstream socket is open (messages go straight through). */
  upstreamOpen = false;
  /** Messages waiting for the upstream to open, in order. */
  private readonly waiting: { data: Buffer; binary: boolean; turn: Turn | null }[] = [];
  /** Turns sent (or waiting to be) and not answered yet, oldest first. */
  private readonly turns: Turn[] = [];
  private readonly untrack = new Map<Turn, () => void>();
  /** Client messages are handled one after the other (compression may wait for the disk). */
  private chain: Promise<void> = Promise.resolve();
  private turnCount = 0;
  /** Ids of the last responses that ended (a late `response.done` of one is not the next turn's). */
  private readonly finished = new Set<string>();
  private ending: Cause | null = null;
  private drainWhenIdle = false;

  constructor(
    private readonly host: SessionHost,
    private readonly client: WebSocket,
    private readonly who: SessionIdentity,
    private readonly search: string,
    private readonly dropAuthorization: boolean,
  ) {
    this.id = host.nextRequestId();
  }

  get closed(): boolean {
    return this.ending !== null;
  }

  start(): void {
    const { config, log } = this.host;
    this.client.on('message', (data: RawData, binary: boolean) => {
      const buf = toBuffer(data);
      this.chain = this.chain.then(() => this.fromClient(buf, binary)).catch((err: unknown) => {
        log.error({ session: this.id, err: (err as Error)?.message ?? String(err) }, 'websocket message handling failed');
      });
    });
    this.client.on('close', (code: number) => this.clientClosed(code));
    this.client.on('error', (err: Error) => log.debug({ session: this.id, err: err.message }, 'websocket client error'));

    const url = upstreamUrl(config.openaiApiUrl, this.who.path, this.search);
    const headers = upstreamHeaders(this.who.req.rawHeaders, this.who.req.headers, {
      stripInternal: config.stripInternalHeaders === 'enabled',
      dropAuthorization: this.dropAuthorization,
    });
    const protocols = requestedProtocols(this.who.req.headers);
    let up: WebSocket;
    try {
      up = new WebSocket(url, protocols, {
        headers,
        handshakeTimeout: Math.round(config.connectTimeoutSeconds * 1000),
        maxPayload: Math.max(config.maxBodyBytes, 64 * 1024 * 1024),
      });
    } catch (err) {
      // an upstream URL the client library refuses (scheme, subprotocol list)
      this.fail({ status: 502, type: 'upstream_connect', message: `Could not open the upstream WebSocket: ${(err as Error).message}` });
      return;
    }
    this.upstream = up;
    up.on('open', () => this.upstreamOpened());
    up.on('message', (data: RawData, binary: boolean) => this.fromUpstream(toBuffer(data), binary));
    up.on('unexpected-response', (_req, res: IncomingMessage) => this.upstreamRefused(res));
    up.on('error', (err: Error & { code?: string }) => {
      if (this.ending) return;
      const timeout = /timed out/i.test(err.message);
      if (!this.upstreamOpen) {
        this.fail(
          timeout
            ? { status: 504, type: 'upstream_timeout', message: `The upstream did not accept the WebSocket within ${config.connectTimeoutSeconds} s.` }
            : { status: 502, type: 'upstream_connect', message: `Could not open the upstream WebSocket: ${err.code ?? err.message}.` },
        );
      } else this.fail({ status: 502, type: 'upstream_stream', message: `The upstream WebSocket failed: ${err.code ?? err.message}.` });
    });
    up.on('close', (code: number, reason: Buffer) => this.upstreamClosed(code, reason.toString('utf8')));
    log.info({ session: this.id, upstream: url.split('?')[0] }, 'websocket session opened');
  }

  private upstreamOpened(): void {
    if (this.ending) return;
    this.upstreamOpen = true;
    for (const m of this.waiting.splice(0)) this.sendUpstream(m.data, m.binary, m.turn);
  }

  private sendUpstream(data: Buffer, binary: boolean, turn: Turn | null): void {
    if (!this.upstreamOpen) {
      this.waiting.push({ data, binary, turn });
      return;
    }
    turn?.sent();
    this.upstream!.send(data, { binary });
  }

  private async fromClient(data: Buffer, binary: boolean): Promise<void> {
    if (this.ending) return;
    if (binary) {
      this.sendUpstream(data, true, null);
      return;
    }
    const t0 = performance.now();
    let json: unknown;
    let problem: string | null = null;
    try {
      json = JSON.parse(data.toString('utf8'));
      if (json === null || typeof json !== 'object' || Array.isArray(json)) problem = 'A message must be a JSON object (an event such as {"type":"response.create", ...}).';
      else if (jsonTooDeep(json)) problem = tooDeepMessage();
    } catch (err) {
      problem = `Invalid JSON in message: ${(err as Error).message}`;
    }
    if (problem !== null) {
      // answered here, never forwarded: the upstream would close the whole session on it
      const turn = new Turn(this.host.funnel, this.who, this.host.nextRequestId(), data, this.id, 0, t0);
      turn.rec.overheadMs = performance.now() - t0;
      turn.rec.start();
      turn.fail('invalid_request', problem, 400);
      this.sendClient(errorEvent(400, 'invalid_request', problem), turn);
      this.record(turn);
      return;
    }
    const msg = json as Record<string, unknown>;
    if (msg.type !== 'response.create') {
      this.sendUpstream(data, false, null);
      return;
    }
    const turn = new Turn(this.host.funnel, this.who, this.host.nextRequestId(), data, this.id, ++this.turnCount, t0);
    turn.setJson(msg);
    turn.rec.start();
    this.untrack.set(turn, this.host.track({ endForShutdown: () => this.endForShutdown() }));
    if (this.host.draining) {
      turn.rec.overheadMs = performance.now() - t0;
      turn.fail('shutdown', SHUTDOWN, 503);
      this.sendClient(errorEvent(503, 'shutdown', SHUTDOWN), turn);
      this.record(turn);
      this.close(1001, 'server shutting down');
      return;
    }
    const compress = this.host.compress;
    if (compress) {
      const tc = performance.now();
      try {
        await compress(turn);
      } catch (err) {
        this.host.log.error({ session: this.id, err: (err as Error)?.message ?? String(err) }, 'websocket compression failed; forwarding the message unchanged');
        turn.setForwardBody(turn.body);
      }
      turn.rec.stage('compression', performance.now() - tc);
    }
    turn.rec.overheadMs = performance.now() - t0;
    // the session may have ended while the message was being compressed
    const cause = this.ending as Cause | null;
    if (cause) {
      turn.fail(cause.type, cause.message, cause.status);
      this.record(turn);
      return;
    }
    this.turns.push(turn);
    this.sendUpstream(turn.forwardBody, false, turn);
  }

  private fromUpstream(data: Buffer, binary: boolean): void {
    if (this.client.readyState === WebSocket.OPEN) this.client.send(data, { binary });
    const turn = this.turns[0];
    if (!turn || binary) return;
    const seen = turn.observe(data, this.finished);
    if (seen === 'end') {
      this.turns.shift();
      if (turn.responseId) {
        this.finished.add(turn.responseId);
        if (this.finished.size > 16) this.finished.delete(this.finished.values().next().value as string);
      }
      this.record(turn);
      if (this.drainWhenIdle && this.turns.length === 0) this.close(1001, 'server shutting down');
    } else if (seen === 'progress') {
      // figures for the live view while the turn streams (the recorder has start and outcome only)
      const r = turn.response;
      const u = r.usage;
      this.host.funnel.progress({
        requestId: turn.id,
        model: r.model,
        inputTokens: u?.input ?? 0,
        outputTokens: u?.output ?? 0,
        cacheReadTokens: u?.cacheRead ?? 0,
        cacheWriteTokens: 0,
        toolCalls: r.toolCalls,
        bytesOut: turn.rec.bytesOut,
        ttfbMs: turn.rec.ttfbMs,
      });
    }
  }

  /** The upstream answered the handshake with an HTTP response (401, 429, 5xx ...): its status and message go to the client. */
  private upstreamRefused(res: IncomingMessage): void {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      if (size < 64 * 1024) chunks.push(c);
      size += c.length;
    });
    const done = () => {
      if (this.ending) return;
      const status = res.statusCode ?? 502;
      let message = `The upstream refused the WebSocket: HTTP ${status}.`;
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: { message?: unknown } };
        if (typeof body.error?.message === 'string') message = `The upstream refused the WebSocket (HTTP ${status}): ${body.error.message}`;
      } catch {
        // not JSON: the status says enough
      }
      const type: ErrorType = status === 429 ? 'upstream_rate_limited' : status === 503 || status === 529 ? 'upstream_overloaded' : status < 500 ? 'upstream_client_error' : 'upstream_server_error';
      this.fail({ status, type, message });
      this.upstream?.terminate();
    };
    res.once('end', done);
    res.once('error', done);
    res.once('close', done);
  }

  private upstreamClosed(code: number, reason: string): void {
    const wasOpen = this.upstreamOpen;
    this.upstreamOpen = false;
    if (this.ending) return;
    if (!wasOpen) {
      this.fail({ status: 502, type: 'upstream_connect', message: 'The upstream closed the connection before the WebSocket opened.' });
      return;
    }
    if (this.turns.length > 0 || this.waiting.length > 0) {
      this.fail({ status: 502, type: 'upstream_stream', message: `The upstream closed the WebSocket (code ${code}${reason ? `: ${reason}` : ''}) before answering.` }, sendableCode(code, 1011), reason);
      return;
    }
    // nothing was waiting for an answer: the close goes to the client as the upstream sent it
    this.ending = { status: 502, type: 'upstream_stream', message: 'upstream closed' };
    this.close(sendableCode(code, 1011), reason);
  }

  /** Ends the session on an error: every turn waiting gets it, the client an error event and a close. */
  private fail(cause: Cause, code = 1011, reason = cause.message): void {
    if (this.ending) return;
    this.ending = cause;
    const waiting = [...this.turns, ...this.waiting.map((w) => w.turn).filter((t): t is Turn => t !== null)];
    this.turns.length = 0;
    this.waiting.length = 0;
    const event = errorEvent(cause.status, cause.type, cause.message);
    this.host.log.warn({ session: this.id, error_type: cause.type, status: cause.status, turns: waiting.length }, 'websocket session ended by an upstream failure');
    if (waiting.length === 0 && this.turnCount === 0 && cause.type !== 'shutdown') {
      // no turn to carry the failure: the session records it
      const turn = new Turn(this.host.funnel, this.who, this.host.nextRequestId(), Buffer.alloc(0), this.id, 0);
      turn.rec.start();
      waiting.push(turn);
    }
    for (const turn of waiting) turn.fail(cause.type, cause.message, cause.status);
    this.sendClient(event, waiting[0] ?? null);
    for (const turn of waiting) this.record(turn);
    this.close(code, reason);
  }

  private sendClient(text: string, turn: Turn | null): void {
    if (this.client.readyState !== WebSocket.OPEN) return;
    if (turn) turn.rec.bytesOut += Buffer.byteLength(text);
    this.client.send(text);
  }

  private record(turn: Turn): void {
    if (turn.rec.recorded) return;
    this.untrack.get(turn)?.();
    this.untrack.delete(turn);
    turn.record(this.host.config.logMessages);
  }

  private clientClosed(code: number): void {
    if (!this.ending) this.ending = { status: 499, type: 'client_abort', message: `The client closed the WebSocket (code ${code}) before the response completed.` };
    const cause = this.ending;
    const waiting = [...this.turns, ...this.waiting.map((w) => w.turn).filter((t): t is Turn => t !== null)];
    this.turns.length = 0;
    this.waiting.length = 0;
    for (const turn of waiting) {
      turn.fail(cause.type === 'client_abort' ? 'client_abort' : cause.type, cause.message, cause.type === 'client_abort' ? 499 : cause.status);
      this.record(turn);
    }
    const up = this.upstream;
    if (up && up.readyState === WebSocket.OPEN) up.close(sendableCode(code, 1000));
    else if (up && up.readyState === WebSocket.CONNECTING) up.terminate();
    this.upstreamOpen = false;
    this.host.ended(this);
    this.host.log.info({ session: this.id, code, turns: this.turnCount, seconds: round3((performance.now() - this.t0) / 1000) }, 'websocket session closed');
  }

  /** Closes both sockets (the client with `code`); the session ends when the client's close completes or, failing that, at once. */
  close(code: number, reason: string): void {
    if (!this.ending) this.ending = { status: 503, type: 'shutdown', message: SHUTDOWN };
    if (this.client.readyState === WebSocket.OPEN || this.client.readyState === WebSocket.CONNECTING) this.client.close(code, closeReason(reason));
    const up = this.upstream;
    if (up && up.readyState === WebSocket.OPEN) up.close(1000);
    else if (up && up.readyState === WebSocket.CONNECTING) up.terminate();
    // the gauge counts open sessions: this one is over now, whatever the peer does with the close
    this.host.ended(this);
  }

  /** A graceful shutdown began: an idle session closes now, a busy one after its answer. */
  drain(): void {
    if (this.turns.length === 0 && this.waiting.length === 0) this.close(1001, 'server shutting down');
    else this.drainWhenIdle = true;
  }

  /** The grace period is over: turns still waiting end as `shutdown`. */
  endForShutdown(): void {
    this.fail({ status: 503, type: 'shutdown', message: SHUTDOWN }, 1001, 'server shutting down');
  }

  /** The app closes: nothing is left open. */
  terminate(): void {
    this.endForShutdown();
    this.client.terminate();
    this.upstream?.terminate();
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data as ArrayBuffer);
}
