/**
 * The proxy request path: gate, read, parse, stages, forward (with retries), then stream the
 * response back as it arrives while usage is read on the side. Bytes we did not change are
 * forwarded exactly as received, in both directions.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import type { Agent } from 'undici';
import { type ProviderRoute, upstreamBase } from '../providers/routes.js';
import type { StreamObserver } from '../providers/types.js';
import { isLoopbackAddress, presentedToken, tokenMatches } from '../server/identity.js';
import { readBody } from '../server/http.js';
import type { Funnel } from '../telemetry/funnel.js';
import type { Logger } from '../telemetry/logger.js';
import { errorTypeForUpstreamStatus } from '../telemetry/outcome.js';
import { Exchange, type ExchangeHost } from './exchange.js';
import { downstreamResponseHeaders, upstreamRequestHeaders } from './headers.js';
import { delayForStatus, backoffMs, type RetryPolicy, sleep } from './retry.js';
import type { CompletedResponse, ProxyStage } from './stage.js';
import { classifyUpstreamError, type UpstreamFailure, type UpstreamResponse } from './upstream.js';

export interface ProxyHost extends ExchangeHost {
  readonly agent: Agent;
  readonly stages: readonly ProxyStage[];
  readonly log: Logger;
  readonly funnel: Funnel;
}

/** Largest non-streaming response body kept in memory to read usage from. */
const MAX_CAPTURE_BYTES = 16 * 1024 * 1024;

export async function handleProxy(ex: Exchange, host: ProxyHost): Promise<void> {
  if (!gate(ex)) return;

  const method = ex.info.method;
  if (method !== 'GET' && method !== 'HEAD') {
    const result = await readBody(ex.req, ex.config.maxBodyBytes);
    if (result.kind === 'aborted') return; // the close handler records the abort
    if (result.kind === 'too_large') {
      ex.replyError(413, 'body_too_large', `Request body exceeds the ${ex.config.maxBodyBytes}-byte limit.`, { connection: 'close' });
      return;
    }
    ex.body = result.body;
  }
  const tBody = performance.now();

  if (ex.route.adapter && !parseJsonBody(ex, ex.route)) {
    ex.overheadMs += performance.now() - tBody;
    ex.start();
    ex.replyError(400, 'invalid_request', ex.errorMessage ?? 'Invalid JSON in request body.');
    return;
  }
  ex.start();

  for (const stage of host.stages) {
    if (!stage.beforeUpstream || ex.closed) continue;
    const ts = performance.now();
    const reply = await stage.beforeUpstream(ex);
    ex.stagesMs[stage.name] = Math.round((performance.now() - ts) * 1000) / 1000;
    if (reply) {
      ex.overheadMs += performance.now() - tBody;
      if (reply.errorType) ex.fail(reply.errorType, reply.errorMessage ?? reply.errorType);
      ex.cached = reply.cached === true;
      ex.reply(reply.status, reply.body, reply.headers);
      return;
    }
  }
  if (ex.closed) return;
  ex.overheadMs += performance.now() - tBody;

  const upstream = await callUpstream(ex, host);
  if (!upstream) return;
  await relayResponse(ex, host, upstream);
}

/** Token gate: with a proxy token configured, non-loopback callers must present it. */
function gate(ex: Exchange): boolean {
  const expected = ex.config.proxyToken;
  if (!expected) return true;
  const given = presentedToken(ex.req.headers);
  if (given && tokenMatches(expected, given.token)) {
    ex.authorizationIsProxyToken = given.via === 'bearer';
    return true;
  }
  if (isLoopbackAddress(ex.req.socket.remoteAddress)) return true;
  ex.req.resume();
  ex.start();
  ex.replyError(401, 'unauthorized', given ? 'Invalid proxy token.' : 'Missing proxy token (X-Headroom-Proxy-Token).');
  return false;
}

/** Decodes a request or response body by its Content-Encoding (identity, gzip, deflate, br). */
export function decodeForParsing(body: Buffer, encoding: string | undefined): Buffer {
  switch ((encoding ?? 'identity').trim().toLowerCase()) {
    case 'identity':
    case '':
      return body;
    case 'gzip':
    case 'x-gzip':
      return gunzipSync(body);
    case 'deflate':
      return inflateSync(body);
    case 'br':
      return brotliDecompressSync(body);
    default:
      throw new Error(`unsupported Content-Encoding "${encoding}"`);
  }
}

