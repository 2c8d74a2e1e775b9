/**
 * Who may open a Responses WebSocket: the HTTP proxy's rules (`proxy/handler.ts`, gate), on
 * the upgrade request. With a proxy token configured, callers that are not local must present
 * it; on a loopback-bound proxy the `Host` must name loopback or an allowed host (DNS
 * rebinding), unless the token is presented. One more rule: an upgrade that carries `Origin`
 * comes from a web page (browsers send it on every WebSocket, and a page may open one to any
 * address, loopback included), and is refused unless it presents the token, which a page
 * cannot set as a header. Agents (Codex, the SDKs) send no `Origin`.
 */
import type { IncomingMessage } from 'node:http';
import type { Config } from '../../config/index.js';
import { hostAllowed, hostRefusal, isLocalCaller, presentedToken, tokenMatches } from '../../core/identity.js';

export type UpgradeDecision =
  | { ok: true; /** `Authorization` carried our token, not a provider key: not forwarded. */ authorizationIsProxyToken: boolean }
  | { ok: false; status: 401 | 403; message: string };

export function checkUpgrade(req: IncomingMessage, config: Config): UpgradeDecision {
  const expected = config.proxyToken;
  const given = expected ? presentedToken(req.headers) : null;
  if (expected && given && tokenMatches(expected, given.token)) return { ok: true, authorizationIsProxyToken: given.via === 'bearer' };
  if (!hostAllowed(req, config)) return { ok: false, status: 403, message: hostRefusal(req) };
  if (req.headers.origin !== undefined) {
    return { ok: false, status: 403, message: 'WebSocket upgrades from a web page (an Origin header) are refused: a page could otherwise drive this proxy from any site. Agents send no Origin; a browser client needs the proxy token.' };
  }
  if (!expected || isLocalCaller(req)) return { ok: true, authorizationIsProxyToken: false };
  return { ok: false, status: 401, message: given ? 'Invalid proxy token.' : 'Missing proxy token (X-Headroom-Proxy-Token).' };
}
