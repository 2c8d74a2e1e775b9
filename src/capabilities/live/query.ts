/** Query-string validation for the live endpoints: bad values become a 400 naming the parameter. */
export class QueryError extends Error {
  override readonly name = 'QueryError';
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

export function boolParam(q: URLSearchParams, name: string, dflt: boolean): boolean {
  const raw = q.get(name);
  if (raw === null || raw.trim() === '') return dflt;
  const v = raw.trim().toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw new QueryError(`${name} must be true or false (got ${JSON.stringify(raw.slice(0, 40))}).`);
}

export function intParam(q: URLSearchParams, name: string, dflt: number, min: number, max: number): number {
  const raw = q.get(name);
  if (raw === null || raw.trim() === '') return dflt;
  const t = raw.trim();
  if (!/^\d+$/.test(t) || Number(t) < min || Number(t) > max) {
    throw new QueryError(`${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(raw.slice(0, 40))}).`);
  }
  return Number(t);
}

export const MAX_PATTERN_LENGTH = 256;

export function patternParam(q: URLSearchParams, name: string): string | null {
  const raw = q.get(name);
  if (raw === null || raw === '') return null;
  if (raw.length > MAX_PATTERN_LENGTH) throw new QueryError(`${name} is longer than ${MAX_PATTERN_LENGTH} characters.`);
  return raw;
}

export function enumParam<const V extends string>(q: URLSearchParams, name: string, values: readonly V[], dflt: V | null): V | null {
  const raw = q.get(name);
  if (raw === null || raw.trim() === '') return dflt;
  const v = raw.trim().toLowerCase();
  const hit = values.find((x) => x === v);
  if (!hit) throw new QueryError(`${name} must be one of ${values.join(', ')} (got ${JSON.stringify(raw.slice(0, 40))}).`);
  return hit;
}
