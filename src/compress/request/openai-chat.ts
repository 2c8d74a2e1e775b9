/**
 * OpenAI Chat Completions slots. The live zone is every message after the last assistant
 * message (`live-zone.ts`): the `tool` messages answering its calls and the user message(s)
 * that follow. Tool names come from the assistant's `tool_calls`. Assistant messages, tool
 * call arguments and non-text parts are never touched. No history is `cacheable`: OpenAI
 * caches prefixes automatically, and history the proxy has no decision for is compressed
 * once (`engine.ts`, "cold history").
 */
import { decodeString, field, fieldString, type JNode } from '../json-scan.js';
import { liveZone, messageSpeaker } from './live-zone.js';
import { type RequestShape, type Slot, queryFrom } from './slots.js';

export function chatShape(buf: Buffer, root: JNode, allLive: boolean, includeSystem: boolean): RequestShape {
  const slots: Slot[] = [];
  const messages = field(root, 'messages');
  if (!messages || messages.t !== 'a') return { slots, queryText: '', liveNodes: [] };
  const items = messages.items;
  const n = items.length;
  const toolNames = new Map<string, string>();
  const roles: (string | null)[] = items.map((m) => fieldString(buf, m, 'role'));
  for (let i = 0; i < n; i++) {
    if (roles[i] !== 'assistant') continue;
    const calls = field(items[i], 'tool_calls');
    if (calls?.t !== 'a') continue;
    for (const c of calls.items) {
      const id = fieldString(buf, c, 'id');
      const name = fieldString(buf, field(c, 'function'), 'name');
      if (id && name) toolNames.set(id, name);
    }
  }
  const liveFrom = liveZone(roles.map(messageSpeaker)).start;

  let queryText = '';
  for (let i = 0; i < n; i++) {
    const role = roles[i];
    const m = items[i];
    const live = allLive || i >= liveFrom;
    const fromEnd = n - i;
    const content = field(m, 'content');
    if (!content) continue;
    let slotRole: Slot['role'];
    if (role === 'tool') slotRole = 'tool';
    else if (role === 'user') slotRole = 'user';
    else if ((role === 'system' || role === 'developer') && includeSystem) slotRole = 'system';
    else continue;
    const id = role === 'tool' ? fieldString(buf, m, 'tool_call_id') : null;
    const base = {
      role: slotRole,
      kind: slotRole === 'tool' ? ('tool_result' as const) : ('text' as const),
      messageIndex: i,
      messagesFromEnd: fromEnd,
      live,
      cacheable: false,
      toolName: id ? toolNames.get(id) ?? null : null,
      isError: false,
    };
    const texts: string[] = [];
    if (content.t === 's') {
      slots.push({ node: content, ...base });
      if (slotRole === 'user') texts.push(decodeString(buf, content));
    } else if (content.t === 'a') {
      for (const part of content.items) {
        const t = field(part, 'text');
        if (fieldString(buf, part, 'type') === 'text' && t?.t === 's') {
          slots.push({ node: t, ...base });
          if (slotRole === 'user') texts.push(decodeString(buf, t));
        }
      }
    }
    const q = queryFrom(texts);
    if (q) queryText = q;
  }
  return { slots, queryText, liveNodes: allLive ? [...items] : items.slice(liveFrom) };
}
