/**
 * The headroom-ts application: one HTTP server, one router, one outcome funnel, one upstream
 * client, and the plugins (capabilities) that register routes, stages and sinks on them.
 *
 * Graceful shutdown (`drain`, then `close`): readiness turns 503 and new LLM requests are
 * refused with a provider-shaped 503; requests in flight get the grace period to finish;
 * what is left then ends with the provider's error (an SSE `error` event on streams, 503
 * before any byte) recorded as `shutdown`; then every store is flushed and closed.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Agent } from 'undici';
import type { Config } from '../config/index.js';
import type { Exchange } from '../capabilities/proxy/exchange.js';
import type { ProxyHost } from '../capabilities/proxy/handler.js';
import type { ProxyStage } from '../capabilities/proxy/stage.js';
import { createUpstreamAgent } from '../capabilities/proxy/upstream.js';
import { Funnel, type Sink } from './funnel.js';
import { createLogger, logContext, type Logger } from './logger.js';
import { VERSION } from '../version.js';
import { deferContinue, sendJson, unsupportedTransferEncoding } from './http.js';
import { splitProjectPrefix } from './identity.js';
import { normalisePath } from './path.js';
import { checkAccess, type RouteRequest, Router } from './router.js';

export interface Plugin {
  readonly name: string;
  setup(app: App): void | Promise<void>;
}

export interface HealthCheck {
  enabled: boolean;
  ready: boolean;
  [extra: string]: unknown;
}

export interface AppOptions {
  logger?: Logger;
  /** Capabilities to install, in order. Defaults to the built-in set. */
  plugins?: readonly Plugin[];
  agent?: Agent;
}

export class App implements ProxyHost {
  readonly version = VERSION;
  readonly startedAt = Date.now();
  readonly router = new Router();
  readonly funnel: Funnel;
  readonly stages: ProxyStage[] = [];
  readonly healthChecks = new Map<string, () => HealthCheck>();
  /**
   * Blocks other capabilities contribute to `GET /stats` (e.g. `cache`, `rate_limiter`,
   * `compression`, `otel`, `langfuse`): key = top-level `/stats` key, value = a function
   * returning the block. Keys not registered get Headroom's default value.
   */
  readonly statsSections = new Map<string, () => unknown>();
  readonly server: Server;
  readonly agent: Agent;
  ready = false;
  /** Shutting down: new LLM requests are refused, readiness is 503. */
  draining = false;
  /** Start-up work that runs in the background after listening (tokenizer vocabularies); health checks report it. */
  readonly warming: Promise<unknown>[] = [];
  private readonly closers: (() => void | Promise<void>)[] = [];
  private idCounter = 0;
  private closing: Promise<void> | null = null;
  private draining$: Promise<DrainResult> | null = null;
  /** Requests in flight (proxied and `/v1/compress`). */
  private readonly inflight = new Set<Exchange>();
  private idleWaiters: (() => void)[] = [];
  private endGrace: (() => void) | null = null;

  constructor(
    readonly config: Config,
    readonly log: Logger,
    agent?: Agent,
  ) {
    this.agent = agent ?? createUpstreamAgent(config);
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

  /** `hr_<unix seconds>_<6-digit per-process counter>`. */
  nextRequestId(): string {
    this.idCounter = (this.idCounter + 1) % 1_000_000;
    return `hr_${Math.floor(Date.now() / 1000)}_${String(this.idCounter).padStart(6, '0')}`;
  }

  addSink(sink: Sink): void {
    this.funnel.add(sink);
  }

  addStage(stage: ProxyStage): void {
    this.stages.push(stage);
  }

  onClose(fn: () => void | Promise<void>): void {
    this.closers.push(fn);
  }

  track(ex: Exchange): () => void {
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

  async listen(): Promise<{ host: string; port: number; url: string }> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen(this.config.port, this.config.host, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    const addr = this.server.address() as AddressInfo;
    this.ready = true;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    return { host: addr.address, port: addr.port, url: `http://${host}:${addr.port}` };
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
      await this.agent.close().catch(() => undefined);
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

/** Builds an app with the given plugins (default: every built-in capability). */
export async function createApp(config: Config, opts: AppOptions = {}): Promise<App> {
  const log = opts.logger ?? createLogger({ level: config.logLevel });
  const app = new App(config, log, opts.agent);
  const plugins = opts.plugins ?? (await import('../compose/proxy.js')).defaultPlugins();
  for (const plugin of plugins) await plugin.setup(app);
  return app;
}
