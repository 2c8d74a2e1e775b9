/**
 * The proxy request path: gate, read, decode, parse, the route's stages, then its forwarding
 * chain (`chain.ts`: usage observed on the side, CCR, retries, the upstream call) while the
 * response streams back as it arrives. Bytes we did not change are forwarded exactly as
 * received, in both directions.
 *
 * The request is announced (live view) on arrival, before its body is read; a body that
 * stalls longer than `--request-body-timeout-seconds` gets 408. An LLM body is decoded from
 * its Content-Encoding once (`core/body.ts`, capped at `--max-body-bytes` decoded, 413
 * beyond), and the decoded bytes are what every stage and link reads.
 */
import { jsonTooDeep, tooDeepMessage } from '../../compress/json-depth.js';
import type { ProviderRoute } from '../../providers/routes.js';
import { decodeOnce } from '../../core/body.js';
import { hostAllowed, hostRefusal, isLocalCaller, presentedToken, tokenMatches } from '../../core/identity.js';
import { nonJsonBodyProblem, readBody } from '../../core/http.js';
import type { Exchange } from './exchange.js';
import { forward } from './forward.js';
import type { ProxyHost } from './host.js';
import type { RoutePlan } from './plan.js';

export async function handleProxy(ex: Exchange, host: ProxyHost, plan: RoutePlan): Promise<void> {
  if (!gate(ex)) return;
  if (host.draining) {
    // a graceful shutdown takes no new work; the SDKs retry a 503
    ex.req.resume();
    ex.start();
    ex.replyError(503, 'shutdown', 'headroom-ts is shutting down and takes no new requests; retry it (on another instance if one is available).', { connection: 'close', 'retry-after': '1' });
    return;
  }
  if (ex.route.adapter && !acceptsContentType(ex)) return;
  ex.start();

  const method = ex.info.method;
  if (method !== 'GET' && method !== 'HEAD') {
    const limit = ex.config.maxBodyBytes;
    const result = await readBody(ex.req, limit, { timeoutMs: ex.config.requestBodyTimeoutSeconds * 1000 });
    if (result.kind === 'aborted') return; // the close handler records the abort
    if (result.kind === 'too_large') {
      ex.replyError(413, 'body_too_large', `Request body exceeds the ${limit}-byte limit.`);
      return;
    }
    if (result.kind === 'timeout') {
      ex.replyError(408, 'body_timeout', `The request body stalled: no data for ${ex.config.requestBodyTimeoutSeconds} s (${result.received} bytes received).`, { connection: 'close' });
      return;
    }
    ex.body = result.body;
  }
  const tBody = performance.now();

  const rec = ex.rec;
  const bad = ex.route.adapter ? await readJsonBody(ex, ex.route) : null;
  if (bad) {
    rec.overheadMs += performance.now() - tBody;
    ex.announce();
    ex.replyError(bad.status, bad.type, bad.message);
    return;
  }
  ex.announce();

  for (const stage of plan.stages) {
    if (!stage.beforeUpstream || ex.closed) continue;
    const ts = performance.now();
    let reply;
    try {
      const r = stage.beforeUpstream(ex);
      reply = r instanceof Promise ? await r : r;
    } catch (err) {
      // A broken stage must not take the request down with it: fail open.
      host.log.error({ stage: stage.name, err: err instanceof Error ? err.message : String(err) }, 'proxy stage failed; continuing without it');
    }
    rec.stage(stage.name, performance.now() - ts);
    if (reply) {
      rec.overheadMs += performance.now() - tBody;
      if (reply.errorType) ex.fail(reply.errorType, reply.errorMessage ?? reply.errorType);
      rec.cached = reply.cached === true;
      ex.reply(reply.status, reply.body, reply.headers);
      return;
    }
  }
  if (ex.closed) return;
  rec.overheadMs += performance.now() - tBody;

  await forward(ex, plan.dispatch);
}

/** Refuses a request before its body is read (answered, counted as a request; the body is drained). */
function refuse(ex: Exchange, status: number, type: Parameters<Exchange['replyError']>[1], message: string): false {
  ex.req.resume();
  ex.start();
  ex.replyError(status, type, message);
  return false;
}

/**
 * Who may call: with a proxy token configured, callers that are not local (`isLocalCaller`:
 * a request forwarded by a reverse proxy on this machine is not) must present it; on a
 * loopback-bound proxy the `Host` must name loopback or an allowed host (DNS rebinding),
 * unless the token is presented.
 */
function gate(ex: Exchange): boolean {
  const expected = ex.config.proxyToken;
  const given = expected ? presentedToken(ex.req.headers) : null;
  if (expected && given && tokenMatches(expected, given.token)) {
    ex.authorizationIsProxyToken = given.via === 'bearer';
    return true;
  }
  if (!hostAllowed(ex.req, ex.config)) return refuse(ex, 403, 'unauthorized', hostRefusal(ex.req));
  if (!expected || isLocalCaller(ex.req)) return true;
  return refuse(ex, 401, 'unauthorized', given ? 'Invalid proxy token.' : 'Missing proxy token (X-Headroom-Proxy-Token).');
}

/** LLM routes take JSON only: see `nonJsonBodyProblem` (a cross-site page cannot send JSON). */
function acceptsContentType(ex: Exchange): boolean {
  if (ex.info.method === 'GET' || ex.info.method === 'HEAD') return true;
  const problem = nonJsonBodyProblem(ex.req, true);
  return problem === null || refuse(ex, 415, 'invalid_request', problem);
}

interface BodyRefusal {
  status: number;
  type: 'invalid_request' | 'body_too_large';
  message: string;
}

/** Decodes (once, capped), parses and bounds the body; sets `ex.json` and the request facts. */
async function readJsonBody(ex: Exchange, route: ProviderRoute): Promise<BodyRefusal | null> {
  if (ex.body.length === 0) return { status: 400, type: 'invalid_request', message: 'Request body is empty; a JSON object is required.' };
  const d = await decodeOnce(ex.body, ex.req.headers['content-encoding'], ex.config.maxBodyBytes);
  if (d.kind === 'refused') return d;
  ex.decoded = d.decoded;
  let parsed: unknown;
  try {
    parsed = JSON.parse(ex.plainBody.toString('utf8'));
  } catch (err) {
    return { status: 400, type: 'invalid_request', message: `Invalid JSON in request body: ${(err as Error).message}` };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { status: 400, type: 'invalid_request', message: 'Request body must be a JSON object.' };
  if (jsonTooDeep(parsed)) return { status: 400, type: 'invalid_request', message: tooDeepMessage() };
  ex.json = parsed as Record<string, unknown>;
  ex.setFacts(route.adapter!.describeRequest(ex.json));
  return null;
}
