/** Request bodies and helpers for engine and proxy tests. */
import { type JNode, scanJson } from '../../src/compress/json-scan.js';

/** Raw bytes of each element of `messages` (or `input`) in a JSON body. */
export function messageSlices(body: Buffer, key = 'messages'): Buffer[] {
  const root = scanJson(body);
  if (root.t !== 'o') return [];
  const i = root.keys.lastIndexOf(key);
  const arr = root.vals[i] as JNode | undefined;
  if (!arr || arr.t !== 'a') return [];
  return arr.items.map((n) => body.subarray(n.s, n.e));
}

export function anthropicToolTurn(id: string, name: string, content: unknown, extra: Record<string, unknown> = {}) {
  return [
    { role: 'assistant', content: [{ type: 'text', text: `Calling ${name}.` }, { type: 'tool_use', id, name, input: { q: 'x' } }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content, ...extra }] },
  ];
}
