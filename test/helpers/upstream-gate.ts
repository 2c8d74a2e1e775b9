/**
 * An HTTP pass-through placed between the proxy and the mock upstream that holds every
 * request until `open()` is called. It lets a test make many requests "in flight" at once,
 * deterministically, without relying on timing. Failures of the mock are passed on as the
 * same kind of failure (a reset before headers resets the proxy's connection; a reset
 * mid-body cuts the proxy's response).
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export class UpstreamGate {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private release!: () => void;
  private gate: Promise<void>;
  held = 0;
  url = '';

  constructor(private readonly target: string) {
    this.gate = new Promise((r) => (this.release = r));
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.held++;
        void this.gate.then(() => {
          const up = request(this.target + (req.url ?? '/'), { method: req.method, headers: req.headers }, (upRes) => {
            res.writeHead(upRes.statusCode ?? 502, upRes.headers);
            upRes.pipe(res);
            upRes.on('error', () => res.socket?.destroy());
            upRes.on('aborted', () => res.socket?.destroy());
          });
          up.on('error', () => req.socket.destroy());
          res.on('close', () => up.destroy());
          up.end(Buffer.concat(chunks));
        });
      });
    });
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  open(): void {
    this.release();
  }

  /** Holds new requests again (after `open`). */
  hold(): void {
    this.gate = new Promise((r) => (this.release = r));
  }

  async stop(): Promise<void> {
    this.release();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
