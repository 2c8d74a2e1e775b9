/**
 * Session affinity: the key of a hook request (`metadata.session_id`, else a stable hash of
 * the opening one or two messages, canonicalised with sorted object keys) and its slot.
 */
import { createHash } from 'node:crypto';

function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .filter((k) => o[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
    .join(',')}}`;
}

/** '' when there is nothing to key on (no session id and no messages). */
export function affinityKey(sessionId: unknown, messages: readonly unknown[]): string {
  if (typeof sessionId === 'string' && sessionId !== '') return sessionId;
  if (messages.length === 0) return '';
  const h = createHash('sha256');
  for (const m of messages.slice(0, 2)) h.update(canonical(m)).update('\n');
  return h.digest('hex').slice(0, 16);
}

/** FNV-1a 32-bit of the key, modulo the pool size. */
export function slotFor(key: string, size: number): number {
  if (size <= 1) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % size;
}
