/**
 * Request-body codings of the hook (one ordered list drives both the `Accept-Encoding`
 * advertisement and decoding): zstd (fzstd: Node 20's zlib has no zstd) and gzip (node:zlib,
 * off the event loop). Decoded output is capped at 50 MiB (bomb guard).
 */
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { Decompress } from 'fzstd';

export const MAX_DECODED_BYTES = 50 * 1024 * 1024;
export const CODINGS = ['zstd', 'gzip'] as const;
export type Coding = (typeof CODINGS)[number];
export const ACCEPT_ENCODING = CODINGS.join(', ');

const gunzipAsync = promisify(gunzip);

/** `null` = no decoding (absent, empty, `identity`); a string not in CODINGS = unsupported. */
export function normaliseCoding(header: string | string[] | undefined): string | null {
  const raw = Array.isArray(header) ? header.join(',') : header;
  if (raw === undefined) return null;
  const c = (raw.split(';')[0] ?? '').trim().toLowerCase();
  if (c === '' || c === 'identity') return null;
  if (c === 'x-gzip') return 'gzip';
  return c;
}

export const isSupportedCoding = (c: string): c is Coding => (CODINGS as readonly string[]).includes(c);

export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

function zstdDecode(body: Buffer, limit: number): Buffer {
  const out: Uint8Array[] = [];
  let size = 0;
  const d = new Decompress((chunk) => {
    size += chunk.length;
    if (size > limit) throw new DecodeError(`decoded body exceeds ${limit} bytes`);
    out.push(chunk);
  });
  // Feed in slices so the cap stops a bomb before it is fully inflated.
  const STEP = 64 * 1024;
  for (let at = 0; at < body.length; at += STEP) d.push(body.subarray(at, Math.min(body.length, at + STEP)), at + STEP >= body.length);
  if (body.length === 0) throw new DecodeError('empty zstd body');
  return Buffer.concat(out, size);
}

export async function decodeBody(body: Buffer, coding: Coding, limit = MAX_DECODED_BYTES): Promise<Buffer> {
  try {
    if (coding === 'gzip') return await gunzipAsync(body, { maxOutputLength: limit });
    return zstdDecode(body, limit);
  } catch (err) {
    if (err instanceof DecodeError) throw err;
    throw new DecodeError(`${coding}: ${(err as Error)?.message ?? String(err)}`);
  }
}

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
