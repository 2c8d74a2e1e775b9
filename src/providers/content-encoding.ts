/**
 * Content-Encoding decoding, one implementation for every body headroom-ts reads (proxy
 * requests, `/v1/compress`, the hook, upstream responses it inspects): gzip, deflate and br
 * through node:zlib, zstd through fzstd (Node 20's zlib has none). Bodies are only decoded to
 * be read; forwarded bytes stay encoded.
 *
 * Every decode has an output cap and stops as soon as it is passed, so a small bomb (1 MB of
 * gzip that inflates to 1 GiB) costs at most the cap in memory and time:
 * - zlib codings stream in 256 KiB chunks and abort past the cap; request bodies are decoded
 *   off the event loop (zlib's thread pool).
 * - zstd frames are checked before any decoding: frames declaring more content than the cap
 *   are refused at once. Frames that declare their size are decoded in one pass into a buffer
 *   of exactly that size; others stream block by block (at most 128 KiB each) with the cap
 *   checked per block, and their window (allocated up front, and copied once per block by
 *   fzstd's streaming decoder) may not exceed 8 MiB.
 */
import { promisify } from 'node:util';
import {
  brotliDecompress,
  brotliDecompressSync,
  gunzip,
  gunzipSync,
  inflate,
  inflateSync,
  type ZlibOptions,
} from 'node:zlib';
import { Decompress as ZstdStream, decompress as zstdDecompress } from 'fzstd';

export const CODINGS = ['gzip', 'deflate', 'br', 'zstd'] as const;
export type Coding = (typeof CODINGS)[number];

/** A request's Content-Encoding: none, one coding we decode, or something we do not. */
export type CodingHeader = { kind: 'identity' } | { kind: 'coding'; coding: Coding } | { kind: 'unsupported'; value: string };

const ALIASES: Record<string, Coding> = { gzip: 'gzip', 'x-gzip': 'gzip', deflate: 'deflate', br: 'br', zstd: 'zstd', zstandard: 'zstd' };

/**
 * Normalises a Content-Encoding header (trim, lower-case, `;params` dropped; empty or
 * `identity` = none). Only one coding is decoded: a list (`gzip, br`) or a coding outside
 * `accepted` is `unsupported`.
 */
export function parseContentEncoding(header: unknown, accepted: readonly Coding[] = CODINGS): CodingHeader {
  const raw = Array.isArray(header) ? header.join(',') : typeof header === 'string' ? header : '';
  const value = (raw.split(';')[0] ?? '').trim().toLowerCase();
  if (value === '' || value === 'identity') return { kind: 'identity' };
  const coding = ALIASES[value];
  if (coding && accepted.includes(coding)) return { kind: 'coding', coding };
  return { kind: 'unsupported', value: raw.trim() };
}

export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  constructor(
    /** `too_large`: the decoded body would pass the cap; `corrupt`: not valid in its coding. */
    readonly reason: 'too_large' | 'corrupt',
    message: string,
  ) {
    super(message);
  }
}

const gunzipAsync = promisify<Buffer, ZlibOptions, Buffer>(gunzip);
const inflateAsync = promisify<Buffer, ZlibOptions, Buffer>(inflate);
const brotliAsync = promisify<Buffer, ZlibOptions, Buffer>(brotliDecompress);

const CHUNK = 256 * 1024;

const tooLarge = (coding: Coding, limit: number) => new DecodeError('too_large', `the ${coding}-decoded body exceeds the ${limit}-byte limit`);

function zlibError(coding: Coding, limit: number, err: unknown): DecodeError {
  if (err instanceof DecodeError) return err;
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) return tooLarge(coding, limit);
  return new DecodeError('corrupt', `invalid ${coding} body: ${e?.message ?? String(err)}`);
}

/** Decodes a request body off the event loop (zstd: in slices on it), at most `limit` bytes out. */
export async function decodeRequestBody(body: Buffer, coding: Coding, limit: number): Promise<Buffer> {
  if (coding === 'zstd') return zstdDecode(body, limit);
  // 256 KiB output chunks: 16 KiB ones cost a thread-pool round trip each (10x slower on 32 MiB)
  const opts: ZlibOptions = { maxOutputLength: Math.max(1, limit), chunkSize: CHUNK };
  try {
    if (coding === 'gzip') return await gunzipAsync(body, opts);
    if (coding === 'deflate') return await inflateAsync(body, opts);
    return await brotliAsync(body, opts);
  } catch (err) {
    throw zlibError(coding, limit, err);
  }
}

/** Upstream response bodies headroom-ts reads (usage, errors): decoded synchronously, capped. */
export const RESPONSE_DECODE_LIMIT = 64 * 1024 * 1024;

