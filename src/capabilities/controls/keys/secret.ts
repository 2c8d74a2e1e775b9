/**
 * Virtual key material: a fresh key is `hr-` and 32 random bytes in base64url (256 bits, so a
 * fast hash is enough: nobody can search that space), stored only as `sha256:<hex>` of its
 * UTF-8 bytes. Matching hashes the presented key once and compares it with every stored hash
 * in constant time (no early exit, no lookup keyed by the secret).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const KEY_PREFIX = 'hr-';

/** A new random virtual key. */
export function generateKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

/** The stored form of a key: `sha256:<64 hex>`. */
export function hashKey(key: string): string {
  return `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

/** The 32 digest bytes of a stored hash (`sha256:<hex>`). */
export function digestOf(hash: string): Buffer {
  return Buffer.from(hash.slice('sha256:'.length), 'hex');
}

/** Index of the digest `presented` hashes to among `digests`, or -1; every digest is compared. */
export function matchDigest(digests: readonly Buffer[], presented: string): number {
  const d = createHash('sha256').update(presented, 'utf8').digest();
  let found = -1;
  for (let i = 0; i < digests.length; i++) {
    if (timingSafeEqual(digests[i] as Buffer, d) && found === -1) found = i;
  }
  return found;
}
