/** A small recording HTTP server the platform mocks (Azure OpenAI, Gemini) share. */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface MockRecord {
  method: string;
  path: string;
  /** The query string, `?` included ('' when none). */
  search: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  json: Record<string, unknown> | null;
}

export abstract class RecordingServer {
  readonly requests: MockRecord[] = [];
  url = '';
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor() {
    this.server = createServer((req, res) => void this.receive(req, res));
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  get last(): MockRecord | undefined {
    return this.requests[this.requests.length - 1];
  }

  private async receive(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    let json: Record<string, unknown> | null = null;
    try {
      const v: unknown = body.length ? JSON.parse(body.toString('utf8')) : null;
      json = v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
    } catch {
      json = null;
    }
    const rec: MockRecord = { method: req.method ?? 'GET', path: q < 0 ? url : url.slice(0, q), search: q < 0 ? '' : url.slice(q), headers: req.headers, body, json };
    this.requests.push(rec);
    try {
      await this.handle(rec, res);
    } catch (err) {
      if (!res.headersSent) this.send(res, 500, JSON.stringify({ error: { message: `mock failure: ${(err as Error).message}` } }));
      else res.destroy();
    }
  }

  protected abstract handle(rec: MockRecord, res: ServerResponse): void | Promise<void>;

  protected send(res: ServerResponse, status: number, text: string, contentType = 'application/json'): void {
    res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }
}
