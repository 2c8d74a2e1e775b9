/**
 * Who a request is attributed to: the Claude Code session (`x-claude-code-session-id`
 * header) and the end user (Anthropic `metadata.user_id`; OpenAI `safety_identifier`, else
 * `user`). Read from the headers and the body the proxy already parsed (never decoded or
 * parsed again) and kept only as a hash: the first 12 hex characters of the SHA-256 of the
 * id, unsalted, so a team can find its own row (`printf '%s' "$ID" | sha256sum | cut -c1-12`).
 * The raw id is never stored, logged or returned.
 *
 * Claude Code's `metadata.user_id` embeds the session (`user_<h>_account_<a>_session_<s>`, or
 * a JSON object with a `session_id`): the session part is left out of the user's hash, so one
 * developer is one user across sessions, and it names the session when the header is missing.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export const SESSION_HEADER = 'x-claude-code-session-id';
export const HASH_CHARS = 12;
/** Longer values are not ids: they are ignored. */
const MAX_ID_CHARS = 1024;

export interface AttributionIds {
  /** Hash of the session id, or null. */
  session: string | null;
  /** Hash of the user id, or null. */
  user: string | null;
}

const cache = new Map<string, string>();

/** The first {@link HASH_CHARS} hex characters of SHA-256(id). */
export function hashId(id: string): string {
  let h = cache.get(id);
  if (h === undefined) {
    h = createHash('sha256').update(id).digest('hex').slice(0, HASH_CHARS);
    if (cache.size >= 2048) cache.clear();
    cache.set(id, h);
  }
  return h;
}

const usable = (v: unknown): v is string => typeof v === 'string' && v.trim().length > 0 && v.length <= MAX_ID_CHARS;

const EMBEDDED_SESSION = /^(user_.*?)_session_([^_]+)$/;

/** Splits Claude Code's user id into the user part and the session it embeds (if any). */
export function splitUserId(raw: string): { user: string; session: string | null } {
  const m = EMBEDDED_SESSION.exec(raw);
  if (m) return { user: m[1]!, session: m[2]! };
  if (raw.startsWith('{')) {
    try {
      const o = JSON.parse(raw) as unknown;
      if (o !== null && typeof o === 'object' && !Array.isArray(o)) {
        const { session_id: session, ...rest } = o as Record<string, unknown>;
        const keys = Object.keys(rest).sort();
        if (keys.length > 0) {
          return { user: JSON.stringify(rest, keys), session: usable(session) ? session : null };
        }
      }
    } catch {
      // not JSON: the whole value is the id
    }
  }
  return { user: raw, session: null };
}

/** The raw user id a body names, by API family. */
function rawUser(api: string, body: Record<string, unknown> | null): string | null {
  if (!body) return null;
  if (api === 'messages' || api === 'count_tokens') {
    const m = body.metadata;
    const id = m !== null && typeof m === 'object' ? (m as Record<string, unknown>).user_id : undefined;
    return usable(id) ? id : null;
  }
  if (api === 'chat' || api === 'responses') {
    if (usable(body.safety_identifier)) return body.safety_identifier;
    if (usable(body.user)) return body.user;
  }
  return null;
}

/** The hashed ids of one request (headers as received, the body as the proxy parsed it). */
export function attributionIds(headers: IncomingHttpHeaders, api: string, body: Record<string, unknown> | null): AttributionIds {
  const header = headers[SESSION_HEADER];
  let session = usable(header) ? header.trim() : null;
  const raw = rawUser(api, body);
  let user: string | null = null;
  if (raw !== null) {
    const split = splitUserId(raw);
    user = split.user;
    session ??= split.session;
  }
  return { session: session === null ? null : hashId(session), user: user === null ? null : hashId(user) };
}
