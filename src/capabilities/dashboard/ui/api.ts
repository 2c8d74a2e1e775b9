/**
 * Talking to the proxy that served the page (same origin, nothing else). When the proxy
 * wants its token (a non-loopback browser), the user types it in once; it is kept in this
 * tab's sessionStorage and sent as the `X-Headroom-Proxy-Token` header — never in a URL.
 * The SSE stream gets an HttpOnly cookie for it from `POST .../stream/session` (see live.ts).
 */

const TOKEN_KEY = 'headroom-ts.proxy-token';

export class AuthError extends Error {
  constructor() {
    super('The proxy wants its token.');
  }
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function stored(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

let token: string | null = stored();

export const getToken = (): string | null => token;

/** Keeps the token for this tab (or, with storage disabled, for this page); null forgets it. */
export function setToken(value: string | null): void {
  token = value;
  try {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage disabled: the token lives as long as this page
  }
}

async function request(path: string, init: RequestInit = {}, use: string | null = token): Promise<Response> {
  const res = await fetch(path, {
    ...init,
    credentials: 'same-origin',
    cache: 'no-store',
    headers: use ? { 'x-headroom-proxy-token': use } : {},
  });
  if (res.status === 401) throw new AuthError();
  if (!res.ok) {
    let message = `${path}: HTTP ${res.status}`;
    try {
      const body = (await res.json()) as { error?: { message?: string } };
      if (body.error?.message) message = `${path}: ${body.error.message}`;
    } catch {
      // not JSON
    }
    throw new HttpError(res.status, message);
  }
  return res;
}

/** GET a JSON document; `use` tries a token that is not kept yet (the sign-in check). */
export async function getJson<T>(path: string, use: string | null = token): Promise<T> {
  const res = await request(path, {}, use);
  return (await res.json()) as T;
}

/** Fetches a file with the token header and hands it to the browser as a download. */
export async function download(path: string, filename: string): Promise<void> {
  const blob = await (await request(path)).blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Asks for the stream cookie (only needed, and only done, when a token is held). */
export async function openStreamSession(): Promise<void> {
  if (!token) return;
  await request('/metrics/active-requests/stream/session', { method: 'POST' });
}
