/**
 * Helpers for the translation tests: a loopback server that answers every request with fixed
 * bytes (so the official SDKs parse what a translator produced), and SSE splitting/parsing.
 */
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FixedServer {
  url: string;
  close(): Promise<void>;
  /** Bodies of the requests received. */
  requests: string[];
}

export async function serveFixed(status: number, contentType: string, body: string): Promise<FixedServer> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push(Buffer.concat(chunks).toString());
      res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Parses SSE text into frames `{event, data}` (data JSON-parsed when it is JSON). */
export function parseSse(text: string): { event: string | null; data: unknown }[] {
  return text
    .split('\n\n')
    .filter((f) => f.trim() !== '')
    .map((f) => {
      let event: string | null = null;
      const data: string[] = [];
      for (const line of f.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      const d = data.join('\n');
      try {
        return { event, data: JSON.parse(d) as unknown };
      } catch {
        return { event, data: d };
      }
    });
}

interface Translator {
  push(chunk: Buffer | string): string;
  end(): string;
}

/** Runs a translator over `input` cut into the given pieces (byte offsets). */
export function runSplit(make: () => Translator, input: Buffer, cuts: number[]): string {
  const t = make();
  let out = '';
  let prev = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) {
    out += t.push(input.subarray(prev, c));
    prev = c;
  }
  out += t.push(input.subarray(prev));
  return out + t.end();
}
