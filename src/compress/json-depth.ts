/**
 * A bound on JSON nesting, checked without recursion. `JSON.parse` accepts any depth, but the
 * walkers that follow it (request facts, estimates, cache keys, log records, compression) and
 * `JSON.stringify` recurse, and 100,000 nested brackets exhaust the stack. Every route checks
 * a parsed client body once; deeper bodies are refused (or, on the hook, left alone).
 */

/** Deepest nesting accepted in a client body (no provider request comes near it). */
export const MAX_JSON_DEPTH = 256;

/** Whether `value` nests objects/arrays deeper than `max` levels (iterative, stops at the first). */
export function jsonTooDeep(value: unknown, max = MAX_JSON_DEPTH): boolean {
  if (value === null || typeof value !== 'object') return false;
  const nodes: object[] = [value];
  const depths: number[] = [1];
  while (nodes.length > 0) {
    const node = nodes.pop() as object;
    const depth = depths.pop() as number;
    if (depth > max) return true;
    const children = Array.isArray(node) ? node : Object.values(node);
    for (const child of children) {
      if (child !== null && typeof child === 'object') {
        nodes.push(child as object);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}

export const tooDeepMessage = (what = 'Request body'): string => `${what} nests JSON deeper than ${MAX_JSON_DEPTH} levels.`;
