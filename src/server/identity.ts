/**
 * Who is calling: integration stack, project, client name, API-key hash, `x-headroom-*` tags,
 * and whether the caller is on loopback.
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

/** URL-decodes, strips non-printable characters, trims and caps a project name at 128 chars. */
export function sanitiseProject(raw: string): string | null {
  let s = raw;
  try {
    s = decodeURIComponent(raw);
  } catch {
    // keep the raw text when it is not valid percent-encoding
  }
  // eslint-disable-next-line no-control-regex
  s = s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '').trim().slice(0, 128).trim();
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

/** First 16 hex chars of SHA-256 of the caller's provider key (x-api-key, Bearer, x-goog-api-key). */
export function apiKeyHashFrom(headers: IncomingHttpHeaders): string | null {
  let key: string | undefined;
  const xKey = headers['x-api-key'];
  if (typeof xKey === 'string' && xKey) key = xKey;
  else {
    const auth = headers.authorization;
    if (typeof auth === 'string' && /^bearer\s+/i.test(auth)) key = auth.replace(/^bearer\s+/i, '');
    else if (typeof headers['x-goog-api-key'] === 'string') key = headers['x-goog-api-key'];
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

const LOOPBACK_HOST = /^(?:127(?:\.\d{1,3}){3}|localhost|\[::1\])(?::\d+)?$/i;

/** Peer on loopback AND Host header naming loopback (defends against DNS rebinding). */
export function isStrictLoopback(req: IncomingMessage): boolean {
  const host = req.headers.host;
  return isLoopbackAddress(req.socket.remoteAddress) && typeof host === 'string' && LOOPBACK_HOST.test(host);
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
