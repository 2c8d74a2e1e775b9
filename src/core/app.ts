/**
 * The headroom-ts application core: one HTTP server, one router, one outcome funnel, and the
 * registries capabilities contribute to (health checks, `/stats` sections, close hooks,
 * services). It knows no capability: plugins (`plugin.ts`) register routes, sinks and
 * services on it, in dependency order.
 *
 * Graceful shutdown (`drain`, then `close`): readiness turns 503 and capabilities refuse new
 * work (`draining`); requests in flight (`track`) get the grace period to finish; what is left
 * then is ended by its owner (`InFlight.endForShutdown`); then every close hook runs (stores
 * flushed and closed), in reverse install order.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/index.js';
import { VERSION } from '../version.js';
import { Funnel, type Sink } from './funnel.js';
import { deferContinue, sendJson, unsupportedTransferEncoding } from './http.js';
import { splitProjectPrefix } from './identity.js';
import { createLogger, logContext, type Logger } from './logger.js';
import { normalisePath } from './path.js';
import { installOrder, type Plugin, type PluginContext, PluginError, type ServiceName, type Services } from './plugin.js';
import { checkAccess, type RouteRequest, Router } from './router.js';

export interface HealthCheck {
  enabled: boolean;
  ready: boolean;
  [extra: string]: unknown;
}

/** A piece of work in flight that a graceful shutdown waits for, then ends. */
export interface InFlight {
  /** The grace period is over: end now (the owner answers the client and records the outcome). */
  endForShutdown(): void;
}

export interface AppOptions {
  logger?: Logger;
  /** The capabilities to install (any order: they are installed in dependency order). */
  plugins: readonly Plugin[];
}

export class App {
  readonly version = VERSION;
  readonly startedAt = Date.now();
  readonly router = new Router();
  readonly funnel: Funnel;
  readonly healthChecks = new Map<string, () => HealthCheck>();
  /**
   * Blocks other capabilities contribute to `GET /stats` (e.g. `cache`, `rate_limiter`,
   * `compression`, `otel`, `langfuse`): key = top-level `/stats` key, value = a function
   * returning the block. Keys not registered get Headroom's default value.
   */
  readonly statsSections = new Map<string, () => unknown>();
  readonly server: Server;
  ready = false;
  /** Shutting down: new LLM requests are refused, readiness is 503. */
  draining = false;
  /** Start-up work that runs in the background after listening (tokenizer vocabularies); health checks report it. */
  readonly warming: Promise<unknown>[] = [];
  private readonly closers: (() => void | Promise<void>)[] = [];
  private readonly drainers: (() => void)[] = [];
  private idCounter = 0;
  private closing: Promise<void> | null = null;
  private draining$: Promise<DrainResult> | null = null;
  /** Work in flight (proxied requests, `/v1/compress`, hook calls). */
  private readonly inflight = new Set<InFlight>();
  private readonly services = new Map<ServiceName, unknown>();
  private installed: readonly Plugin[] | null = null;
  private idleWaiters: (() => void)[] = [];
  private endGrace: (() => void) | null = null;

