/**
 * The proxy request path: gate, read, parse, stages, forward (with retries), then stream the
 * response back as it arrives while usage is read on the side. Bytes we did not change are
 * forwarded exactly as received, in both directions.
 */
import type { Agent } from 'undici';
import type { ProviderRoute } from '../providers/routes.js';
import { isLoopbackAddress, presentedToken, tokenMatches } from '../server/identity.js';
import { readBody } from '../server/http.js';
import type { Funnel } from '../telemetry/funnel.js';
import type { Logger } from '../telemetry/logger.js';
import { decodeBody } from './encoding.js';
import type { Exchange, ExchangeHost } from './exchange.js';
import { forward } from './forward.js';
import type { ProxyStage } from './stage.js';

export interface ProxyHost extends ExchangeHost {
  readonly agent: Agent;
  readonly stages: readonly ProxyStage[];
  readonly log: Logger;
  readonly funnel: Funnel;
}

export async function handleProxy(ex: Exchange, host: ProxyHost): Promise<void> {
  if (!gate(ex)) return;
  if (host.draining) {
    // a graceful shutdown takes no new work; the SDKs retry a 503
    ex.req.resume();
    ex.start();
    ex.replyError(503, 'shutdown', 'headroom-ts is shutting down and takes no new requests; retry it (on another instance if one is available).', { connection: 'close', 'retry-after': '1' });
    return;
  }

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
    let reply;
    try {
      const r = stage.beforeUpstream(ex);
      reply = r instanceof Promise ? await r : r;
    } catch (err) {
      // A broken stage must not take the request down with it: fail open.
      host.log.error({ stage: stage.name, err: err instanceof Error ? err.message : String(err) }, 'proxy stage failed; continuing without it');
    }
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

  await (ex.forwardWith ? ex.forwardWith(ex) : forward(ex, host));
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

function parseJsonBody(ex: Exchange, route: ProviderRoute): boolean {
  if (ex.body.length === 0) {
    ex.fail('invalid_request', 'Request body is empty; a JSON object is required.');
    return false;
  }
  let parsed: unknown;
  try {
    const enc = ex.req.headers['content-encoding'];
    parsed = JSON.parse(decodeBody(ex.body, enc).toString('utf8'));
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
