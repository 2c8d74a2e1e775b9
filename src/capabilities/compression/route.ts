/**
 * `POST /v1/compress`: compresses a message list without calling a model, with Headroom's
 * request and response shapes (the headroom-ai SDK calls it). Loopback-only by default.
 *
 * Request: `{messages, model, token_budget?, config?: CompressConfig}`; headers
 * `x-headroom-bypass: true` (echo the messages), `x-headroom-mode: optimize|audit|passthrough`.
 * Response: `{messages, tokens_before, tokens_after, tokens_saved, compression_ratio,
 * transforms_applied, transforms_summary, ccr_hashes}` (+ `mode`). Each call is one outcome
 * (kind and api `compress`) in the funnel.
 */
import { jsonTooDeep, tooDeepMessage } from '../../compress/json-depth.js';
import { CompressOptionsError, type CompressSettings } from '../../compress/options.js';
import type { OriginalsSink } from '../../originals/sink.js';
import type { Config } from '../../config/index.js';
import type { ProviderRoute } from '../../providers/routes.js';
import type { ErrorShapes } from '../../providers/types.js';
import type { ProxyService } from '../proxy/api.js';
import { DecodeError, decodeRequestBody, parseContentEncoding } from '../../providers/content-encoding.js';
import { nonJsonBodyProblem, readBody } from '../../core/http.js';
import type { RouteRequest } from '../../core/router.js';
import { type CompressOptions, runCompress } from '../../sdk/compress.js';
import type { Logger } from '../../core/logger.js';
import { emptyTools, type ErrorType } from '../../core/outcome.js';
import { round3 } from '../../util/round.js';

export interface CompressRouteDeps {
  /** The proxy, for the exchange that records the call's one outcome. */
  proxy: Pick<ProxyService, 'exchange'>;
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

const compressErrors: ErrorShapes = {
  errorBody: (_status, type, message) => JSON.stringify({ error: { type: TYPE_OF_ERROR[type] ?? type, message } }),
  streamErrorFrame: () => '',
};

const ROUTE: ProviderRoute = { provider: 'unknown', api: 'compress', adapter: null, errors: compressErrors };

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function compressHandler(deps: CompressRouteDeps) {
  const { config, log } = deps;
  return async (r: RouteRequest): Promise<void> => {
    const ex = deps.proxy.exchange(r, ROUTE, 'compress');
    const headers = r.req.headers;
    const problem = nonJsonBodyProblem(r.req, true);
    if (problem) {
      r.req.resume();
      ex.start();
      ex.replyError(415, 'invalid_request', problem);
      return;
    }
    ex.start(); // in flight (live view) while the body is read
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
    const bypass = typeof headers['x-headroom-bypass'] === 'string' && headers['x-headroom-bypass'].trim().toLowerCase() === 'true';

    // decode once (capped at --max-body-bytes decoded), then parse
    const coding = parseContentEncoding(headers['content-encoding']);
    if (coding.kind === 'unsupported') {
      ex.replyError(415, 'invalid_request', `Content-Encoding "${coding.value.slice(0, 60)}" is not supported (gzip, deflate, br and zstd are).`);
      return;
    }
    if (coding.kind === 'coding') {
      try {
        ex.decoded = await decodeRequestBody(ex.body, coding.coding, config.maxBodyBytes);
      } catch (err) {
        const e = err instanceof DecodeError ? err : new DecodeError('corrupt', String(err));
        if (e.reason === 'too_large') ex.replyError(413, 'body_too_large', `Request body exceeds the ${config.maxBodyBytes}-byte limit once decoded (${e.message}).`);
        else ex.replyError(400, 'invalid_request', `Request body could not be decoded: ${e.message}.`);
        return;
      }
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(ex.plainBody.toString('utf8'));
    } catch (err) {
      if (bypass) {
        ex.fail('invalid_request', `Invalid request body: ${(err as Error).message}`);
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
    ex.info.provider = model && /^claude/i.test(model) ? 'anthropic' : model ? 'openai' : 'unknown';
    ex.setFacts({ model, stream: false, messageCount: Array.isArray(messages) ? messages.length : 0, tools: emptyTools() });
    ex.announce();

    if (bypass) {
      ex.compression.mode = 'bypass';
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
    ex.compression.mode = mode;

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
    const c = ex.compression;
    c.timingsMs = { ...(engine?.timingsMs ?? {}), pipeline_total: round3((performance.now() - t0)) };
    if (result.error) {
      c.error = result.error;
      ex.replyError(503, 'compression', result.error);
      return;
    }
    if (engine?.budgetExceeded) {
      c.error = 'compression timeout';
      ex.fail('compression', 'compression timeout');
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
