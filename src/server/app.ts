/**
 * The headroom-ts application: one HTTP server, one router, one outcome funnel, one upstream
 * client, and the plugins (capabilities) that register routes, stages and sinks on them.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Agent } from 'undici';
import type { Config } from '../config/index.js';
import type { ProxyHost } from '../proxy/handler.js';
import type { ProxyStage } from '../proxy/stage.js';
import { createUpstreamAgent } from '../proxy/upstream.js';
import { Funnel, type Sink } from '../telemetry/funnel.js';
import { createLogger, logContext, type Logger } from '../telemetry/logger.js';
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
  private readonly closers: (() => void | Promise<void>)[] = [];
  private idCounter = 0;
  private closing: Promise<void> | null = null;

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

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.ready = false;
      await new Promise<void>((resolve) => {
        this.server.close(() => resolve());
        this.server.closeIdleConnections();
        setTimeout(() => this.server.closeAllConnections(), 2_000).unref();
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

/** Builds an app with the given plugins (default: every built-in capability). */
export async function createApp(config: Config, opts: AppOptions = {}): Promise<App> {
  const log = opts.logger ?? createLogger({ level: config.logLevel });
  const app = new App(config, log, opts.agent);
  const plugins = opts.plugins ?? (await import('./plugins.js')).defaultPlugins();
  for (const plugin of plugins) await plugin.setup(app);
  return app;
}