  constructor(
    readonly config: Config,
    readonly log: Logger,
  ) {
    this.funnel = new Funnel((sink, phase, err) => {
      log.error({ sink, phase, err: err instanceof Error ? err.message : String(err) }, 'outcome sink failed');
    });
    this.server = createServer({ keepAliveTimeout: 65_000, headersTimeout: 66_000 }, (req, res) => this.dispatch(req, res));
    // `100 Continue` only once a handler starts reading the body (never before a 413 or a refusal)
    this.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      deferContinue(req, res);
      this.dispatch(req, res);
    });
  }

  /**
   * Installs the plugins in dependency order (see `installOrder`); throws a `PluginError` when
   * the set cannot be installed or a setup did not return a service it declared.
   */
  async install(plugins: readonly Plugin[]): Promise<void> {
    if (this.installed) throw new PluginError('plugins are installed once, when the app is created');
    const order = installOrder(plugins);
    this.installed = order;
    for (const plugin of order) {
      const provided = await plugin.setup(this.contextFor(plugin));
      for (const name of plugin.provides) {
        const value = (provided as Record<string, unknown> | undefined)?.[name];
        if (value === undefined) throw new PluginError(`plugin "${plugin.name}" declares it provides "${name}" but its setup did not return it`);
        this.services.set(name, value);
      }
    }
  }

  /** The installed plugins, in the order they were installed. */
  get plugins(): readonly Plugin[] {
    return this.installed ?? [];
  }

  /** A service by name (undefined when no installed plugin provides it). */
  service<K extends ServiceName>(name: K): Services[K] | undefined {
    return this.services.get(name) as Services[K] | undefined;
  }

  private contextFor(plugin: Plugin): PluginContext<ServiceName, ServiceName> {
    const lookup = (name: ServiceName, declared: readonly ServiceName[], kind: string) => {
      if (!declared.includes(name)) throw new PluginError(`plugin "${plugin.name}" asked for "${name}" without declaring it in ${kind}`);
      return this.services.get(name);
    };
    return {
      app: this,
      config: this.config,
      log: this.log,
      need: <K extends ServiceName>(name: K) => lookup(name, plugin.needs, 'needs') as Services[K],
      optional: <K extends ServiceName>(name: K) => lookup(name, plugin.optional, 'optional') as Services[K] | undefined,
    };
  }

  /** `hr_<unix seconds>_<6-digit per-process counter>`. */
  nextRequestId(): string {
    this.idCounter = (this.idCounter + 1) % 1_000_000;
    return `hr_${Math.floor(Date.now() / 1000)}_${String(this.idCounter).padStart(6, '0')}`;
  }

  addSink(sink: Sink): void {
    this.funnel.add(sink);
  }

  onClose(fn: () => void | Promise<void>): void {
    this.closers.push(fn);
  }

  /**
   * Runs `fn` when a graceful shutdown starts (before the grace period): for long-lived
   * connections that are idle between requests (WebSocket sessions), which are closed then
   * rather than waited for; work they have in flight is `track`ed as usual.
   */
  onDrain(fn: () => void): void {
    this.drainers.push(fn);
  }

  /** Registers work in flight (graceful shutdown waits for it); returns its removal. */
  track(ex: InFlight): () => void {
    this.inflight.add(ex);
    return () => {
      this.inflight.delete(ex);
      if (this.inflight.size === 0) for (const fn of this.idleWaiters.splice(0)) fn();
    };
  }

  private whenIdle(maxMs: number): Promise<void> {
    if (this.inflight.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, maxMs);
      timer.unref();
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Requests in flight now. */
  get inFlight(): number {
    return this.inflight.size;
  }

  /**
   * Stops taking new work and waits up to `graceMs` for the requests in flight, then ends the
   * rest with the provider's error (recorded as `shutdown`). Calling it again while it runs
   * (a second signal) cuts the grace short.
   */
  drain(graceMs: number): Promise<DrainResult> {
    if (this.draining$) {
      this.endGrace?.();
      return this.draining$;
    }
    this.draining = true;
    this.ready = false;
    this.server.closeIdleConnections();
    for (const fn of this.drainers) {
      try {
        fn();
      } catch (err) {
        this.log.error({ err: (err as Error)?.message ?? String(err) }, 'shutdown step failed');
      }
    }
    this.draining$ = (async () => {
      const t0 = performance.now();
      const atStart = this.inflight.size;
      if (atStart > 0) {
        this.log.info({ in_flight: atStart, grace_seconds: graceMs / 1000 }, 'draining: waiting for requests in flight');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, graceMs);
          function done() {
            clearTimeout(timer);
            resolve();
          }
          this.idleWaiters.push(done);
          this.endGrace = done;
        });
      }
      this.endGrace = null;
      const left = [...this.inflight];
      for (const ex of left) ex.endForShutdown();
      // let the error events and 503s reach the clients before connections are closed
      if (this.inflight.size > 0) await this.whenIdle(1_000);
      const result = { inFlightAtStart: atStart, finished: atStart - left.length, ended: left.length, waitedMs: Math.round(performance.now() - t0) };
      if (left.length > 0) this.log.warn({ ended: left.length, grace_seconds: graceMs / 1000 }, 'shutdown grace period over: ended the requests still in flight');
      return result;
    })();
    return this.draining$;
  }

  private dispatch(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q === -1 ? url : url.slice(0, q);
    const search = q === -1 ? '' : url.slice(q);
    const framing = unsupportedTransferEncoding(req);
    if (framing) {
      sendJson(res, 501, { error: { type: 'not_implemented', message: framing } }, { connection: 'close' });
      return;
    }
    const split = splitProjectPrefix(rawPath);
    const { path, ambiguous } = normalisePath(split.path);
    if (ambiguous && path.startsWith('/v1')) {
      sendJson(res, 400, { error: { type: 'invalid_request', message: 'The request path is refused: it contains an encoded "/", a "\\" or a NUL, which an upstream may read differently.' } });
      return;
    }
    const { project } = split;
    const method = req.method ?? 'GET';
    const match = this.router.match(method, path);
    if (match === null) {
      sendJson(res, 404, { error: { type: 'not_found', message: `No route for ${method} ${path}` } });
      return;
    }
    if (match === 'method_not_allowed') {
      sendJson(res, 405, { error: { type: 'method_not_allowed', message: `${method} is not allowed on ${path}` } });
      return;
    }
    if (!checkAccess(match.access, req, res, this.config)) return;
    // while draining, every response closes its connection so clients reconnect elsewhere
    if (this.draining) res.setHeader('connection', 'close');
    const r: RouteRequest = {
      req,
      res,
      path,
      search,
      query: new URLSearchParams(search),
      params: match.params,
      prefixProject: project,
    };
    const run = async () => {
      try {
        await match.handler(r);
      } catch (err) {
        this.log.error({ err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err), path }, 'route handler failed');
        if (!res.headersSent) sendJson(res, 500, { error: { type: 'internal', message: 'Internal error in headroom-ts.' } });
        else res.destroy();
      }
    };
    // Every log line written while handling this request carries its id once one is assigned.
    void logContext.run({ requestId: '' }, run);
  }

  /** Listens on `port` and `host` (default: the configured `port` and `host`). */
  async listen(port = this.config.port, host = this.config.host): Promise<{ host: string; port: number; url: string }> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    const addr = this.server.address() as AddressInfo;
    this.ready = true;
    const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    return { host: addr.address, port: addr.port, url: `http://${shown}:${addr.port}` };
  }

  /**
   * Shuts down: drains (waiting at most `graceMs` for requests in flight; the CLI drains first
   * with `--shutdown-grace-seconds`), stops listening, then flushes and closes every store.
   */
  close(graceMs = 2_000): Promise<void> {
    this.closing ??= (async () => {
      await this.drain(graceMs);
      await new Promise<void>((resolve) => {
        // what is left is idle keep-alive or long-lived streams of other endpoints (live SSE)
        const force = setTimeout(() => this.server.closeAllConnections(), 1_000);
        force.unref();
        this.server.close(() => {
          clearTimeout(force);
          resolve();
        });
        this.server.closeIdleConnections();
      });
      this.funnel.flush();
      for (const fn of this.closers.reverse()) {
        try {
          await fn();
        } catch (err) {
          this.log.error({ err: (err as Error).message }, 'shutdown step failed');
        }
      }
      await this.funnel.close();
    })();
    return this.closing;
  }
}

export interface DrainResult {
  inFlightAtStart: number;
  /** Finished on their own within the grace period. */
  finished: number;
  /** Ended by the shutdown. */
  ended: number;
  waitedMs: number;
}

/** Builds an app and installs the given plugins (in dependency order). */
export async function createApp(config: Config, opts: AppOptions): Promise<App> {
  const log = opts.logger ?? createLogger({ level: config.logLevel });
  const app = new App(config, log);
  await app.install(opts.plugins);
  return app;
}
