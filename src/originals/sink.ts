/**
 * Where the originals of lossy cuts go, keyed by the hash their markers carry: the store of
 * originals (`store.ts`, `sqlite-store.ts`; the CCR capability provides it as the
 * `originals` service), or, without it, a bounded in-memory map (`BoundedOriginals`).
 */
import type { CcrEntry } from '../compress/engine.js';

/**
 * An original as a producer hands it over: the engine's `CcrEntry` (hash = 24 lowercase hex of
 * the SHA-256 of `original`, as in the marker), with the token counts optional for producers
 * that do not count them.
 */
export type OriginalEntry = Omit<CcrEntry, 'replayed' | 'originalTokens' | 'compressedTokens'> &
  Partial<Pick<CcrEntry, 'originalTokens' | 'compressedTokens'>>;

export interface OriginalsSink {
  /** Stores entries (idempotent: the same hash always has the same original). */
  put(entries: readonly OriginalEntry[]): void;
  /**
   * Resolves once every original put so far is on disk, rejects with the reason when it cannot
   * be written. A marker may reach the upstream only after this resolved. Absent: the sink
   * keeps nothing on disk (memory backend), there is nothing to wait for.
   */
  durable?(): Promise<void>;
}

/** Keeps the most recently stored originals within a byte budget. */
export class BoundedOriginals implements OriginalsSink {
  private readonly map = new Map<string, OriginalEntry>();
  private bytes = 0;

  constructor(private readonly maxBytes = 64 * 1024 * 1024, private readonly maxEntries = 10_000) {}

  put(entries: readonly OriginalEntry[]): void {
    for (const e of entries) {
      const old = this.map.get(e.hash);
      if (old) {
        this.map.delete(e.hash);
        this.bytes -= old.original.length * 2;
      }
      this.map.set(e.hash, e);
      this.bytes += e.original.length * 2;
    }
    for (const [hash, e] of this.map) {
      if (this.bytes <= this.maxBytes && this.map.size <= this.maxEntries) break;
      this.map.delete(hash);
      this.bytes -= e.original.length * 2;
    }
  }

  get(hash: string): OriginalEntry | undefined {
    return this.map.get(hash.toLowerCase());
  }

  get size(): number {
    return this.map.size;
  }

  stats(): { entries: number; bytes: number; maxBytes: number } {
    return { entries: this.map.size, bytes: this.bytes, maxBytes: this.maxBytes };
  }
}
