/**
 * `POST /v1/compress`: compresses a message list without calling a model, with Headroom's
 * request and response shapes (the headroom-ai SDK calls it). Loopback-only by default.
 *
 * Request: `{messages, model, token_budget?, config?: CompressConfig}`; headers
 * `x-headroom-bypass: true` (echo the messages), `x-headroom-mode: optimize|audit|passthrough`.
 * Response: `{messages, tokens_before, tokens_after, tokens_saved, compression_ratio,
 * transforms_applied, transforms_summary, ccr_hashes}` (+ `mode`). Each call is one outcome
 * (kind and api `compress`) in the funnel, recorded by its own OutcomeRecorder; a call still
 * running when a graceful shutdown ends is answered 503.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { jsonTooDeep, tooDeepMessage } from '../../compress/json-depth.js';
import { CompressOptionsError, type CompressSettings } from '../../compress/options.js';
import type { OriginalsSink } from '../../originals/sink.js';
import type { Config } from '../../config/index.js';
import type { InFlight } from '../../core/app.js';
import { decodeOnce } from '../../core/body.js';
import type { Funnel } from '../../core/funnel.js';
import { nonJsonBodyProblem, readBody } from '../../core/http.js';
import type { RouteRequest } from '../../core/router.js';
import { type CompressOptions, runCompress } from '../../sdk/compress.js';
import type { Logger } from '../../core/logger.js';
import { emptyTools, type ErrorType } from '../../core/outcome.js';
import { round2, round3 } from '../../util/round.js';
import { OutcomeRecorder, startFrom } from '../../core/recorder.js';

/** What a call is recorded on: the app's funnel, request ids and in-flight tracking. */
export interface CompressHost {
  readonly funnel: Funnel;
  nextRequestId(): string;
  track(call: InFlight): () => void;
}

export interface CompressRouteDeps {
  host: CompressHost;
  config: Config;
  log: Logger;
  settings: CompressSettings;
  originals: () => OriginalsSink | undefined;
}

const TYPE_OF_ERROR: Partial<Record<ErrorType, string>> = {
  invalid_request: 'invalid_request',
  body_too_large: 'request_too_large',
  body_timeout: 'request_timeout',
  compression: 'compression_error',
  internal: 'internal_error',
};

const errorBody = (type: ErrorType, message: string) => JSON.stringify({ error: { type: TYPE_OF_ERROR[type] ?? type, message } });
const SHUTDOWN_MESSAGE = 'headroom-ts is shutting down and ended this request; retry it (on another instance if one is available).';

/** One `/v1/compress` call: its answer and its recorder (the outcome is recorded when the response closes). */
class CompressCall implements InFlight {
  readonly rec: OutcomeRecorder;
  body: Buffer = Buffer.alloc(0);
  /** The body decoded from its Content-Encoding (null: it had none, or it was not decoded). */
  decoded: Buffer | null = null;

  constructor(
    host: CompressHost,
    logMessages: boolean,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    path: string,
    prefixProject: string | null,
  ) {
    const requestId = host.nextRequestId();
    this.rec = new OutcomeRecorder(host.funnel, startFrom(req.headers, { kind: 'compress', requestId, method: req.method ?? 'POST', path, provider: 'unknown', api: 'compress', prefixProject }));
    const untrack = host.track(this);
    res.once('close', () => {
      untrack();
      const rec = this.rec;
      rec.info.bytesIn = this.body.length;
      const completed = res.writableFinished;
      if (!completed && !rec.errorType) rec.fail('client_abort', 'client closed the connection before the response completed');
      rec.traceFrom(req.headers);
      if (logMessages && this.body.length > 0) {
        const enc = req.headers['content-encoding'];
        rec.messages = { request: this.decoded ?? this.body, forwarded: null, contentEncoding: this.decoded === null && typeof enc === 'string' ? enc : null };
      }
      rec.record(completed ? rec.status : 499);
    });
  }

  get closed(): boolean {
    return this.res.destroyed || this.res.writableEnded;
  }

