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
  // plain loops, no per-node arrays: ~20 µs for a 100-message agent request
  const visit = (child: unknown, depth: number) => {
    if (child !== null && typeof child === 'object') {
      nodes.push(child);
      depths.push(depth);
    }
  };
  while (nodes.length > 0) {
    const node = nodes.pop() as object;
    const depth = depths.pop() as number;
    if (depth > max) return true;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) visit(node[i], depth + 1);
    } else {
      const o = node as Record<string, unknown>;
      for (const k in o) visit(o[k], depth + 1);
    }
  }
  return false;
}

export const tooDeepMessage = (what = 'Request body'): string => `${what} nests JSON deeper than ${MAX_JSON_DEPTH} levels.`;
