/**
 * A pass-through placed between the proxy and the mock upstream that holds every request
 * until `open()` is called. It lets a test keep many requests in flight at once,
 * deterministically, without relying on timing. Once open, the request is written to the
 * mock on a fresh TCP connection and the mock's response bytes are copied back verbatim, so
 * every failure of the mock (reset before headers, cut mid-body, hang) reaches the proxy as
 * the same kind of failure.
 */
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export class UpstreamGate {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private release!: () => void;
  private gate: Promise<void>;
  /** Requests received (including retries). */
  held = 0;
  url = '';

  constructor(target: string) {
    const { hostname, port } = new URL(target);
    this.gate = new Promise((r) => (this.release = r));
    this.server = createServer((req) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.held++;
        void this.gate.then(() => {
          const client = req.socket;
          if (client.destroyed) return;
          const lines: string[] = [];
          for (let i = 0; i < req.rawHeaders.length; i += 2) {
            const name = req.rawHeaders[i] as string;
            if (/^(connection|keep-alive)$/i.test(name)) continue;
            lines.push(`${name}: ${req.rawHeaders[i + 1] as string}`);
          }
          lines.push('connection: close');
          const up = connect(Number(port), hostname);
          up.write(`${req.method} ${req.url} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
          up.write(Buffer.concat(chunks));
          up.on('data', (d: Buffer) => client.write(d));
          up.on('end', () => client.end());
          up.on('error', () => client.destroy());
          client.once('close', () => up.destroy());
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