  reply(status: number, body: string, headers: OutgoingHttpHeaders = {}): void {
    if (this.closed || this.res.headersSent) return;
    const rec = this.rec;
    const buf = Buffer.from(body);
    rec.status = status;
    this.res.writeHead(status, {
      'content-type': 'application/json',
      ...headers,
      'x-headroom-request-id': rec.info.requestId,
      'x-headroom-overhead-ms': round2(rec.overheadMs).toFixed(2),
      'content-length': buf.length,
    });
    rec.ttfbMs = rec.elapsed();
    rec.bytesOut += buf.length;
    this.res.end(buf);
  }

  replyError(status: number, type: ErrorType, message: string, headers: OutgoingHttpHeaders = {}): void {
    this.rec.fail(type, message);
    this.reply(status, errorBody(type, message), headers);
  }

  endForShutdown(): void {
    if (this.closed) return;
    this.rec.fail('shutdown', SHUTDOWN_MESSAGE);
    if (!this.res.headersSent) this.replyError(503, 'shutdown', SHUTDOWN_MESSAGE, { connection: 'close', 'retry-after': '1' });
    else this.res.destroy();
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function compressHandler(deps: CompressRouteDeps) {
  const { config, log } = deps;
  return async (r: RouteRequest): Promise<void> => {
    const ex = new CompressCall(deps.host, config.logMessages, r.req, r.res, r.path, r.prefixProject);
    const rec = ex.rec;
    const headers = r.req.headers;
    const problem = nonJsonBodyProblem(r.req, true);
    if (problem) {
      r.req.resume();
      rec.start();
      ex.replyError(415, 'invalid_request', problem);
      return;
    }
    rec.start(); // in flight (live view) while the body is read
    const read = await readBody(r.req, config.maxBodyBytes, { timeoutMs: config.requestBodyTimeoutSeconds * 1000 });
    if (read.kind === 'aborted') return;
    if (read.kind === 'too_large') {
      ex.replyError(413, 'body_too_large', `Request body exceeds the ${config.maxBodyBytes}-byte limit.`);
      return;
    }
    if (read.kind === 'timeout') {
      ex.replyError(408, 'body_timeout', `The request body stalled: no data for ${config.requestBodyTimeoutSeconds} s.`, { connection: 'close' });
      return;
    }
    ex.body = read.body;
    rec.info.bytesIn = read.body.length;
    const bypass = typeof headers['x-headroom-bypass'] === 'string' && headers['x-headroom-bypass'].trim().toLowerCase() === 'true';

    // decode once (capped at --max-body-bytes decoded), then parse
    const decoded = await decodeOnce(ex.body, headers['content-encoding'], config.maxBodyBytes);
    if (decoded.kind === 'refused') {
      ex.replyError(decoded.status, decoded.type, decoded.message);
      return;
    }
    ex.decoded = decoded.decoded;
    let parsed: unknown;
    try {
      parsed = JSON.parse(decoded.plain.toString('utf8'));
    } catch (err) {
      if (bypass) {
        rec.fail('invalid_request', `Invalid request body: ${(err as Error).message}`);
        ex.reply(400, JSON.stringify({ error: `Invalid request body: ${(err as Error).message}` }));
      } else ex.replyError(400, 'invalid_request', 'Invalid JSON in request body.');
      return;
    }
    if (!isObj(parsed)) {
      ex.replyError(400, 'invalid_request', 'Invalid JSON in request body.');
      return;
    }
    if (jsonTooDeep(parsed)) {
      ex.replyError(400, 'invalid_request', tooDeepMessage());
      return;
    }
    const model = typeof parsed.model === 'string' ? parsed.model : null;
    const messages = parsed.messages;
    const info = rec.info;
    info.provider = model && /^claude/i.test(model) ? 'anthropic' : model ? 'openai' : 'unknown';
    info.requestedModel = model;
    info.messageCount = Array.isArray(messages) ? messages.length : 0;
    info.tools = emptyTools();
    rec.update();

    if (bypass) {
      rec.compression.mode = 'bypass';
      ex.reply(200, JSON.stringify(zeroResult(Array.isArray(messages) ? messages : [])));
      return;
    }
    if (messages === undefined || messages === null) {
      ex.replyError(400, 'invalid_request', 'Missing required field: messages');
      return;
    }
    if (!model) {
      ex.replyError(400, 'invalid_request', 'Missing required field: model');
      return;
    }
    if (!Array.isArray(messages)) {
      ex.replyError(400, 'invalid_request', 'Field messages must be an array.');
      return;
    }
    if (parsed.config !== undefined && parsed.config !== null && !isObj(parsed.config)) {
      ex.replyError(400, 'invalid_request', 'Field config must be an object.');
      return;
    }
    const modeHeader = typeof headers['x-headroom-mode'] === 'string' ? headers['x-headroom-mode'].trim().toLowerCase() : 'optimize';
    const mode = modeHeader === 'passthrough' ? 'passthrough' : modeHeader === 'audit' || modeHeader === 'simulate' ? 'audit' : 'optimize';
    rec.compression.mode = mode;

    const budget = parsed.token_budget;
    const options: CompressOptions = {
      model,
      ...(isObj(parsed.config) ? { config: parsed.config } : {}),
      // a truthy integer token_budget stands in for the model's context window (Headroom)
      ...(typeof budget === 'number' && Number.isInteger(budget) && budget > 0 ? { model_limit: budget } : {}),
      optimize: mode !== 'passthrough',
    };
    const t0 = performance.now();
    const deadline = t0 + config.compressionTimeoutSeconds * 1000;
    let run;
    try {
      run = runCompress(messages as unknown[], options, { base: deps.settings, clock: () => performance.now(), deadline });
    } catch (err) {
      if (err instanceof CompressOptionsError) ex.replyError(400, 'invalid_request', `Invalid config: ${err.message}`);
      else {
        log.error({ err: (err as Error)?.message }, '/v1/compress failed');
        ex.replyError(503, 'compression', (err as Error)?.message ?? String(err));
      }
      return;
    }
    const { result, engine } = run;
    const c = rec.compression;
    c.timingsMs = { ...(engine?.timingsMs ?? {}), pipeline_total: round3(performance.now() - t0) };
    if (result.error) {
      c.error = result.error;
      ex.replyError(503, 'compression', result.error);
      return;
    }
    if (engine?.budgetExceeded) {
      c.error = 'compression timeout';
      rec.fail('compression', 'compression timeout');
      ex.reply(503, JSON.stringify({ error: { type: 'compression_timeout', message: `Compression exceeded ${config.compressionTimeoutSeconds}s; payload too large.` } }));
      return;
    }
    c.tokensBefore = result.tokens_before;
    c.newInputTokens = result.tokens_before;
    c.potentialTokensSaved = result.tokens_saved;
    c.transforms = [...new Set(result.transforms_applied)];
    if (mode === 'audit') {
      c.tokensAfter = result.tokens_before;
      c.tokensSaved = 0;
      ex.reply(200, JSON.stringify({ ...result, ccr: undefined, messages, ccr_hashes: [], mode }));
      return;
    }
    c.tokensAfter = result.tokens_after;
    c.tokensSaved = result.tokens_saved;
    if (engine && result.tokens_saved > 0) c.savedByTransform = engine.savedByTransform;
    const sink = deps.originals();
    if (result.ccr.length) sink?.put(result.ccr);
    if (result.ccr.length && sink?.durable) {
      // the markers in the answer must be retrievable even after a crash: their originals go to disk first
      const ok = await sink.durable().then(() => true, (err: unknown) => {
        c.error = `originals could not be stored durably, messages returned unchanged: ${(err as Error)?.message ?? String(err)}`.slice(0, 500);
        return false;
      });
      if (!ok) {
        c.tokensAfter = c.tokensBefore;
        c.tokensSaved = 0;
        delete c.savedByTransform;
        ex.reply(200, JSON.stringify({ ...zeroResult(messages), tokens_before: result.tokens_before, tokens_after: result.tokens_before, mode }));
        return;
      }
    }
    ex.reply(200, JSON.stringify({ ...result, ccr: undefined, mode }));
  };
}

function zeroResult(messages: unknown[]) {
  return { messages, tokens_before: 0, tokens_after: 0, tokens_saved: 0, compression_ratio: 1.0, transforms_applied: [], ccr_hashes: [] };
}
