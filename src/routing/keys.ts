/**
 * Server-side API keys and their rotation. Each request starts at the next key of its
 * provider's pool (round robin, so load spreads over the keys); when the upstream answers
 * 401, 403 or 429, or an error body speaks of a quota, the request moves to the next key it
 * has not tried yet. When every key has been tried the rotation is exhausted and the caller
 * answers with the last upstream error. An empty pool means the client's own key is sent.
 */
export class KeyPool {
  private cursor = 0;

  constructor(readonly keys: readonly string[]) {}

  get size(): number {
    return this.keys.length;
  }

  /** A rotation for one request; `current()` is null when the pool is empty (pass the client's key). */
  begin(): KeyRotation {
    const start = this.keys.length ? this.cursor++ % this.keys.length : 0;
    return new KeyRotation(this.keys, start);
  }
}

export class KeyRotation {
  private readonly tried = new Set<number>();
  private index: number | null;

  constructor(
    private readonly keys: readonly string[],
    start: number,
  ) {
    this.index = keys.length ? start : null;
    if (this.index !== null) this.tried.add(this.index);
  }

  /** The key to send now, or null (no server-side keys, or exhausted). */
  current(): string | null {
    return this.index === null ? null : (this.keys[this.index] ?? null);
  }

  /** Position of the current key in the pool (for logs: never log the key). */
  position(): number | null {
    return this.index;
  }

  /** How many keys this request has used. */
  get attempts(): number {
    return this.tried.size;
  }

  /** Moves to the next untried key and returns it; null when all were tried. */
  next(): string | null {
    if (this.index === null) return null;
    for (let step = 1; step <= this.keys.length; step++) {
      const i = (this.index + step) % this.keys.length;
      if (!this.tried.has(i)) {
        this.tried.add(i);
        this.index = i;
        return this.keys[i] ?? null;
      }
    }
    this.index = null;
    return null;
  }
}

const QUOTA = /insufficient_quota|quota|billing_hard_limit|credit balance/i;
/** A refused key answered with 400 (Gemini: `API_KEY_INVALID`, "API key not valid"; also in a translated body). */
const BAD_KEY = /API_KEY_INVALID|API key not valid|API key expired/i;

/** Whether an upstream answer means "this key cannot serve now": rotate to another key. */
export function shouldRotateKey(status: number, body?: string | null): boolean {
  if (status === 401 || status === 403 || status === 429) return true;
  if (status >= 400 && body && QUOTA.test(body.slice(0, 4096))) return true;
  if (status === 400 && body && BAD_KEY.test(body.slice(0, 4096))) return true;
  return false;
}