/** Decodes an upstream response body by its Content-Encoding header (throws DecodeError or on unsupported codings). */
export function decodeResponseBody(body: Buffer, header: unknown, limit = RESPONSE_DECODE_LIMIT): Buffer {
  const c = parseContentEncoding(header);
  if (c.kind === 'identity') return body;
  if (c.kind === 'unsupported') throw new DecodeError('corrupt', `unsupported Content-Encoding "${c.value}"`);
  if (c.coding === 'zstd') return zstdDecode(body, limit);
  const opts: ZlibOptions = { maxOutputLength: Math.max(1, limit), chunkSize: CHUNK };
  try {
    if (c.coding === 'gzip') return gunzipSync(body, opts);
    if (c.coding === 'deflate') return inflateSync(body, opts);
    return brotliDecompressSync(body, opts);
  } catch (err) {
    throw zlibError(c.coding, limit, err);
  }
}

// --- zstd ---------------------------------------------------------------------------------

/** Largest window of a frame without a declared content size (see the file comment). */
export const ZSTD_MAX_STREAM_WINDOW = 8 * 1024 * 1024;

interface ZstdFrame {
  /** Declared content size, or null when the frame does not declare it. */
  size: number | null;
  window: number;
}

const le = (b: Buffer, at: number, n: number): number => {
  let v = 0;
  for (let i = n - 1; i >= 0; i--) v = v * 256 + (b[at + i] as number);
  return v;
};

/** Walks the frames' headers and block headers (no decoding). Throws DecodeError('corrupt'). */
function zstdFrames(b: Buffer): ZstdFrame[] {
  const frames: ZstdFrame[] = [];
  const bad = (why: string) => new DecodeError('corrupt', `invalid zstd body: ${why}`);
  let at = 0;
  if (b.length === 0) throw bad('empty body');
  while (at < b.length) {
    if (at + 8 > b.length) throw bad('truncated frame');
    const magic = b.readUInt32LE(at);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      at += 8 + b.readUInt32LE(at + 4); // skippable frame
      continue;
    }
    if (magic !== 0xfd2fb528) throw bad('not a zstd frame');
    const fhd = b[at + 4] as number;
    const fcsFlag = fhd >> 6;
    const single = (fhd >> 5) & 1;
    const checksum = (fhd >> 2) & 1;
    const dictBytes = [0, 1, 2, 4][fhd & 3] as number;
    let p = at + 5;
    let window = 0;
    if (!single) {
      const wd = b[p++] as number;
      const base = 2 ** (10 + (wd >> 3));
      window = base + (base / 8) * (wd & 7);
    }
    p += dictBytes;
    const fcsBytes = fcsFlag === 0 ? single : 2 ** fcsFlag;
    let size: number | null = null;
    if (fcsBytes > 0) {
      if (p + fcsBytes > b.length) throw bad('truncated frame header');
      size = le(b, p, fcsBytes) + (fcsBytes === 2 ? 256 : 0);
      p += fcsBytes;
    }
    if (single) window = size ?? 0;
    for (;;) {
      if (p + 3 > b.length) throw bad('truncated block');
      const h = le(b, p, 3);
      const type = (h >> 1) & 3;
      const blockSize = h >> 3;
      if (type === 3) throw bad('reserved block type');
      p += 3 + (type === 1 ? 1 : blockSize);
      if (h & 1) break;
    }
    p += checksum ? 4 : 0;
    if (p > b.length) throw bad('truncated frame');
    frames.push({ size, window });
    at = p;
  }
  return frames;
}

function zstdDecode(body: Buffer, limit: number): Buffer {
  const frames = zstdFrames(body);
  let declared = 0;
  let allDeclared = true;
  for (const f of frames) {
    if (f.size === null) allDeclared = false;
    else declared += f.size;
    // the decoder allocates the window when no (non-zero) content size says how much to allocate
    if (!f.size && f.window > ZSTD_MAX_STREAM_WINDOW) {
      throw new DecodeError('too_large', `the zstd window (${f.window} bytes) exceeds the ${ZSTD_MAX_STREAM_WINDOW} bytes accepted for frames without a content size`);
    }
    if (declared > limit) throw tooLarge('zstd', limit);
  }
  try {
    if (allDeclared) {
      const out = zstdDecompress(body);
      if (out.length > limit) throw tooLarge('zstd', limit);
      return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    }
    const parts: Uint8Array[] = [];
    let size = 0;
    const d = new ZstdStream((chunk) => {
      size += chunk.length;
      if (size > limit) throw tooLarge('zstd', limit);
      parts.push(chunk);
    });
    const STEP = 64 * 1024;
    for (let at = 0; at < body.length; at += STEP) d.push(body.subarray(at, Math.min(body.length, at + STEP)), at + STEP >= body.length);
    return Buffer.concat(parts, size);
  } catch (err) {
    if (err instanceof DecodeError) throw err;
    throw new DecodeError('corrupt', `invalid zstd body: ${(err as Error)?.message ?? String(err)}`);
  }
}
