/**
 * Where a session's upstream WebSocket goes and with which headers: the OpenAI base URL
 * (`--openai-api-url`, its path kept) plus the client's path and query, `ws://` for `http://`
 * and `wss://` for `https://`; the client's headers minus hop-by-hop ones, the WebSocket
 * handshake's own (the upstream client makes its own key and extensions), `Origin`, ours
 * (`x-headroom-*`, with `--strip-internal-headers`) and an `Authorization` that carried our
 * proxy token. Credentials and provider headers (`Authorization`, `OpenAI-Beta`,
 * `OpenAI-Organization`, `chatgpt-account-id`, ...) pass through; they are never logged.
 */
import type { IncomingHttpHeaders } from 'node:http';

const DROP = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'host', 'content-length', 'expect', 'http2-settings', 'origin',
  'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-protocol', 'sec-websocket-accept',
]);

export function upstreamUrl(base: string, path: string, search: string): string {
  const u = new URL(base);
  const basePath = u.pathname === '/' ? '' : u.pathname.replace(/\/$/, '');
  const scheme = u.protocol === 'https:' ? 'wss:' : u.protocol === 'http:' ? 'ws:' : u.protocol;
  return `${scheme}//${u.host}${basePath}${path}${search}`;
}

export interface UpstreamHeaderOptions {
  stripInternal: boolean;
  dropAuthorization: boolean;
}

/** Headers for the upstream handshake (names as the client sent them; repeated headers joined). */
export function upstreamHeaders(rawHeaders: readonly string[], headers: IncomingHttpHeaders, opts: UpstreamHeaderOptions): Record<string, string> {
  const listed = new Set(
    (typeof headers.connection === 'string' ? headers.connection : '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean),
  );
  const out: Record<string, string> = {};
  const seen = new Map<string, string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    const lower = name.toLowerCase();
    if (DROP.has(lower) || listed.has(lower)) continue;
    if (opts.stripInternal && lower.startsWith('x-headroom-')) continue;
    if (opts.dropAuthorization && lower === 'authorization') continue;
    const value = rawHeaders[i + 1] as string;
    const first = seen.get(lower);
    if (first === undefined) {
      seen.set(lower, name);
      out[name] = value;
    } else {
      out[first] = `${out[first]}, ${value}`;
    }
  }
  return out;
}

/** The subprotocols the client asked for (forwarded upstream), if any. */
export function requestedProtocols(headers: IncomingHttpHeaders): string[] {
  const v = headers['sec-websocket-protocol'];
  return typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : [];
}
