/**
 * Request paths are normalised once, before routing, so every spelling of a route reaches the
 * same handler, with the same budgets, rate limits and compression (`/v1/messages/`,
 * `/v1//messages`, `/v1/%6Dessages` and `/v1/x/../messages` are all `/v1/messages`): repeated
 * slashes merged, a trailing slash dropped, percent-escapes of unreserved characters decoded
 * (RFC 3986 6.2.2.2), `.` and `..` segments resolved. The normalised path is also what goes
 * upstream. A path with an encoded `/` or `\`, a raw `\`, or a NUL is flagged `ambiguous`:
 * an upstream may read them as separators the router never saw, so the server refuses such
 * paths where they would be forwarded (`/v1/*`).
 */

const UNRESERVED = /[A-Za-z0-9\-._~]/;
const REFUSED = /\\|%(?:2f|5c|00)/i;

export interface PathResult {
  path: string;
  /** Contains an encoded `/` or `\`, a raw `\`, or a NUL. */
  ambiguous: boolean;
}

export function normalisePath(raw: string): PathResult {
  const ambiguous = REFUSED.test(raw);
  const decoded = raw.includes('%')
    ? raw.replace(/%([0-9A-Fa-f]{2})/g, (m, hex: string) => {
      const ch = String.fromCharCode(parseInt(hex, 16));
      return UNRESERVED.test(ch) ? ch : m.toUpperCase();
    })
    : raw;
  // the common case: nothing to do
  if (!decoded.includes('//') && !decoded.includes('/.') && (decoded.length === 1 || !decoded.endsWith('/')) && decoded.startsWith('/')) {
    return { path: decoded, ambiguous };
  }
  const out: string[] = [];
  for (const seg of decoded.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return { path: `/${out.join('/')}`, ambiguous };
}
