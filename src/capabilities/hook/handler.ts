/**
 * The Aperture `pre_request` hook. Envelope `{metadata, request_body}`; answer HTTP 200 with
 * `{"action":"allow"}` or `{"action":"modify","request_body":{...}}` where only `messages`
 * differs from what was received (every other byte of the body is copied as sent). Never
 * `block`: every read, decode, parse, worker, timeout or shutdown problem fails open.
 * Exceptions: non-POST -> 405; an unsupported Content-Encoding -> 415 with `Accept-Encoding`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { OriginalsSink } from '../../originals/sink.js';
import type { CompressSettings } from '../../compress/options.js';
import type { ApiShape } from '../../compress/request/slots.js';
import type { Config } from '../../config/index.js';
import { readBody } from '../../core/http.js';
import { jsonTooDeep, tooDeepMessage } from '../../compress/json-depth.js';
import { detectFormat } from '../../sdk/compress.js';
import type { Funnel } from '../../core/funnel.js';
import type { Logger } from '../../core/logger.js';
import type { ProviderId } from '../../core/outcome.js';
import { OutcomeRecorder, startFrom } from '../../core/recorder.js';
import type { HookFacts, HookOutcomeName } from './facts.js';
import { affinityKey } from './affinity.js';
import { DecodeError, decodeRequestBody } from '../../providers/content-encoding.js';
import { ACCEPT_ENCODING, acceptsGzip, isSupportedCoding, MAX_DECODED_BYTES, normaliseCoding } from './encoding.js';
import type { HookResponse } from './schema.js';
import { PoolError, type PoolResult, type WorkerPool } from './pool.js';
import { engineSettings } from './settings.js';
import type { SettingsStore } from './settings-store.js';
import { round2 } from '../../util/round.js';

const gzipAsync = promisify(gzip);

export interface HookHost {
  readonly config: Config;
  readonly funnel: Funnel;
  nextRequestId(): string;
}

/** In-flight accounting of every request reaching the handler (any method). */
export class InboundCounter {
  total = 0;
  completed = 0;
  get active(): number {
    return Math.max(0, this.total - this.completed);
  }
}

export interface HookDeps {
  host: HookHost;
  pool: WorkerPool;
  settings: SettingsStore;
  /** Engine settings the hook knobs are applied onto (tool exclusions, item cap). */
  base: Readonly<CompressSettings>;
  log: Logger;
  gzipResponse: boolean;
  acceptCompressed: boolean;
  inbound: InboundCounter;
  /** Where originals of lossy cuts go (so `headroom_retrieve` can serve them). */
  originals?: () => OriginalsSink | undefined;
  maxBodyBytes?: number;
}

const ALLOW = Buffer.from(`${JSON.stringify({ action: 'allow' } satisfies HookResponse)}\n`);
/** `{"action":"modify","request_body":<the received body, messages replaced>}` (`HookResponse`), written around the body's bytes. */
const MODIFY_HEAD = Buffer.from('{"action":"modify","request_body":');
const MODIFY_TAIL = Buffer.from('}\n');
// provider bodies are never Vercel AI SDK messages; such a body is treated as Anthropic-shaped (nothing in it matches a slot)
const API_OF = { openai: 'chat', anthropic: 'messages', responses: 'responses', vercel: 'messages' } as const;

const REASON: Record<HookOutcomeName, string> = {
  modify: 'modify',
  noop: 'allow(noop)',
  error: 'allow(error)',
  passthrough: 'allow(passthrough)',
  read_error: 'allow(read-error)',
  decode_error: 'allow(decode-error)',
  reject_encoding: 'reject(encoding)',
};


