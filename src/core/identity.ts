/**
 * Who is calling: integration stack, project, client name, API-key hash, `x-headroom-*` tags,
 * and whether the caller is local (`isLocalCaller`: the one rule every access decision uses).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

const STACK_RE = /^[a-z][a-z0-9_]{0,63}$/;

export function stackFrom(headers: IncomingHttpHeaders): string | null {
  const raw = headers['x-headroom-stack'];
  if (typeof raw !== 'string') return null;
  const s = raw.trim().toLowerCase();
  return STACK_RE.test(s) ? s : null;
}

/**
 * URL-decodes, turns runs of non-printable characters into one space (so nothing is glued to
 * its neighbour: `p\tsk-...` must still read as a key to the redaction), trims and caps a
 * project name at 128 chars.
 */
export function sanitiseProject(raw: string): string | null {
  let s = raw;
  try {
    s = decodeURIComponent(raw);
  } catch {
    // keep the raw text when it is not valid percent-encoding
  }
  // eslint-disable-next-line no-control-regex
  s = s.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim().slice(0, 128).trim();
  return s.length > 0 ? s : null;
}

/** Strips a `/p/<project>/` prefix; returns the remaining path and the project. */
export function splitProjectPrefix(path: string): { path: string; project: string | null } {
  if (!path.startsWith('/p/')) return { path, project: null };
  const end = path.indexOf('/', 3);
  if (end === -1) return { path, project: null };
  return { path: path.slice(end), project: sanitiseProject(path.slice(3, end)) };
}

export function projectFrom(headers: IncomingHttpHeaders, prefixProject: string | null): string | null {
  const raw = headers['x-headroom-project'];
  if (typeof raw === 'string') {
    const p = sanitiseProject(raw);
    if (p) return p;
  }
  return prefixProject;
}

const UA_CLIENTS: [string, string][] = [
  ['claude-code/', 'claude-code'],
  ['claude-cli/', 'claude-code'],
  ['codex', 'codex'],
  ['cursor/', 'cursor'],
  ['zed/', 'zed'],
  ['aider/', 'aider'],
  ['opencode/', 'opencode'],
  ['github-copilot/', 'copilot'],
  ['anthropic/js', 'anthropic-sdk-js'],
  ['anthropic/python', 'anthropic-sdk-python'],
  ['openai/js', 'openai-sdk-js'],
  ['openai/python', 'openai-sdk-python'],
];

export function clientFrom(headers: IncomingHttpHeaders): string | null {
  const explicit = headers['x-client'];
  if (typeof explicit === 'string' && explicit.trim()) return explicit.trim().toLowerCase().slice(0, 64);
  const ua = headers['user-agent'];
  if (typeof ua !== 'string') return null;
  const lower = ua.toLowerCase();
  for (const [needle, name] of UA_CLIENTS) if (lower.includes(needle)) return name;
  return null;
}

const keyHashCache = new Map<string, string>();

/** First 16 hex chars of SHA-256 of the caller's provider key (x-api-key, Bearer, x-goog-api-key, Azure's api-key). */
export function apiKeyHashFrom(headers: IncomingHttpHeaders): string | null {
  let key: string | undefined;
  const xKey = headers['x-api-key'];
  if (typeof xKey === 'string' && xKey) key = xKey;
  else {
    const auth = headers.authorization;
    if (typeof auth === 'string' && /^bearer\s+/i.test(auth)) key = auth.replace(/^bearer\s+/i, '');
    else if (typeof headers['x-goog-api-key'] === 'string') key = headers['x-goog-api-key'];
    else if (typeof headers['api-key'] === 'string') key = headers['api-key']; // Azure OpenAI
  }
  if (!key) return null;
  let hash = keyHashCache.get(key);
  if (hash === undefined) {
    hash = createHash('sha256').update(key).digest('hex').slice(0, 16);
    if (keyHashCache.size >= 1024) keyHashCache.clear();
    keyHashCache.set(key, hash);
  }
  return hash;
}

const SECRET_TAGS = new Set(['proxy-token']);

/** Every `x-headroom-*` header as a tag (prefix removed); secrets are left out. */
export function tagsFrom(headers: IncomingHttpHeaders): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const name in headers) {
    if (!name.startsWith('x-headroom-')) continue;
    const tag = name.slice(11);
    if (SECRET_TAGS.has(tag)) continue;
    const v = headers[name];
    tags[tag] = (Array.isArray(v) ? v.join(',') : (v ?? '')).slice(0, 256);
  }
  return tags;
}

