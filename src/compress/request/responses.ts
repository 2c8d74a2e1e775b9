/**
 * OpenAI Responses slots (`input`). The live zone is every item after the model's last output
 * item (`live-zone.ts`): the `*_call_output` items answering its calls and the user messages
 * that follow; with `previous_response_id` that is usually the whole `input`. Outputs of a
 * `headroom_retrieve` call reach the model verbatim. Reasoning items (and their
 * `encrypted_content`), calls and their arguments are never touched; nor are `instructions`.
 * As for Chat, no history is `cacheable` (automatic prefix caching; `engine.ts`, "cold history").
 */
import { decodeString, field, fieldString, type JNode } from '../json-scan.js';
import { liveZone, responsesSpeaker } from './live-zone.js';
import { RETRIEVE_TOOL_RE, type RequestShape, type Slot, queryFrom } from './slots.js';

const OUTPUT_TYPES = new Set(['function_call_output', 'custom_tool_call_output', 'local_shell_call_output', 'apply_patch_call_output', 'computer_call_output_text']);
const CALL_TYPES = new Set(['function_call', 'custom_tool_call', 'local_shell_call', 'apply_patch_call']);

export function responsesShape(buf: Buffer, root: JNode, allLive: boolean, includeSystem: boolean): RequestShape {
  const slots: Slot[] = [];
  const input = field(root, 'input') ?? field(root, 'messages');
  if (!input) return { slots, queryText: '', liveNodes: [] };
  if (input.t === 's') {
    const text = decodeString(buf, input);
    slots.push({ node: input, role: 'user', kind: 'text', messageIndex: 0, messagesFromEnd: 1, live: true, cacheable: false, toolName: null, isError: false });
    return { slots, queryText: queryFrom([text]), liveNodes: [input] };
  }
  if (input.t !== 'a') return { slots, queryText: '', liveNodes: [] };
  const items = input.items;
  const n = items.length;
  const types = items.map((it) => fieldString(buf, it, 'type') ?? (field(it, 'role') ? 'message' : null));
  const roles = items.map((it) => fieldString(buf, it, 'role'));
  const callNames = new Map<string, string>();
  for (let i = 0; i < n; i++) {
    const t = types[i];
    if (t && CALL_TYPES.has(t)) {
      const id = fieldString(buf, items[i], 'call_id');
      const name = fieldString(buf, items[i], 'name') ?? t;
      if (id) callNames.set(id, name);
    }
  }
  const liveFrom = liveZone(items.map((_, i) => responsesSpeaker(types[i], roles[i]))).start;
  let queryText = '';
  for (let i = 0; i < n; i++) {
    const it = items[i] as JNode;
    const t = types[i];
    const fromEnd = n - i;
    const live = allLive || i >= liveFrom;
    if (t && OUTPUT_TYPES.has(t)) {
      const id = fieldString(buf, it, 'call_id');
      const toolName = id ? callNames.get(id) ?? null : null;
      if (toolName && RETRIEVE_TOOL_RE.test(toolName)) continue;
      const out = field(it, 'output');
      const base = { role: 'tool' as const, kind: 'tool_result' as const, messageIndex: i, messagesFromEnd: fromEnd, live, cacheable: false, toolName, isError: false };
      if (out?.t === 's') slots.push({ node: out, ...base });
      else if (out?.t === 'a') {
        for (const part of out.items) {
          const tx = field(part, 'text');
          const pt = fieldString(buf, part, 'type');
          if ((pt === 'input_text' || pt === 'output_text' || pt === 'text') && tx?.t === 's') slots.push({ node: tx, ...base });
        }
      }
      continue;
    }
    if (t !== 'message') continue;
    const role = roles[i];
    let slotRole: Slot['role'];
    if (role === 'user') slotRole = 'user';
    else if ((role === 'system' || role === 'developer') && includeSystem) slotRole = 'system';
    else continue;
    const base = { role: slotRole, kind: 'text' as const, messageIndex: i, messagesFromEnd: fromEnd, live, cacheable: false, toolName: null, isError: false };
    const content = field(it, 'content');
    const texts: string[] = [];
    if (content?.t === 's') {
      slots.push({ node: content, ...base });
      texts.push(decodeString(buf, content));
    } else if (content?.t === 'a') {
      for (const part of content.items) {
        const tx = field(part, 'text');
        const pt = fieldString(buf, part, 'type');
        if ((pt === 'input_text' || pt === 'text') && tx?.t === 's') {
          slots.push({ node: tx, ...base });
          texts.push(decodeString(buf, tx));
        }
      }
    }
    if (slotRole === 'user') {
      const q = queryFrom(texts);
      if (q) queryText = q;
    }
  }
  return { slots, queryText, liveNodes: items.slice(allLive ? 0 : liveFrom) };
}
