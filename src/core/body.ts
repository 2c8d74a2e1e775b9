/**
 * The request body decoded once. A JSON body sent with a Content-Encoding (gzip, deflate, br,
 * zstd) is decoded here, capped at `limit` decoded bytes, and the decoded bytes are what every
 * later reader uses (parsing, compression, CCR, the `--log-messages` record): no other module
 * decodes a request body. A body without a coding is returned as received (no copy).
 */
import { type Coding, DecodeError, decodeRequestBody, parseContentEncoding } from '../providers/content-encoding.js';

export type DecodedBody =
  /** `decoded` is null when the body had no Content-Encoding (then `plain` is the received buffer). */
  | { kind: 'ok'; plain: Buffer; decoded: Buffer | null; coding: Coding | null }
  | { kind: 'refused'; status: 400 | 413 | 415; type: 'invalid_request' | 'body_too_large'; message: string };

export async function decodeOnce(body: Buffer, contentEncoding: unknown, limit: number): Promise<DecodedBody> {
  const coding = parseContentEncoding(contentEncoding);
  if (coding.kind === 'unsupported') {
    return { kind: 'refused', status: 415, type: 'invalid_request', message: `Content-Encoding "${coding.value.slice(0, 60)}" is not supported (gzip, deflate, br and zstd are).` };
  }
  if (coding.kind === 'identity') return { kind: 'ok', plain: body, decoded: null, coding: null };
  try {
    const decoded = await decodeRequestBody(body, coding.coding, limit);
    return { kind: 'ok', plain: decoded, decoded, coding: coding.coding };
  } catch (err) {
    const e = err instanceof DecodeError ? err : new DecodeError('corrupt', String(err));
    if (e.reason === 'too_large') return { kind: 'refused', status: 413, type: 'body_too_large', message: `Request body exceeds the ${limit}-byte limit once decoded (${e.message}).` };
    return { kind: 'refused', status: 400, type: 'invalid_request', message: `Request body could not be decoded: ${e.message}.` };
  }
}
