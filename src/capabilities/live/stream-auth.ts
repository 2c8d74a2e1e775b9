/**
 * Browser access to the SSE stream when a proxy token is required. EventSource cannot send
 * headers, so a page first calls `POST /metrics/active-requests/stream/session` with the
 * token (fetch can send headers); the answer sets an HttpOnly, SameSite=Strict cookie scoped
 * to the stream path, holding an HMAC-signed expiry. The browser then sends it on every
 * EventSource (re)connection to the same origin. The signing key is random per process and
 * never leaves it; the token itself is never put in a URL or a cookie.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const STREAM_COOKIE = 'headroom_live_stream';
export const STREAM_PATH = '/metrics/active-requests/stream';

export class StreamSessions {
  private readonly key = randomBytes(32);

  constructor(private readonly ttlSeconds: number) {}

  private mac(payload: string): Buffer {
    return createHmac('sha256', this.key).update(`live-stream|${payload}`).digest();
  }

  /** A fresh cookie value and its expiry (epoch ms). */
  issue(now: number = Date.now()): { value: string; expiresAt: number } {
    const expiresAt = now + this.ttlSeconds * 1000;
    const payload = `${Math.floor(expiresAt / 1000)}.${randomBytes(12).toString('base64url')}`;
    return { value: `${payload}.${this.mac(payload).toString('base64url')}`, expiresAt };
  }

  /** The Set-Cookie header value for a fresh session. */
  setCookie(req: IncomingMessage, now: number = Date.now()): { header: string; expiresAt: number } {
    const { value, expiresAt } = this.issue(now);
    const secure = (req.socket as { encrypted?: boolean }).encrypted === true || req.headers['x-forwarded-proto'] === 'https';
    const header = `${STREAM_COOKIE}=${value}; Path=${STREAM_PATH}; Max-Age=${this.ttlSeconds}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
    return { header, expiresAt };
  }

  verify(value: string, now: number = Date.now()): boolean {
    const parts = value.split('.');
    if (parts.length !== 3) return false;
    const [exp, nonce, sig] = parts as [string, string, string];
    if (!/^\d{1,12}$/.test(exp) || Number(exp) * 1000 <= now) return false;
    let given: Buffer;
    try {
      given = Buffer.from(sig, 'base64url');
    } catch {
      return false;
    }
    const expected = this.mac(`${exp}.${nonce}`);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** True when the request carries a valid, unexpired stream cookie. */
  verifyRequest(req: IncomingMessage, now: number = Date.now()): boolean {
    const raw = req.headers.cookie;
    if (typeof raw !== 'string') return false;
    for (const part of raw.split(';')) {
      const eq = part.indexOf('=');
      if (eq === -1) continue;
      if (part.slice(0, eq).trim() !== STREAM_COOKIE) continue;
      if (this.verify(part.slice(eq + 1).trim(), now)) return true;
    }
    return false;
  }
}
