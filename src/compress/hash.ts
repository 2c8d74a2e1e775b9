/**
 * The one hash format of headroom-ts: the first 24 lowercase hex characters of the SHA-256
 * of the original content (UTF-8). Used by every marker, the CCR store and the replay map.
 */
import { createHash } from 'node:crypto';

export const HASH_LENGTH = 24;

export function contentHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, HASH_LENGTH);
}

/** Normalises a hash given by a model or a client (case, surrounding spaces); null when malformed. */
export function normaliseHash(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  const h = raw.trim().toLowerCase();
  return /^[0-9a-f]{24}$/.test(h) ? h : null;
}
