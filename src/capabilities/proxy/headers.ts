/** Which headers cross the proxy, in each direction. */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** Never forwarded upstream: hop-by-hop, recomputed, or ours. */
const DROP_UPSTREAM = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'host', 'content-length', 'accept-encoding', 'expect', 'http2-settings',
]);

/** Never returned to the client from an upstream response. */
const DROP_DOWNSTREAM = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer',
  'transfer-encoding', 'upgrade',
]);

function connectionListed(value: string | undefined): Set<string> | null {
  if (!value) return null;
  const names = value.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s && s !== 'close' && s !== 'keep-alive');
  return names.length ? new Set(names) : null;
}

export interface UpstreamHeaderOptions {
  stripInternal: boolean;
  /** Drop `authorization` (it carried the proxy token, not a provider key). */
  dropAuthorization: boolean;
  /** Set when the body was changed (content-encoding no longer applies). */
  dropContentEncoding: boolean;
}

/** Builds the upstream header list from the client's raw headers (case and order preserved). */
export function upstreamRequestHeaders(rawHeaders: string[], headers: IncomingHttpHeaders, opts: UpstreamHeaderOptions): string[] {
  const listed = connectionListed(typeof headers.connection === 'string' ? headers.connection : undefined);
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    const lower = name.toLowerCase();
    if (DROP_UPSTREAM.has(lower)) continue;
    if (listed?.has(lower)) continue;
    if (opts.stripInternal && lower.startsWith('x-headroom-')) continue;
    if (opts.dropAuthorization && lower === 'authorization') continue;
    if (opts.dropContentEncoding && lower === 'content-encoding') continue;
    out.push(name, rawHeaders[i + 1] as string);
  }
  return out;
}

/** Copies upstream response headers for the client, minus hop-by-hop ones. */
export function downstreamResponseHeaders(headers: Record<string, string | string[] | undefined>): OutgoingHttpHeaders {
  const listed = connectionListed(typeof headers.connection === 'string' ? headers.connection : undefined);
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    if (DROP_DOWNSTREAM.has(name) || listed?.has(name)) continue;
    const v = headers[name];
    if (v !== undefined) out[name] = v;
  }
  return out;
}