function parseJsonBody(ex: Exchange, route: ProviderRoute): boolean {
  if (ex.body.length === 0) {
    ex.fail('invalid_request', 'Request body is empty; a JSON object is required.');
    return false;
  }
  let parsed: unknown;
  try {
    const enc = ex.req.headers['content-encoding'];
    parsed = JSON.parse(decodeForParsing(ex.body, typeof enc === 'string' ? enc : undefined).toString('utf8'));
  } catch (err) {
    ex.fail('invalid_request', `Invalid JSON in request body: ${(err as Error).message}`);
    return false;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    ex.fail('invalid_request', 'Request body must be a JSON object.');
    return false;
  }
  ex.json = parsed as Record<string, unknown>;
  ex.setFacts(route.adapter!.describeRequest(ex.json));
  return true;
}

function failureToError(kind: UpstreamFailure, err: unknown): { status: number; type: 'upstream_timeout' | 'upstream_connect'; message: string } {
  const detail = (err as Error)?.message ?? String(err);
  if (kind === 'timeout' || kind === 'connect_timeout' || kind === 'body_timeout') {
    return { status: 504, type: 'upstream_timeout', message: `Upstream timed out (${kind.replace('_', ' ')}): ${detail}` };
  }
  return { status: 502, type: 'upstream_connect', message: `Upstream unavailable (${kind}): ${detail}` };
}

async function callUpstream(ex: Exchange, host: ProxyHost): Promise<UpstreamResponse | null> {
  const config = ex.config;
  const policy: RetryPolicy = {
    maxAttempts: config.retryMaxAttempts,
    baseDelayMs: config.retryBaseDelayMs,
    maxDelayMs: config.retryMaxDelayMs,
  };
  const origin = upstreamBase(config, ex.route.provider);
  const url = new URL(origin);
  const basePath = url.pathname === '/' ? '' : url.pathname;
  const headers = upstreamRequestHeaders(ex.req.rawHeaders, ex.req.headers, {
    stripInternal: config.stripInternalHeaders === 'enabled',
    dropAuthorization: ex.authorizationIsProxyToken,
    dropContentEncoding: ex.modified,
  });
  const method = ex.info.method;
  const body = method === 'GET' || method === 'HEAD' ? null : ex.forwardBody;

  for (let attempt = 1; ; attempt++) {
    ex.attempts = attempt;
    const tSend = performance.now();
    try {
      const res = await host.agent.request({
        origin: url.origin,
        path: basePath + ex.path + ex.search,
        method: method as 'POST',
        headers,
        body,
        signal: ex.abort.signal,
      });
      ex.upstreamMs = performance.now() - tSend;
      const delay = delayForStatus(policy, attempt, res.statusCode, res.headers);
      if (delay !== null && !ex.closed) {
        host.log.warn({ status: res.statusCode, attempt, delay_ms: delay }, 'upstream returned a retryable status; retrying');
        await res.body.dump().catch(() => undefined);
        if (!(await sleep(delay, ex.abort.signal))) return null;
        continue;
      }
      return res;
    } catch (err) {
      if (ex.closed) return null;
      const kind = classifyUpstreamError(err);
      if (kind === 'aborted') return null;
      const retryable = kind === 'connect' || kind === 'connect_timeout' || kind === 'reset';
      if (retryable && attempt < policy.maxAttempts) {
        const delay = backoffMs(policy, attempt);
        host.log.warn({ failure: kind, attempt, delay_ms: delay }, 'upstream request failed; retrying');
        if (!(await sleep(delay, ex.abort.signal))) return null;
        continue;
      }
      const e = failureToError(kind, err);
      ex.replyError(e.status, e.type, e.message);
      return null;
    }
  }
}

function decodeCaptured(body: Buffer, encoding: unknown): Buffer {
  return decodeForParsing(body, typeof encoding === 'string' ? encoding : undefined);
}

