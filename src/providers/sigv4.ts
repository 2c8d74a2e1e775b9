/**
 * SigV4 helpers shared by the signing link and the mock Bedrock: the sha256 / HMAC-sha256
 * class `@smithy/signature-v4` takes (node:crypto), the path/query split it signs, and the
 * region of a client's own signature.
 */
import { createHash, createHmac } from 'node:crypto';

type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytesOf = (d: SourceData): Buffer =>
  typeof d === 'string' ? Buffer.from(d, 'utf8') : ArrayBuffer.isView(d) ? Buffer.from(d.buffer, d.byteOffset, d.byteLength) : Buffer.from(d);

/** sha256 and HMAC-sha256 for the signer, from node:crypto. */
export class Sha256 {
  private readonly h;

  constructor(secret?: SourceData) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret));
  }

  update(data: SourceData): void {
    this.h.update(bytesOf(data));
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }
}

/** Path and query map (the signer canonicalises both). */
export function splitQuery(path: string): [string, Record<string, string | string[]>] {
  const i = path.indexOf('?');
  if (i < 0) return [path, {}];
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(path.slice(i + 1))) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return [path.slice(0, i), query];
}

/** The region of a client's own SigV4 `Authorization` (its credential scope), or null. */
export function regionOfSignature(authorization: string | undefined): string | null {
  if (!authorization?.startsWith('AWS4-HMAC-SHA256')) return null;
  const m = /Credential=[^/]+\/\d{8}\/([a-z0-9-]+)\//.exec(authorization);
  return m ? m[1]! : null;
}
