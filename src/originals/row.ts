/** A row of `ccr_originals` as both the SQLite and the Postgres store read it, and the original it holds. */
import { entryBytes, type StoredOriginal } from './store.js';

export interface OriginalRow {
  hash: string; original: string; tool_name: string | null; original_items: number; kept_items: number; unit: string; transforms: string;
  original_tokens: number; compressed_tokens: number; created_at: number; last_used: number; retrievals: number;
}

/** The stored original of a row (counts as numbers whichever driver read them; unreadable transforms as none). */
export function originalFromRow(r: OriginalRow): StoredOriginal {
  let transforms: string[] = [];
  try {
    const t = JSON.parse(r.transforms) as unknown;
    if (Array.isArray(t)) transforms = t.filter((x): x is string => typeof x === 'string');
  } catch {
    transforms = [];
  }
  return {
    hash: r.hash, original: r.original, toolName: r.tool_name, originalItems: Number(r.original_items), keptItems: Number(r.kept_items), unit: r.unit,
    transforms, originalTokens: Number(r.original_tokens), compressedTokens: Number(r.compressed_tokens), createdAt: Number(r.created_at),
    lastUsed: Number(r.last_used), retrievals: Number(r.retrievals), bytes: entryBytes(r.original),
  };
}