async function relayResponse(ex: Exchange, host: ProxyHost, upstream: UpstreamResponse): Promise<void> {
  const tHeaders = performance.now();
  const { res } = ex;
  const status = upstream.statusCode;
  const contentType = String(upstream.headers['content-type'] ?? '');
  const isSse = contentType.startsWith('text/event-stream');
  const adapter = ex.route.adapter;

  ex.status = status;
  const upstreamError = errorTypeForUpstreamStatus(status);
  if (upstreamError) ex.fail(upstreamError, `upstream returned HTTP ${status}`);

  const observer: StreamObserver | null =
    isSse && adapter && status < 300
      ? adapter.streamObserver((facts) => {
          host.funnel.progress({
            requestId: ex.id,
            model: facts.model,
            inputTokens: facts.usage?.input ?? 0,
            outputTokens: facts.usage?.output ?? 0,
            bytesOut: ex.bytesOut,
            ttfbMs: ex.ttfbMs,
          });
        })
      : null;
  // Keep a copy of non-streaming JSON bodies (usage, error detail, response stages).
  const capture: Buffer[] | null = !isSse && (adapter || status >= 400) ? [] : null;
  let captured = 0;

  const headers: OutgoingHttpHeaders = downstreamResponseHeaders(upstream.headers);
  ex.overheadMs += performance.now() - tHeaders;
  Object.assign(headers, ex.ourHeaders());
  if (ex.closed) {
    upstream.body.destroy();
    return;
  }
  res.writeHead(status, headers);

  const body = upstream.body;
  await new Promise<void>((resolve) => {
    let done = false;
    const finishRelay = () => {
      if (done) return;
      done = true;
      res.off('drain', onDrain);
      res.off('close', onClientClose);
      resolve();
    };
    const onDrain = () => body.resume();
    const onClientClose = () => {
      if (!res.writableFinished) body.destroy();
      finishRelay();
    };
    res.on('drain', onDrain);
    res.once('close', onClientClose);

    body.on('data', (chunk: Buffer) => {
      const tc = performance.now();
      if (ex.ttfbMs === null) ex.ttfbMs = tc - ex.t0;
      ex.bytesOut += chunk.length;
      if (!res.write(chunk)) body.pause();
      if (observer) observer.push(chunk);
      else if (capture) {
        captured += chunk.length;
        if (captured <= MAX_CAPTURE_BYTES) capture.push(chunk);
      }
      ex.overheadMs += performance.now() - tc;
    });
    body.once('end', () => {
      if (observer) {
        ex.response = observer.end();
        if (!ex.errorType) {
          if (ex.response.streamError) ex.fail('upstream_stream', `upstream stream error: ${ex.response.streamError}`);
          else if (!ex.response.complete) {
            ex.fail('upstream_stream', 'upstream stream ended before its final event');
            writeStreamError(ex, 'upstream stream ended before its final event');
          }
        }
      }
      res.end();
      finishRelay();
      if (capture && captured <= MAX_CAPTURE_BYTES) afterBody(ex, host, status, headers, Buffer.concat(capture, captured), upstream.headers['content-encoding']);
    });
    body.once('error', (err: Error) => {
      if (ex.closed) {
        finishRelay();
        return;
      }
      const kind = classifyUpstreamError(err);
      const message = `upstream connection failed mid-response (${kind}): ${err.message}`;
      if (observer) ex.response = observer.end();
      ex.fail(kind === 'body_timeout' ? 'upstream_timeout' : 'upstream_stream', message);
      if (isSse) {
        writeStreamError(ex, message);
        res.end();
      } else {
        // A JSON body cut short cannot be repaired: drop the connection so the client sees it.
        res.destroy();
      }
      finishRelay();
    });
  });
}

function writeStreamError(ex: Exchange, message: string): void {
  const frame = ex.route.errors.streamErrorFrame(ex.errorType ?? 'upstream_stream', message);
  ex.bytesOut += Buffer.byteLength(frame);
  ex.res.write(frame);
}

/** Reads usage (or error detail) from a complete non-streaming body, after the client has it. */
function afterBody(ex: Exchange, host: ProxyHost, status: number, headers: OutgoingHttpHeaders, raw: Buffer, encoding: unknown): void {
  let body: Buffer;
  try {
    body = decodeCaptured(raw, encoding);
  } catch {
    return;
  }
  if (status >= 400) {
    ex.errorMessage = `upstream returned HTTP ${status}: ${body.toString('utf8', 0, 300)}`;
    return;
  }
  const adapter = ex.route.adapter;
  if (!adapter) return;
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return;
  }
  ex.response = adapter.factsFromJson(json);
  if (ex.response.streamError && !ex.errorType) ex.fail('upstream_stream', ex.response.streamError);
  const completed: CompletedResponse = { status, headers, body };
  for (const stage of host.stages) {
    if (!stage.afterResponse) continue;
    try {
      stage.afterResponse(ex, completed);
    } catch (err) {
      host.log.error({ err, stage: stage.name }, 'response stage failed');
    }
  }
}
