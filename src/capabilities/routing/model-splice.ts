/**
 * Rewrites the top-level `"model"` string of a JSON request body in place: the bytes of its
 * value are replaced and every other byte is kept (no re-serialisation), so what compression
 * and the client wrote reaches the upstream unchanged but for the model name.
 */
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

const isWs = (c: number | undefined) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

function skipWs(b: Buffer, i: number): number {
  while (i < b.length && isWs(b[i])) i++;
  return i;
}

/** Index after the closing quote of the string starting at `i`, or -1. */
function stringEnd(b: Buffer, i: number): number {
  for (let j = i + 1; j < b.length; j++) {
    const c = b[j];
    if (c === BACKSLASH) j++;
    else if (c === QUOTE) return j + 1;
  }
  return -1;
}

/** Index after the JSON value starting at `i`, or -1. */
function valueEnd(b: Buffer, i: number): number {
  const c = b[i];
  if (c === QUOTE) return stringEnd(b, i);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    for (let j = i; j < b.length; j++) {
      const d = b[j];
      if (d === QUOTE) {
        j = stringEnd(b, j) - 1;
        if (j < 0) return -1;
      } else if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) {
        if (--depth === 0) return j + 1;
      }
    }
    return -1;
  }
  let j = i;
  while (j < b.length && b[j] !== 0x2c && b[j] !== 0x7d && b[j] !== 0x5d && !isWs(b[j])) j++;
  return j > i ? j : -1;
}

/** Byte span of the (last) top-level `"model"` value when it is a string, else null. */
export function modelSpan(b: Buffer): { start: number; end: number } | null {
  let i = skipWs(b, 0);
  if (b[i] !== 0x7b) return null;
  i = skipWs(b, i + 1);
  let found: { start: number; end: number } | null = null;
  while (i < b.length && b[i] !== 0x7d) {
    if (b[i] !== QUOTE) return null;
    const ks = i;
    i = stringEnd(b, i);
    if (i < 0) return null;
    const isModel = i - ks === 7 && b.toString('latin1', ks, i) === '"model"';
    i = skipWs(b, i);
    if (b[i] !== 0x3a) return null;
    i = skipWs(b, i + 1);
    const vs = i;
    i = valueEnd(b, i);
    if (i < 0) return null;
    if (isModel) found = b[vs] === QUOTE ? { start: vs, end: i } : null;
    i = skipWs(b, i);
    if (b[i] === 0x2c) i = skipWs(b, i + 1);
    else if (b[i] !== 0x7d) return null;
  }
  return found;
}

/** The body with its model set to `model`; null when it already names it or has no string model. */
export function spliceModel(body: Buffer, model: string): Buffer | null {
  const span = modelSpan(body);
  if (!span) return null;
  let current: unknown;
  try {
    current = JSON.parse(body.toString('utf8', span.start, span.end));
  } catch {
    return null;
  }
  if (current === model) return null;
  return Buffer.concat([body.subarray(0, span.start), Buffer.from(JSON.stringify(model)), body.subarray(span.end)]);
}
