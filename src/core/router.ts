/**
 * A small router: exact paths, `:param` segments and prefix catch-alls, each with an access
 * level. Access is enforced here for non-LLM routes; LLM routes check it themselves so that a
 * rejection is answered in the provider's error shape and counted as a request. A route for
 * method `*` answers every method its path has no route of its own for.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config/index.js';
import { sendJson } from './http.js';
import { hostAllowed, hostRefusal, isLocalCaller, isStrictLoopback, presentedToken, tokenMatches } from './identity.js';

/**
 * - `open`: anyone (health probes).
 * - `gated`: with a proxy token configured, callers that are not local (`isLocalCaller`: a
 *   loopback peer whose request was not forwarded by a reverse proxy) must present it; on a
 *   loopback-bound server the `Host` must name loopback or an allowed host (or the token be presented).
 * - `admin`: strict loopback (a local caller naming loopback in Host), or a valid proxy token; otherwise 404.
 * - `self`: the handler enforces access itself (LLM routes).
 */
export type Access = 'open' | 'gated' | 'admin' | 'self';

export interface RouteRequest {
  req: IncomingMessage;
  res: ServerResponse;
  /** Path without query string and without a `/p/<project>` prefix. */
  path: string;
  /** Raw query string including `?`, or ''. */
  search: string;
  query: URLSearchParams;
  params: Record<string, string>;
  /** Project from a `/p/<name>/` path prefix. */
  prefixProject: string | null;
}

export type RouteHandler = (r: RouteRequest) => void | Promise<void>;

interface Route {
  methods: Set<string>;
  segments: string[] | null;
  path: string;
  handler: RouteHandler;
  access: Access;
}

export interface Match {
  handler: RouteHandler;
  access: Access;
  params: Record<string, string>;
}

export class Router {
  private readonly exact = new Map<string, Route>();
  private readonly exactPaths = new Set<string>();
  private readonly patterns: Route[] = [];
  private readonly prefixes: { prefix: string; route: Route }[] = [];

  add(methods: string | string[], path: string, handler: RouteHandler, access: Access): this {
    const list = Array.isArray(methods) ? methods : [methods];
    const route: Route = { methods: new Set(list), segments: null, path, handler, access };
    if (path.includes('/:')) {
      route.segments = path.split('/');
      this.patterns.push(route);
    } else {
      for (const m of list) {
        const key = `${m} ${path}`;
        if (this.exact.has(key)) throw new Error(`route registered twice: ${key}`);
        this.exact.set(key, route);
      }
      this.exactPaths.add(path);
    }
    return this;
  }

  /** Every path starting with `prefix` (after exact and pattern routes). */
  prefix(methods: string | string[], prefix: string, handler: RouteHandler, access: Access): this {
    const list = Array.isArray(methods) ? methods : [methods];
    this.prefixes.push({ prefix, route: { methods: new Set(list), segments: null, path: prefix, handler, access } });
    this.prefixes.sort((a, b) => b.prefix.length - a.prefix.length);
    return this;
  }

  /** Every route as `METHOD path` (prefix routes as `METHOD prefix*`), sorted: what the app serves. */
  list(): string[] {
    const out = new Set<string>();
    for (const [key] of this.exact) out.add(key);
    for (const r of this.patterns) for (const m of r.methods) out.add(`${m} ${r.path}`);
    for (const { prefix, route } of this.prefixes) for (const m of route.methods) out.add(`${m} ${prefix}*`);
    return [...out].sort();
  }

  match(method: string, path: string): Match | 'method_not_allowed' | null {
    const exact = this.exact.get(`${method} ${path}`) ?? this.exact.get(`* ${path}`);
    if (exact) return { handler: exact.handler, access: exact.access, params: {} };
    let pathKnown = this.exactPaths.has(path);
    const parts = path.split('/');
    for (const r of this.patterns) {
      const params = matchSegments(r.segments!, parts);
      if (!params) continue;
      if (r.methods.has(method) || r.methods.has('*')) return { handler: r.handler, access: r.access, params };
      pathKnown = true;
    }
    for (const { prefix, route } of this.prefixes) {
      if (!path.startsWith(prefix)) continue;
      if (route.methods.has(method) || route.methods.has('*')) return { handler: route.handler, access: route.access, params: {} };
    }
    return pathKnown ? 'method_not_allowed' : null;
  }
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | null {
  if (pattern.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i] as string;
    const v = parts[i] as string;
    if (p.startsWith(':')) {
      if (!v) return null;
      try {
        params[p.slice(1)] = decodeURIComponent(v);
      } catch {
        return null;
      }
    } else if (p !== v) return null;
  }
  return params;
}

function tokenPresented(req: IncomingMessage, config: Config): boolean {
  const token = config.proxyToken;
  const given = token ? presentedToken(req.headers) : null;
  return !!(token && given && tokenMatches(token, given.token));
}

/**
 * The `gated` rule without answering: the token presented, or a `Host` the server answers
 * (see `hostAllowed`) from a caller the token does not apply to (none configured, or a
 * local caller, see `isLocalCaller`).
 */
export function passesGate(req: IncomingMessage, config: Config): boolean {
  if (tokenPresented(req, config)) return true;
  return hostAllowed(req, config) && (!config.proxyToken || isLocalCaller(req));
}

/** Enforces a route's access level; returns false after answering when access is denied. */
export function checkAccess(access: Access, req: IncomingMessage, res: ServerResponse, config: Config): boolean {
  if (access === 'open' || access === 'self') return true;
  if (access === 'admin') {
    if (isStrictLoopback(req) || tokenPresented(req, config)) return true;
    sendJson(res, 404, { detail: 'Not Found' });
    return false;
  }
  if (passesGate(req, config)) return true;
  if (!hostAllowed(req, config)) sendJson(res, 403, { error: { type: 'forbidden_host', message: hostRefusal(req) } });
  else sendJson(res, 401, { error: 'unauthorized' });
  return false;
}
