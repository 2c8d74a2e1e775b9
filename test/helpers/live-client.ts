/** Small clients for the live endpoints used by tests. */
import { EventSource } from 'eventsource';
import { request } from 'node:http';
import type { ActiveSnapshot } from '../../src/capabilities/live/views.js';

export const COLON_MODEL = 'kwaipilot/kat-coder-pro:free';

export async function getJson<T = Record<string, unknown>>(url: string, headers: Record<string, string> = {}, fetchImpl: typeof fetch = fetch): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await fetchImpl(url, { headers });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T, headers: res.headers };
}

export async function activeIds(base: string): Promise<string[]> {
  const { body } = await getJson<ActiveSnapshot>(`${base}/metrics/active-requests`);
  return body.active_requests.map((r) => r.request_id);
}

/** Polls until `cond` holds (no timing assertion: it only bounds how long a broken build hangs). */
export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface Watcher {
  es: EventSource;
  updates: ActiveSnapshot[];
  ids: string[];
  /** Every request id seen active in any update. */
  seen: Set<string>;
  disabled: unknown[];
  errors: { code?: number | undefined; message?: string | undefined }[];
  latest(): ActiveSnapshot | undefined;
  close(): void;
}

/** A real EventSource client on the live stream, recording every update. */
export function watch(base: string, init: { fetch?: typeof fetch; path?: string } = {}): Watcher {
  const es = new EventSource(`${base}${init.path ?? '/metrics/active-requests/stream'}`, init.fetch ? { fetch: init.fetch } : {});
  const w: Watcher = {
    es,
    updates: [],
    ids: [],
    seen: new Set(),
    disabled: [],
    errors: [],
    latest: () => w.updates[w.updates.length - 1],
    close: () => es.close(),
  };
  es.addEventListener('update', (ev) => {
    const snap = JSON.parse(ev.data) as ActiveSnapshot;
    w.updates.push(snap);
    w.ids.push(ev.lastEventId);
    for (const r of snap.active_requests) w.seen.add(r.request_id);
  });
  es.addEventListener('disabled', (ev) => {
    w.disabled.push(JSON.parse(ev.data));
    es.close();
  });
  es.addEventListener('error', (ev) => {
    w.errors.push({ code: (ev as { code?: number }).code, message: (ev as { message?: string }).message });
  });
  return w;
}

export interface RawStream {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: () => string;
  close: () => void;
  closed: () => boolean;
}

/** Opens the stream with a plain HTTP request and accumulates the raw bytes. */
export function rawStream(base: string, headers: Record<string, string> = {}, path = '/metrics/active-requests/stream'): Promise<RawStream> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { headers }, (res) => {
      let buf = '';
      let closed = false;
      res.setEncoding('utf8');
      res.on('data', (c: string) => (buf += c));
      res.on('close', () => (closed = true));
      res.on('error', () => (closed = true));
      resolve({ status: res.statusCode ?? 0, headers: res.headers, text: () => buf, close: () => req.destroy(), closed: () => closed });
    });
    req.on('error', reject);
    req.end();
  });
}