export function isLoopbackAddress(addr: string | undefined): boolean {
  if (!addr) return true;
  return addr === '::1' || addr.startsWith('127.') || addr.startsWith('::ffff:127.') || addr === 'localhost';
}

/** Headers a reverse proxy adds to name the client it forwards for (RFC 7239 and the de-facto ones). */
const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip'] as const;

/** Whether the request says it came through a reverse proxy (one of `FORWARDING_HEADERS` is present). */
export function isForwarded(headers: IncomingHttpHeaders): boolean {
  for (const name of FORWARDING_HEADERS) if (headers[name] !== undefined) return true;
  return false;
}

/**
 * The local-caller rule: the peer is on loopback and the request was not forwarded. A reverse
 * proxy on this machine connects from 127.0.0.1, so a loopback request carrying a forwarding
 * header is someone else's and is treated as remote (it needs the proxy token where remote
 * callers do). The addresses in those headers are never trusted for anything else.
 */
export function isLocalCaller(req: IncomingMessage): boolean {
  return isLoopbackAddress(req.socket.remoteAddress) && !isForwarded(req.headers);
}

const LOOPBACK_HOST = /^(?:127(?:\.\d{1,3}){3}|localhost|\[::1\])(?::\d+)?$/i;

/** A local caller (`isLocalCaller`) whose Host header names loopback (defends against DNS rebinding). */
export function isStrictLoopback(req: IncomingMessage): boolean {
  const host = req.headers.host;
  return isLocalCaller(req) && typeof host === 'string' && LOOPBACK_HOST.test(host);
}

/** The proxy token a caller presented (X-Headroom-Proxy-Token, else a Bearer token). */
export function presentedToken(headers: IncomingHttpHeaders): { token: string; via: 'header' | 'bearer' } | null {
  const h = headers['x-headroom-proxy-token'];
  if (typeof h === 'string' && h) return { token: h, via: 'header' };
  const auth = headers.authorization;
  if (typeof auth === 'string' && /^bearer\s+\S/i.test(auth)) return { token: auth.replace(/^bearer\s+/i, ''), via: 'bearer' };
  return null;
}

export function tokenMatches(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Whether a bind address accepts only loopback connections (`127.0.0.1`, `::1`, `localhost`). */
export function isLoopbackBind(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(?:\.\d{1,3}){3}$/.test(h);
}

/** The host name of a `Host` header: lower-cased, port and IPv6 brackets removed. */
export function hostNameOf(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end === -1 ? h : h.slice(1, end);
  }
  const colon = h.indexOf(':');
  return (colon === -1 ? h : h.slice(0, colon)).replace(/\.$/, '');
}

/** Names that always reach this machine's loopback (no DNS an attacker controls resolves them). */
function isLoopbackName(name: string): boolean {
  return name === 'localhost' || name.endsWith('.localhost') || name === '::1' || /^127(?:\.\d{1,3}){3}$/.test(name) || name === '::ffff:127.0.0.1'
    || name === 'host.docker.internal';
}

function hostListed(name: string, allowed: readonly string[]): boolean {
  for (const a of allowed) {
    const entry = a.trim().toLowerCase();
    if (entry === '*' || entry === name) return true;
    if (entry.startsWith('.') && (name === entry.slice(1) || name.endsWith(entry))) return true;
  }
  return false;
}

/**
 * DNS-rebinding defence: a server bound to loopback answers only requests whose `Host` names
 * loopback or one of `--allowed-hosts` (a page on a rebound attacker domain sends its own name).
 * Servers bound elsewhere rely on the proxy token instead. A request without `Host` (HTTP/1.0)
 * cannot come from a browser and passes.
 */
export function hostAllowed(req: IncomingMessage, config: { host: string; allowedHosts: readonly string[] }): boolean {
  if (!isLoopbackBind(config.host)) return true;
  const header = req.headers.host;
  if (typeof header !== 'string' || header === '') return true;
  const name = hostNameOf(header);
  return isLoopbackName(name) || hostListed(name, config.allowedHosts);
}

export function hostRefusal(req: IncomingMessage): string {
  const name = hostNameOf(String(req.headers.host ?? ''));
  return `Host "${name.slice(0, 100)}" is not served: headroom-ts is bound to loopback and answers only loopback names (DNS-rebinding defence). Add the name with --allowed-hosts if this proxy is reached through it.`;
}
