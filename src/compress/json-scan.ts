/**
 * A structural JSON scanner over raw bytes that records where every value starts and ends,
 * so that a request body can be edited by splicing new bytes into exact ranges while every
 * other byte is forwarded untouched. Strings are not decoded while scanning (`indexOf` skips
 * them natively); decode the few you need with `decodeString`.
 */

export type JNode = JObject | JArray | JString | JScalar;
export interface JObject { t: 'o'; s: number; e: number; keys: string[]; vals: JNode[] }
export interface JArray { t: 'a'; s: number; e: number; items: JNode[] }
/** A string literal; `s`..`e` includes the quotes. */
export interface JString { t: 's'; s: number; e: number }
export interface JScalar { t: 'v'; s: number; e: number }

const MAX_DEPTH = 256;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export class JsonScanError extends Error {
  override readonly name = 'JsonScanError';
}

export function scanJson(buf: Buffer): JNode {
  let pos = 0;
  const n = buf.length;

  const ws = () => {
    while (pos < n) {
      const c = buf[pos] as number;
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++;
      else break;
    }
  };

  const str = (): JString => {
    const s = pos;
    let i = pos + 1;
    for (;;) {
      const j = buf.indexOf(QUOTE, i);
      if (j === -1) throw new JsonScanError(`unterminated string at byte ${s}`);
      let k = j - 1;
      let slashes = 0;
      while (k > s && buf[k] === BACKSLASH) {
        slashes++;
        k--;
      }
      if (slashes % 2 === 0) {
        pos = j + 1;
        return { t: 's', s, e: j + 1 };
      }
      i = j + 1;
    }
  };

  const value = (depth: number): JNode => {
    if (depth > MAX_DEPTH) throw new JsonScanError('JSON nested too deeply');
    ws();
    const c = buf[pos];
    if (c === QUOTE) return str();
    if (c === 0x7b) {
      const s = pos++;
      const keys: string[] = [];
      const vals: JNode[] = [];
      ws();
      if (buf[pos] === 0x7d) {
        pos++;
        return { t: 'o', s, e: pos, keys, vals };
      }
      for (;;) {
        ws();
        if (buf[pos] !== QUOTE) throw new JsonScanError(`expected a key at byte ${pos}`);
        keys.push(decodeString(buf, str()));
        ws();
        if (buf[pos] !== 0x3a) throw new JsonScanError(`expected ':' at byte ${pos}`);
        pos++;
        vals.push(value(depth + 1));
        ws();
        const d = buf[pos++];
        if (d === 0x2c) continue;
        if (d === 0x7d) return { t: 'o', s, e: pos, keys, vals };
        throw new JsonScanError(`expected ',' or '}' at byte ${pos - 1}`);
      }
    }
    if (c === 0x5b) {
      const s = pos++;
      const items: JNode[] = [];
      ws();
      if (buf[pos] === 0x5d) {
        pos++;
        return { t: 'a', s, e: pos, items };
      }
      for (;;) {
        items.push(value(depth + 1));
        ws();
        const d = buf[pos++];
        if (d === 0x2c) continue;
        if (d === 0x5d) return { t: 'a', s, e: pos, items };
        throw new JsonScanError(`expected ',' or ']' at byte ${pos - 1}`);
      }
    }
    if (c === undefined) throw new JsonScanError('unexpected end of JSON');
    const s = pos;
    while (pos < n) {
      const d = buf[pos] as number;
      if (d === 0x2c || d === 0x5d || d === 0x7d || d === 0x20 || d === 0x0a || d === 0x0d || d === 0x09) break;
      pos++;
    }
    if (pos === s) throw new JsonScanError(`unexpected byte at ${s}`);
    return { t: 'v', s, e: pos };
  };

  const root = value(0);
  ws();
  if (pos !== n) throw new JsonScanError(`trailing bytes after JSON at ${pos}`);
  return root;
}

/** Decodes a string literal node to its JavaScript string. */
export function decodeString(buf: Buffer, node: JString): string {
  if (buf.subarray(node.s + 1, node.e - 1).indexOf(BACKSLASH) === -1) return buf.toString('utf8', node.s + 1, node.e - 1);
  return JSON.parse(buf.toString('utf8', node.s, node.e)) as string;
}

/** Value of `key` in an object node, or undefined. The last duplicate wins, as in JSON.parse. */
export function field(node: JNode | undefined, key: string): JNode | undefined {
  if (!node || node.t !== 'o') return undefined;
  for (let i = node.keys.length - 1; i >= 0; i--) if (node.keys[i] === key) return node.vals[i];
  return undefined;
}

/** The decoded string value of `key`, or null when absent or not a string. */
export function fieldString(buf: Buffer, node: JNode | undefined, key: string): string | null {
  const v = field(node, key);
  return v && v.t === 's' ? decodeString(buf, v) : null;
}

/** Raw text of a scalar node (`true`, `12`, `null`). */
export function scalarText(buf: Buffer, node: JNode | undefined): string | null {
  return node && node.t === 'v' ? buf.toString('latin1', node.s, node.e) : null;
}
