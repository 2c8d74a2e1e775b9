/**
 * Every inbound HTTP request the server accepts (`/stats.proxy_inbound`,
 * `headroom_inbound_requests_*`), LLM or not, counted from the server's `request` event.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { splitProjectPrefix } from '../../core/identity.js';
import type { Inbound } from './schema.js';

const MAX_PATHS = 64;

const inc = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

export class InboundStats {
  total = 0;
  completed = 0;
  active = 0;
  readonly byMethod = new Map<string, number>();
  readonly byPath = new Map<string, number>();
  readonly byStatus = new Map<string, number>();

  /** Counts requests before any route runs (so a scrape sees itself as active). */
  attach(server: Server): void {
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => this.onRequest(req, res));
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.total++;
    this.active++;
    inc(this.byMethod, req.method ?? 'GET');
    const raw = (req.url ?? '/').split('?')[0] ?? '/';
    let path = splitProjectPrefix(raw).path;
    if (!this.byPath.has(path) && this.byPath.size >= MAX_PATHS) path = 'other';
    inc(this.byPath, path);
    res.once('close', () => {
      this.active--;
      this.completed++;
      inc(this.byStatus, res.writableFinished ? String(res.statusCode) : 'aborted:client_disconnect');
    });
  }

  reset(): void {
    this.total = 0;
    this.completed = 0;
    this.byMethod.clear();
    this.byPath.clear();
    this.byStatus.clear();
  }

  payload(): Inbound {
    const obj = (m: Map<string, number>) => Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)));
    return {
      total: this.total,
      completed: this.completed,
      active: this.active,
      by_method: obj(this.byMethod),
      by_path: obj(this.byPath),
      by_status: obj(this.byStatus),
    };
  }
}
