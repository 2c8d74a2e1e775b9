/**
 * The standalone hook server (`headroom-ts hook`), tsheadroom's routes on one port:
 * `/config` (GET, PUT, POST), `/metrics` (GET), `/health` `/livez` `/readyz` (GET), and every
 * other path is the hook. Its own outcome funnel feeds the metrics and the `-v` line.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import type { Config } from '../../config/index.js';
import { deferContinue, sendJson, sendText, unsupportedTransferEncoding } from '../../core/http.js';
import { hostAllowed, hostRefusal } from '../../core/identity.js';
import { Funnel, type Sink } from '../../core/funnel.js';
import type { Logger } from '../../core/logger.js';
import { VERSION } from '../../version.js';
import { handleConfig } from './config-api.js';
import { hookLogLine } from './log-line.js';
import { registerHeadroomSubset, registerHookFamilies } from './metrics.js';
import { createHookService, type HookService, type HookServiceOptions } from './service.js';

export interface HookServerOptions extends HookServiceOptions {
  /** Where `-v` lines go (default stdout). */
  verboseOut?: (line: string) => void;
}

export class HookServer {
  readonly startedAt = Date.now();
  readonly funnel: Funnel;
  readonly registry = new Registry();
  readonly service: HookService;
  readonly server: Server;
  private idCounter = 0;
  private closing: Promise<void> | null = null;

  constructor(
    readonly config: Config,
    readonly log: Logger,
    opts: HookServerOptions = {},
  ) {
    this.funnel = new Funnel((sink, phase, err) => log.error({ sink, phase, err: err instanceof Error ? err.message : String(err) }, 'outcome sink failed'));
    this.service = createHookService(this, log, opts);
    const recordHeadroom = registerHeadroomSubset(this.registry, this.service.inbound);
    const recordHook = registerHookFamilies(this.registry, this.service.pool);
    this.funnel.add({ name: 'hook-metrics', outcome: (o) => (recordHeadroom(o), recordHook(o)) });
    if (config.hookVerbose) {
      const out = opts.verboseOut ?? ((line: string) => void process.stdout.write(`${line}\n`));
      this.funnel.add({ name: 'hook-verbose', outcome: (o) => { const l = hookLogLine(o); if (l) out(l); } });
    }
    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const path = q === -1 ? url : url.slice(0, q);
      const framing = unsupportedTransferEncoding(req);
      if (framing) return sendJson(res, 501, { error: { type: 'not_implemented', message: framing } }, { connection: 'close' });
      const probe = path === '/health' || path === '/livez' || path === '/readyz';
      if (!probe && !hostAllowed(req, config)) return sendJson(res, 403, { error: { type: 'forbidden_host', message: hostRefusal(req) } });
      const run = async () => {
        if (path === '/config') return handleConfig(req, res, this.service.settings, () => this.service.pool.version);
        if (path === '/metrics') {
          if (req.method !== 'GET') return sendText(res, 405, 'method not allowed\n', { allow: 'GET' });
          return sendText(res, 200, await this.registry.metrics(), { 'content-type': this.registry.contentType });
        }
        if ((path === '/health' || path === '/livez' || path === '/readyz') && req.method === 'GET') {
          const h = this.health();
          if (path === '/livez') return sendJson(res, 200, { status: 'alive' });
          return sendJson(res, path === '/readyz' && !h.ready ? 503 : 200, h);
        }
        return this.service.handler(req, res, path);
      };
      run().catch((err: unknown) => {
        log.error({ err: (err as Error)?.message ?? String(err), path }, 'hook route failed');
        if (!res.headersSent) sendJson(res, 500, { error: { type: 'internal', message: 'Internal error in headroom-ts.' } });
        else res.destroy();
      });
    };
    this.server = createServer({ keepAliveTimeout: 65_000, headersTimeout: 66_000 }, onRequest);
    // `100 Continue` only once the hook starts reading the body (never before a refusal)
    this.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      deferContinue(req, res);
      onRequest(req, res);
    });
  }

  nextRequestId(): string {
    this.idCounter = (this.idCounter + 1) % 1_000_000;
    return `hr_${Math.floor(Date.now() / 1000)}_${String(this.idCounter).padStart(6, '0')}`;
  }

  addSink(sink: Sink): void {
    this.funnel.add(sink);
  }

  health() {
    const pool = this.service.health();
    const ready = pool.ready && this.closing === null;
    return {
      service: 'headroom-hook',
      status: ready ? 'healthy' : 'unhealthy',
      ready,
      version: VERSION,
      uptime_seconds: Math.round(Date.now() - this.startedAt) / 1000,
      checks: { hook: { ...pool, status: pool.ready ? 'healthy' : 'unhealthy' } },
      runtime: { node_version: process.version, pid: process.pid, funnel: this.funnel.stats() },
    };
  }

  async listen(port = this.config.hookPort, host = this.config.host): Promise<{ port: number; url: string }> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    const addr = this.server.address() as AddressInfo;
    const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    return { port: addr.port, url: `http://${h}:${addr.port}` };
  }

  /** Stops accepting, finishes in-flight requests (10 s), then stops the pool and flushes outcomes. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await new Promise<void>((resolve) => {
        this.server.close(() => resolve());
        this.server.closeIdleConnections();
        setTimeout(() => this.server.closeAllConnections(), 10_000).unref();
      });
      await this.service.close();
      this.funnel.flush();
      await this.funnel.close();
    })();
    return this.closing;
  }
}
