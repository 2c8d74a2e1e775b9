/** Content-Encoding decoding, for reading (never for forwarding) compressed bodies. */
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';

export function decodeBody(body: Buffer, encoding: unknown): Buffer {
  const enc = typeof encoding === 'string' ? encoding.trim().toLowerCase() : '';
  switch (enc) {
    case '':
    case 'identity':
      return body;
    case 'gzip':
    case 'x-gzip':
      return gunzipSync(body);
    case 'deflate':
      return inflateSync(body);
    case 'br':
      return brotliDecompressSync(body);
    default:
      throw new Error(`unsupported Content-Encoding "${String(encoding)}"`);
  }
}
