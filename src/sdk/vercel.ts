/**
 * Vercel AI SDK messages (`ModelMessage`, v4 `CoreMessage`) for the compression engine.
 *
 * The engine speaks Anthropic Messages, which has the same structure (text parts, tool calls
 * in assistant turns, tool results answering them), so a Vercel list is mapped onto it one
 * message for one message, compressed, and only the parts the engine changed are written
 * back: every other field (provider options, ids, images, files, reasoning) is returned as
 * it came. A tool result whose output was JSON comes back as a `text` output, since the
 * compressed form (rows table, marker) is text.
 */

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Whether a message list uses Vercel AI SDK part types (`tool-call`, `tool-result`, ...). */
export function looksVercel(messages: readonly unknown[]): boolean {
  for (const m of messages) {
    if (!isObj(m) || !Array.isArray(m.content)) continue;
    for (const p of m.content) {
      if (!isObj(p)) continue;
      if (p.type === 'tool-call' || p.type === 'tool-result' || p.type === 'tool-approval-request') return true;
      if (p.type === 'image' && 'image' in p) return true;
      if (p.type === 'file' && ('data' in p || 'mediaType' in p || 'mimeType' in p) && !isObj(p.source)) return true;
    }
  }
  return false;
}

/** Text of a tool result's output, and how to write a compressed text back. */
interface ResultText {
  text: string;
  write(part: Json, text: string): Json;
}

function resultText(part: Json): ResultText | null {
  const out = part.output;
  if (isObj(out) && typeof out.type === 'string') {
    // v5: { type: 'text' | 'json' | 'error-text' | 'error-json' | 'content', value }
    if (out.type === 'text') return { text: String(out.value ?? ''), write: (p, t) => ({ ...p, output: { ...out, value: t } }) };
    if (out.type === 'json') return { text: JSON.stringify(out.value ?? null), write: (p, t) => ({ ...p, output: { type: 'text', value: t } }) };
    return null; // errors stay verbatim (short, and the model needs them whole); content arrays hold media
  }
  if ('result' in part && part.isError !== true) {
    // v4: { result: unknown }
    const r = part.result;
    if (typeof r === 'string') return { text: r, write: (p, t) => ({ ...p, result: t }) };
    if (r !== undefined) return { text: JSON.stringify(r), write: (p, t) => ({ ...p, result: t }) };
  }
  return null;
}

/** Where an engine block came from: message index, part index (-1 = the message's string content). */
interface Origin {
  message: number;
  part: number;
  kind: 'text' | 'result';
  result?: ResultText;
}

export interface VercelMapping {
  messages: Json[];
  origins: Origin[][];
}

/** Maps Vercel messages onto Anthropic-shaped messages the engine understands. */
export function vercelToEngine(messages: readonly unknown[]): VercelMapping {
  const out: Json[] = [];
  const origins: Origin[][] = [];
  messages.forEach((m, i) => {
    const blocks: Json[] = [];
    const from: Origin[] = [];
    if (!isObj(m)) {
      out.push({ role: 'user', content: [] });
      origins.push(from);
      return;
    }
    const role = m.role === 'assistant' ? 'assistant' : m.role === 'system' ? 'system' : 'user';
    if (typeof m.content === 'string') {
      // string content stays a string (the engine reads system turns only in that form)
      out.push({ role, content: m.content });
      origins.push([{ message: i, part: -1, kind: 'text' }]);
      return;
    }
    if (Array.isArray(m.content)) {
      m.content.forEach((p, j) => {
        if (!isObj(p)) return;
        if (p.type === 'text' && typeof p.text === 'string') {
          blocks.push({ type: 'text', text: p.text });
          from.push({ message: i, part: j, kind: 'text' });
        } else if (p.type === 'tool-call') {
          blocks.push({ type: 'tool_use', id: String(p.toolCallId ?? ''), name: String(p.toolName ?? ''), input: p.input ?? p.args ?? {} });
          from.push({ message: i, part: j, kind: 'text' });
        } else if (p.type === 'tool-result') {
          const r = resultText(p);
          if (!r) return;
          blocks.push({ type: 'tool_result', tool_use_id: String(p.toolCallId ?? ''), content: r.text });
          from.push({ message: i, part: j, kind: 'result', result: r });
        }
      });
    }
    // tool results answer in a user turn, as in Anthropic's format; system turns are never compressed
    out.push({ role, content: blocks });
    origins.push(from);
  });
  return { messages: out, origins };
}

/** Writes the engine's changed text parts and tool results back into copies of the Vercel messages. */
export function engineToVercel<M>(original: readonly M[], mapping: VercelMapping, compressed: readonly unknown[]): M[] {
  const result = original.map((m) => m) as unknown[];
  mapping.origins.forEach((from, mi) => {
    const after = compressed[mi];
    if (!isObj(after)) return;
    if (typeof after.content === 'string') {
      const prev = mapping.messages[mi]?.content;
      if (from[0]?.part === -1 && after.content !== prev) result[mi] = { ...(result[mi] as Json), content: after.content };
      return;
    }
    const blocks = after.content;
    if (!Array.isArray(blocks)) return;
    from.forEach((o, bi) => {
      const block = blocks[bi] as unknown;
      if (!isObj(block)) return;
      const before = mapping.messages[mi]?.content as Json[] | undefined;
      const prev = before?.[bi];
      if (o.kind === 'result' && o.result && block.type === 'tool_result' && typeof block.content === 'string' && block.content !== prev?.content) {
        const msg = { ...(result[o.message] as Json) };
        const parts = [...(msg.content as unknown[])];
        parts[o.part] = o.result.write(parts[o.part] as Json, block.content);
        msg.content = parts;
        result[o.message] = msg;
      } else if (o.kind === 'text' && block.type === 'text' && typeof block.text === 'string' && block.text !== prev?.text) {
        const msg = { ...(result[o.message] as Json) };
        if (o.part === -1) msg.content = block.text;
        else {
          const parts = [...(msg.content as unknown[])];
          parts[o.part] = { ...(parts[o.part] as Json), text: block.text };
          msg.content = parts;
        }
        result[o.message] = msg;
      }
    });
  });
  return result as M[];
}