export function providerIdOf(p: string | null): ProviderId {
  const s = (p ?? '').toLowerCase();
  return s === 'anthropic' || s === 'openai' ? s : 'unknown';
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

export function createHookHandler(deps: HookDeps) {
  const { host, pool, log } = deps;
  const limit = deps.maxBodyBytes ?? MAX_DECODED_BYTES;

  return async (req: IncomingMessage, res: ServerResponse, path: string, prefixProject: string | null = null): Promise<void> => {
    const t0 = performance.now();
    deps.inbound.total++;
    res.once('close', () => deps.inbound.completed++);
    if (deps.acceptCompressed) res.setHeader('accept-encoding', ACCEPT_ENCODING);
    if (req.method !== 'POST') {
      res.writeHead(405, { 'content-type': 'text/plain; charset=utf-8', allow: 'POST' });
      res.end('method not allowed\n');
      return;
    }
    const rec = new OutcomeRecorder(host.funnel, startFrom(req.headers, { kind: 'hook', requestId: host.nextRequestId(), method: req.method ?? 'POST', path, provider: 'unknown', api: 'hook', prefixProject }), t0);
    const start = rec.info;
    const facts: HookFacts = {
      outcome: 'passthrough', reason: '', coding: null, metadataProvider: null, metadataModel: null,
      inMsgs: 0, inBytes: 0, outBytes: 0, wireBytes: 0, readMs: 0, writeMs: 0, queueMs: 0, workerMs: 0,
      slot: -1, cold: false, modelLimit: 0, dispatch: null, tokensAfter: 0,
    };
    rec.status = 200;
    const abort = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) {
        abort.abort();
        if (!rec.errorType) rec.fail('client_abort', 'the gateway closed the connection before the hook answered');
        rec.status = 499;
      }
      facts.reason = REASON[facts.outcome];
      start.provider = providerIdOf(facts.metadataProvider);
      // the whole call is the hook's own work; its steps are its stages
      rec.overheadMs = rec.elapsed();
      const stages = rec.stagesMs;
      stages.read = round2(facts.readMs);
      stages.queue = round2(facts.queueMs);
      stages.worker = round2(facts.workerMs);
      stages.write = round2(facts.writeMs);
      rec.ext.hook = facts;
      rec.record(rec.status);
    });

    const send = async (code: number, body: Buffer, type = 'application/json') => {
      const tw = performance.now();
      let out = body;
      const headers: Record<string, string | number> = { 'content-type': type, 'x-headroom-request-id': start.requestId };
      if (code === 200 && deps.gzipResponse && acceptsGzip(req.headers['accept-encoding'])) {
        try {
          out = await gzipAsync(body);
          headers['content-encoding'] = 'gzip';
          headers.vary = 'Accept-Encoding';
        } catch (err) {
          log.warn({ err: (err as Error).message }, 'gzip response failed; sending uncompressed');
          out = body;
        }
      }
      if (res.destroyed) return;
      rec.status = code;
      headers['content-length'] = out.length;
      res.writeHead(code, headers);
      rec.ttfbMs = rec.elapsed();
      rec.bytesOut = out.length;
      res.end(out);
      facts.writeMs = performance.now() - tw;
    };
    const allow = (outcome: HookOutcomeName, why?: string) => {
      facts.outcome = outcome;
      facts.outBytes = facts.inBytes;
      if (why) rec.errorMessage = why.slice(0, 500);
      return send(200, ALLOW);
    };

    // 1. read (the request is in flight, for the live view, while its body arrives)
    rec.start();
    const read = await readBody(req, limit, { timeoutMs: host.config.requestBodyTimeoutSeconds * 1000 });
    facts.readMs = performance.now() - t0;
    const coding = normaliseCoding(req.headers['content-encoding']);
    facts.coding = coding;
    if (read.kind !== 'ok') {
      facts.wireBytes = read.kind === 'aborted' ? 0 : read.received;
      if (read.kind === 'timeout') {
        log.warn({ bytes: read.received, timeout_s: host.config.requestBodyTimeoutSeconds }, 'hook request body stalled; allowing');
        rec.errorType = 'body_timeout';
        return allow('read_error', `the request body stalled (no data for ${host.config.requestBodyTimeoutSeconds} s)`);
      }
      if (read.kind === 'too_large') {
        // tsheadroom cuts the body at 50 MiB and then fails to parse it: forward unchanged.
        log.warn({ bytes: read.received, limit }, 'hook request body too large; allowing');
        return allow('passthrough', `request body exceeds ${limit} bytes`);
      }
      log.warn('read request body failed; allowing');
      rec.errorType = 'client_abort';
      return allow('read_error', 'reading the request body failed');
    }
    facts.wireBytes = read.body.length;
    start.bytesIn = read.body.length;

    // 2. decode
    if (coding !== null && !isSupportedCoding(coding)) {
      rec.update();
      facts.outcome = 'reject_encoding';
      rec.errorType = 'invalid_request';
      rec.errorMessage = `unsupported content-encoding "${coding}"`;
      log.warn({ coding }, 'rejecting unsupported request content-encoding');
      res.setHeader('accept-encoding', ACCEPT_ENCODING);
      return send(415, Buffer.from('unsupported content-encoding\n'), 'text/plain; charset=utf-8');
    }
    let body = read.body;
    if (coding !== null) {
      try {
        body = await decodeRequestBody(read.body, coding, limit);
      } catch (err) {
        rec.update();
        rec.errorType = 'invalid_request';
        log.warn({ coding, err: (err as Error).message }, 'decode request body failed; allowing');
        return allow('decode_error', err instanceof DecodeError ? err.message : String(err));
      }
    }

    // 3. parse
    let env: unknown;
    try {
      env = JSON.parse(body.toString('utf8'));
    } catch {
      env = undefined;
    }
    const meta = isObj(env) && isObj(env.metadata) ? env.metadata : {};
    facts.metadataProvider = str(meta.provider);
    facts.metadataModel = str(meta.model);
    const rb = isObj(env) ? env.request_body : undefined;
    const messages = isObj(rb) ? rb.messages : undefined;
    const model = facts.metadataModel ?? (isObj(rb) ? str(rb.model) : null) ?? '';
    start.requestedModel = model || null;
    start.provider = facts.metadataProvider === 'anthropic' || facts.metadataProvider === 'openai' ? facts.metadataProvider : 'unknown';
    if (Array.isArray(messages)) start.messageCount = messages.length;
    rec.update();
    if (jsonTooDeep(env)) return allow('passthrough', tooDeepMessage('request body'));
    if (!Array.isArray(messages)) {
      const why = env === undefined ? 'invalid JSON' : !isObj(env) ? 'envelope is not an object' : rb === undefined || rb === null ? 'no request_body' : !isObj(rb) ? 'request_body is not an object' : messages === undefined ? 'request_body has no messages' : 'messages is not an array';
      return allow('passthrough', why);
    }
    facts.inMsgs = messages.length;
    if (messages.length === 0) return allow('noop');

    // 4. compress in a worker
    const snapshot = deps.settings.settings;
    const provider = (facts.metadataProvider ?? '').toLowerCase();
    const api: ApiShape = provider === 'anthropic' ? 'messages' : API_OF[detectFormat(messages)];
    const key = affinityKey(meta.session_id, messages);
    let run: PoolResult;
    try {
      run = await pool.run({ envelope: body, api, model, settings: engineSettings(snapshot, deps.base) }, key, abort.signal);
    } catch (err) {
      const e = err instanceof PoolError ? err : new PoolError('worker_error', String(err));
      facts.dispatch = e.dispatch;
      facts.slot = e.slot;
      rec.errorType = e.code === 'aborted' ? 'client_abort' : 'compression';
      rec.compression = { tokensBefore: 0, tokensAfter: 0, tokensSaved: 0, newInputTokens: 0, transforms: [], timingsMs: {}, error: e.message, mode: 'optimize' };
      log.warn({ err: e.message, code: e.code }, 'compress failed; allowing');
      return allow('error', e.message);
    }
    const r = run.result;
    facts.dispatch = run.dispatch;
    facts.slot = run.slot;
    facts.queueMs = run.queueMs;
    facts.workerMs = r.elapsedMs;
    facts.cold = r.coldFirstCall;
    facts.modelLimit = r.modelLimit;
    facts.inBytes = r.inBytes;
    facts.tokensAfter = r.tokensAfter;
    rec.compression = {
      tokensBefore: r.tokensBefore,
      tokensAfter: r.tokensAfter,
      tokensSaved: r.tokensSaved,
      newInputTokens: r.tokensBefore,
      transforms: [...new Set(r.transforms)],
      timingsMs: { pipeline_total: r.elapsedMs, _queue: Math.round(run.queueMs * 1000) / 1000 },
      error: null,
      mode: 'optimize',
      potentialTokensSaved: r.tokensSaved,
      ...(r.tokensSaved > 0 ? { savedByTransform: r.savedByTransform } : {}),
    };
    if (!r.requestBody || r.tokensSaved <= 0) return allow('noop');
    if (r.ccr.length) {
      const sink = deps.originals?.();
      try {
        sink?.put(r.ccr);
        // the gateway forwards the markers to the model: their originals go to disk first
        if (sink?.durable) await sink.durable();
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'storing originals failed; allowing the request unchanged');
        const c = rec.compression;
        rec.compression = { ...c, tokensAfter: c.tokensBefore, tokensSaved: 0, error: `originals could not be stored durably: ${(err as Error).message}`.slice(0, 500) };
        delete rec.compression.savedByTransform;
        return allow('error', 'originals could not be stored durably');
      }
    }
    facts.outcome = 'modify';
    facts.outBytes = r.outBytes;
    rec.modified = true;
    const rbBytes = Buffer.from(r.requestBody.buffer, r.requestBody.byteOffset, r.requestBody.byteLength);
    return send(200, Buffer.concat([MODIFY_HEAD, rbBytes, MODIFY_TAIL]));
  };
}
