/** Raw HTTP helpers for tests that must see exact bytes, statuses and headers. */
import { request as httpRequest } from 'node:http';
import { type Dispatcher, request } from 'undici';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

export async function send(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer; dispatcher?: Dispatcher } = {}): Promise<RawResponse> {
  const res = await request(url, {
    ...(opts.dispatcher ? { dispatcher: opts.dispatcher } : {}),
    method: (opts.method ?? (opts.body === undefined ? 'GET' : 'POST')) as 'POST',
    headers: { ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers },
    body: opts.body,
  });
  const body = Buffer.from(await res.body.arrayBuffer());
  const text = body.toString('utf8');
  return { status: res.statusCode, headers: res.headers, body, text, json: <T>() => JSON.parse(text) as T };
}

export const anthropicHeaders = (key: string) => ({ 'x-api-key': key, 'anthropic-version': '2023-06-01' });
export const openaiHeaders = (key: string) => ({ authorization: `Bearer ${key}` });

/** Parses an SSE body into [event, data] pairs. */
export function sseEvents(text: string): { event: string | null; data: string }[] {
  return text
    .split(/\r?\n\r?\n/)
    .filter((block) => block.trim().length > 0)
    .map((block) => {
      let event: string | null = null;
      const data: string[] = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      }
      return { event, data: data.join('\n') };
    });
}

/** Raw node:http requests, for headers fetch and undici forbid or rewrite (Host). */
/** Response of `rawRequest`: the body as text. */
export interface RawTextResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json<T = any>(): T;
}

export function rawRequest(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<RawTextResponse> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, method: opts.method ?? 'GET', headers: opts.headers ?? {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A caller the server sees on loopback but whose Host header does not name loopback (not strict loopback). */
export const REMOTE_HOST = { host: 'proxy.example.com' };

export async function getJson<T = any>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}
