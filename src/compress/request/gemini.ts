/**
 * Gemini `generateContent` slots (`contents`). The live zone is every content after the last
 * `model` turn (`live-zone.ts`): the `functionResponse` parts answering its calls and the user
 * text that follows. A function response is a JSON object; its string fields (`output`,
 * `result`, `content`, `stdout`...) and the `text` of a `content` array of parts are its slots,
 * named by the response's `name`. User `text` parts are slots too. Model turns (their
 * `functionCall` parts and thought signatures), `systemInstruction`, `tools`, `inlineData`,
 * `fileData` and every other part are never touched. No history is `cacheable`: Gemini
 * caches prefixes implicitly, as OpenAI does (`engine.ts`, "cold history").
 */
import { decodeString, field, fieldString, type JNode } from '../json-scan.js';
import { geminiSpeakerOf } from './gemini-speaker.js';
import { liveZone } from './live-zone.js';
import { RETRIEVE_TOOL_RE, type RequestShape, type Slot, queryFrom } from './slots.js';

export function geminiShape(buf: Buffer, root: JNode, allLive: boolean, includeSystem: boolean): RequestShape {
  const slots: Slot[] = [];
  const contents = field(root, 'contents');
  if (!contents || contents.t !== 'a') return { slots, queryText: '', liveNodes: [] };
  const items = contents.items;
  const n = items.length;
  const roles = items.map((c) => fieldString(buf, c, 'role'));
  const liveFrom = liveZone(roles.map(geminiSpeakerOf)).start;

  if (includeSystem) {
    const sys = field(root, 'systemInstruction') ?? field(root, 'system_instruction');
    const parts = field(sys, 'parts');
    if (parts?.t === 'a') {
      for (const p of parts.items) {
        const t = field(p, 'text');
        if (t?.t === 's') slots.push({ node: t, role: 'system', kind: 'text', messageIndex: -1, messagesFromEnd: n + 1, live: allLive, cacheable: false, toolName: null, isError: false });
      }
    }
  }

  let queryText = '';
  for (let i = 0; i < n; i++) {
    if (roles[i] === 'model') continue;
    const parts = field(items[i], 'parts');
    if (parts?.t !== 'a') continue;
    const live = allLive || i >= liveFrom;
    const fromEnd = n - i;
    const texts: string[] = [];
    for (const p of parts.items) {
      const text = field(p, 'text');
      if (text?.t === 's') {
        slots.push({ node: text, role: 'user', kind: 'text', messageIndex: i, messagesFromEnd: fromEnd, live, cacheable: false, toolName: null, isError: false });
        texts.push(decodeString(buf, text));
        continue;
      }
      const fr = field(p, 'functionResponse') ?? field(p, 'function_response');
      if (fr?.t !== 'o') continue;
      const toolName = fieldString(buf, fr, 'name');
      if (toolName && RETRIEVE_TOOL_RE.test(toolName)) continue;
      const response = field(fr, 'response');
      if (response?.t !== 'o') continue;
      const isError = field(response, 'error') !== undefined && field(response, 'output') === undefined;
      const base = { role: 'tool' as const, kind: 'tool_result' as const, messageIndex: i, messagesFromEnd: fromEnd, live, cacheable: false, toolName, isError };
      for (const v of response.vals) {
        if (v.t === 's') slots.push({ node: v, ...base });
        else if (v.t === 'a') {
          for (const part of v.items) {
            const t = field(part, 'text');
            if (t?.t === 's') slots.push({ node: t, ...base });
          }
        }
      }
    }
    const q = queryFrom(texts);
    if (q) queryText = q;
  }
  return { slots, queryText, liveNodes: allLive ? [...items] : items.slice(liveFrom) };
}
