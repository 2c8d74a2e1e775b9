/**
 * Request-body codings of the hook: one ordered list drives both the `Accept-Encoding`
 * advertisement and what is decoded (zstd, gzip; anything else is refused with 415, as
 * tsheadroom does). Decoding itself is the shared decoder (`server/content-encoding.ts`),
 * capped at 50 MiB decoded (bomb guard).
 */
import { type Coding, parseContentEncoding } from '../../providers/content-encoding.js';

export const MAX_DECODED_BYTES = 50 * 1024 * 1024;
export const CODINGS = ['zstd', 'gzip'] as const satisfies readonly Coding[];
export const ACCEPT_ENCODING = CODINGS.join(', ');

/** `null` = no decoding (absent, empty, `identity`); otherwise the normalised coding (maybe unsupported). */
export function normaliseCoding(header: string | string[] | undefined): string | null {
  const c = parseContentEncoding(header);
  if (c.kind === 'identity') return null;
  return c.kind === 'coding' ? c.coding : c.value.toLowerCase();
}

export const isSupportedCoding = (c: string): c is (typeof CODINGS)[number] => (CODINGS as readonly string[]).includes(c);

/** Whether `Accept-Encoding` lists gzip (or `*`) with a non-zero q (comma-split, case-insensitive). */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  const raw = Array.isArray(header) ? header.join(',') : header;
  if (!raw) return false;
  return raw.split(',').some((part) => {
    const [name, ...params] = part.split(';');
    const n = (name ?? '').trim().toLowerCase();
    if (n !== 'gzip' && n !== 'x-gzip' && n !== '*') return false;
    const q = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}
