/**
 * Anthropic Messages slots. The live zone is every message after the last assistant message
 * (`live-zone.ts`): the tool results and user text the client added since the model last
 * spoke. A trailing assistant message is the client's prefill; when it carries a
 * `cache_control` breakpoint the messages before it are frozen. History at or before the
 * last message carrying a breakpoint is `cacheable` (the provider caches prefixes up to its
 * breakpoints only, so history after the last one cannot be in its cache). Slots: string content, `text`
 * blocks, and the content of `tool_result` blocks (a string, or the `text` parts of an array).
 * Never touched: `system`, `tools`, assistant messages, `tool_use`, `thinking`/
 * `redacted_thinking` (and their signatures), images, documents and any other block type.
 */
import { decodeString, field, fieldString, type JNode, scalarText } from '../json-scan.js';
import { liveZone, messageSpeaker } from './live-zone.js';
import { type RequestShape, type Slot, queryFrom } from './slots.js';

export function anthropicShape(buf: Buffer, root: JNode, allLive: boolean, includeSystem: boolean): RequestShape {
  const slots: Slot[] = [];
  const messages = field(root, 'messages');
  if (!messages || messages.t !== 'a') return { slots, queryText: '', liveNodes: [] };
  const items = messages.items;
  const n = items.length;

  const toolNames = new Map<string, string>();
  const roles = items.map((m) => fieldString(buf, m, 'role'));
  for (let i = 0; i < n; i++) {
    const m = items[i];
    if (roles[i] !== 'assistant') continue;
    const content = field(m, 'content');
    if (content?.t !== 'a') continue;
    for (const b of content.items) {
      if (fieldString(buf, b, 'type') !== 'tool_use') continue;
      const id = fieldString(buf, b, 'id');
      const name = fieldString(buf, b, 'name');
      if (id && name) toolNames.set(id, name);
    }
  }
  const zone = liveZone(roles.map(messageSpeaker), true);
  // a cache breakpoint on the prefill freezes what comes before it
  let frozen = false;
  for (let i = zone.end; i < n && !frozen; i++) {
    const content = field(items[i], 'content');
    if (content?.t === 'a') frozen = content.items.some((b) => field(b, 'cache_control') !== undefined);
  }
  const isLive = (i: number) => !frozen && i >= zone.start && i < zone.end;
  // the last message with a breakpoint on a block (or on a part of a tool result's content)
  let lastBreakpoint = -1;
  for (let i = n - 1; i >= 0 && lastBreakpoint < 0; i--) {
    const content = field(items[i], 'content');
    if (content?.t !== 'a') continue;
    for (const b of content.items) {
      const parts = field(b, 'content');
      if (field(b, 'cache_control') !== undefined || (parts?.t === 'a' && parts.items.some((x) => field(x, 'cache_control') !== undefined))) {
        lastBreakpoint = i;
        break;
      }
    }
  }

  if (includeSystem) {
    const system = field(root, 'system');
    const push = (node: JNode | undefined) => {
      if (node?.t === 's') slots.push({ node, role: 'system', kind: 'text', messageIndex: -1, messagesFromEnd: n + 1, live: allLive, cacheable: !allLive, toolName: null, isError: false });
    };
    if (system?.t === 's') push(system);
    else if (system?.t === 'a') for (const b of system.items) if (fieldString(buf, b, 'type') === 'text') push(field(b, 'text'));
  }

  let queryText = '';
  for (let i = 0; i < n; i++) {
    const m = items[i];
    const role = roles[i];
    const live = allLive || isLive(i);
    const cacheable = !live && i <= lastBreakpoint;
    const fromEnd = n - i;
    const content = field(m, 'content');
    if (role === 'system' || role === 'developer') {
      if (includeSystem && content?.t === 's') slots.push({ node: content, role: 'system', kind: 'text', messageIndex: i, messagesFromEnd: fromEnd, live, cacheable, toolName: null, isError: false });
      continue;
    }
    if (role !== 'user' || !content) continue;
    const texts: string[] = [];
    if (content.t === 's') {
      slots.push({ node: content, role: 'user', kind: 'text', messageIndex: i, messagesFromEnd: fromEnd, live, cacheable, toolName: null, isError: false });
      texts.push(decodeString(buf, content));
    } else if (content.t === 'a') {
      for (const b of content.items) {
        const type = fieldString(buf, b, 'type');
        if (type === 'text' || (type === null && field(b, 'text')?.t === 's')) {
          const t = field(b, 'text');
          if (t?.t !== 's') continue;
          slots.push({ node: t, role: 'user', kind: 'text', messageIndex: i, messagesFromEnd: fromEnd, live, cacheable, toolName: null, isError: false });
          texts.push(decodeString(buf, t));
        } else if (type === 'tool_result') {
          const id = fieldString(buf, b, 'tool_use_id');
          const toolName = id ? toolNames.get(id) ?? null : null;
          const isError = scalarText(buf, field(b, 'is_error')) === 'true';
          const c = field(b, 'content');
          const base = { role: 'tool' as const, kind: 'tool_result' as const, messageIndex: i, messagesFromEnd: fromEnd, live, cacheable, toolName, isError };
          if (c?.t === 's') slots.push({ node: c, ...base });
          else if (c?.t === 'a') {
            for (const part of c.items) {
              const t = field(part, 'text');
              if (fieldString(buf, part, 'type') === 'text' && t?.t === 's') slots.push({ node: t, ...base });
            }
          }
        }
      }
    }
    const q = queryFrom(texts);
    if (q) queryText = q;
  }
  const liveNodes = allLive ? [...items] : frozen ? [] : items.slice(zone.start, zone.end);
  return { slots, queryText, liveNodes };
}
