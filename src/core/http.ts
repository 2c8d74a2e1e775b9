/** Small HTTP helpers shared by every route. */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  sendText(res, status, typeof body === 'string' ? body : JSON.stringify(body), { 'content-type': 'application/json', ...headers });
}

export function sendText(res: ServerResponse, status: number, text: string | Buffer, headers: OutgoingHttpHeaders = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const buf = typeof text === 'string' ? Buffer.from(text) : text;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers, 'content-length': buf.length });
  res.end(buf);
}

export type BodyResult =
  | { kind: 'ok'; body: Buffer }
  | { kind: 'too_large'; received: number }
  | { kind: 'timeout'; received: number }
  | { kind: 'aborted' };

/**
 * `Expect: 100-continue`: servers register a request here (from their `checkContinue` event)
 * instead of letting Node send `100 Continue` at once; `readBody` sends it only when it is
 * about to read, after the declared length passed the limit. A request refused before its
 * body is read (413, 401, 404...) never gets a 100, so the client never sends the body.
 */
const pendingContinue = new WeakMap<IncomingMessage, ServerResponse>();

export function deferContinue(req: IncomingMessage, res: ServerResponse): void {
  pendingContinue.set(req, res);
}

function sendContinue(req: IncomingMessage): void {
  const res = pendingContinue.get(req);
  if (!res) return;
  pendingContinue.delete(req);
  if (!res.headersSent && !res.destroyed) res.writeContinue();
}

export interface ReadBodyOptions {
  /** Longest wait for the next chunk; a body that stalls longer resolves `timeout`. */
  timeoutMs?: number;
}

/** What a refused body may still send, and for how long, before its connection is cut. */
const DISCARD_MAX_BYTES = 64 * 1024 * 1024;
const DISCARD_MAX_MS = 10_000;

/**
 * Reads and drops the rest of a body refused before its end (413): a client that sent no
 * `Expect: 100-continue` is still uploading, and closing the connection under it makes it
 * fail with EPIPE/ECONNRESET instead of reading the 413. Up to 64 MiB or 10 s more is read
 * (nothing is kept); past either bound the connection is cut.
 */
export function discardRest(req: IncomingMessage): void {
  if (req.readableEnded) return;
  let seen = 0;
  const cut = () => {
    cleanup();
    req.socket.destroy();
  };
  const timer = setTimeout(cut, DISCARD_MAX_MS);
  timer.unref();
  const onData = (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > DISCARD_MAX_BYTES) cut();
  };
  const cleanup = () => {
    clearTimeout(timer);
    req.off('data', onData);
    req.off('end', cleanup);
    req.off('close', cleanup);
  };
  req.on('data', onData);
  req.once('end', cleanup);
  req.once('close', cleanup);
  req.resume();
}

/** Reads the whole request body, stopping at `limit` bytes (or when it stalls past `timeoutMs`). */
export function readBody(req: IncomingMessage, limit: number): Promise<Exclude<BodyResult, { kind: 'timeout' }>>;
export function readBody(req: IncomingMessage, limit: number, opts: ReadBodyOptions): Promise<BodyResult>;
export function readBody(req: IncomingMessage, limit: number, opts: ReadBodyOptions = {}): Promise<BodyResult> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    pendingContinue.delete(req);
    discardRest(req);
    return Promise.resolve({ kind: 'too_large', received: declared });
  }
  if (req.readableEnded) return Promise.resolve({ kind: 'ok', body: Buffer.alloc(0) });
  sendContinue(req);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    let timer: NodeJS.Timeout | null = null;
    const finish = (r: BodyResult) => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onError);
      req.off('close', onClose);
      resolve(r);
    };
    const arm = () => {
      if (!opts.timeoutMs) return;
      if (timer) timer.refresh();
      else timer = setTimeout(() => finish({ kind: 'timeout', received: size }), opts.timeoutMs);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        finish({ kind: 'too_large', received: size });
        discardRest(req);
        return;
      }
      chunks.push(chunk);
      arm();
    };
    const onEnd = () => finish({ kind: 'ok', body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size) });
    const onError = () => finish({ kind: 'aborted' });
    const onClose = () => {
      if (!req.readableEnded) finish({ kind: 'aborted' });
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onError);
    req.on('close', onClose);
    arm();
  });
}

/**
 * Request framing the server refuses: a Transfer-Encoding other than plain `chunked` (Node
 * would de-chunk `gzip, chunked` and hand over still-gzipped bytes as if they were the body).
 * Returns the reason, or null when the framing is fine.
 */
export function unsupportedTransferEncoding(req: IncomingMessage): string | null {
  const te = req.headers['transfer-encoding'];
  if (te === undefined) return null;
  const v = (Array.isArray(te) ? te.join(',') : te).trim().toLowerCase();
  return v === 'chunked' ? null : `Transfer-Encoding "${v.slice(0, 60)}" is not supported; only "chunked" is (use Content-Encoding for compressed bodies).`;
}

/** Parses a query string into a plain record (last value wins). */
export function parseQuery(url: string): { path: string; query: URLSearchParams } {
  const q = url.indexOf('?');
  if (q === -1) return { path: url, query: new URLSearchParams() };
  return { path: url.slice(0, q), query: new URLSearchParams(url.slice(q + 1)) };
}

/**
 * Refuses bodies a web page could send here from another site. Without a CORS preflight a
 * browser may POST `text/plain`, `application/x-www-form-urlencoded`, `multipart/form-data` or
 * an untyped body to any origin (and headroom-ts answers no preflight), so a JSON endpoint
 * that accepted them would be reachable from every page the user opens.
 * - `strict` (LLM routes, `/v1/compress`): the body must be JSON (`application/json` or
 *   `application/*+json`); an untyped body is accepted only without `Origin` (not a browser).
 * - otherwise (admin settings, where `curl -d` sends a form type): only requests carrying
 *   `Origin` (a browser) must be JSON.
 * Returns the reason for a 415, or null.
 */
export function nonJsonBodyProblem(req: IncomingMessage, strict: boolean): string | null {
  const raw = req.headers['content-type'];
  const type = (typeof raw === 'string' ? (raw.split(';')[0] ?? '') : '').trim().toLowerCase();
  if (type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'))) return null;
  const browser = req.headers.origin !== undefined;
  if (!browser && (!strict || type === '')) return null;
  const got = type === '' ? 'no Content-Type' : `Content-Type "${type.slice(0, 80)}"`;
  return `This endpoint takes a JSON body (Content-Type: application/json); got ${got}.`;
}
