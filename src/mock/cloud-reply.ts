/**
 * What the cloud mocks' model "says" to an Anthropic Messages body (Bedrock invoke, Vertex
 * rawPredict): an agent loop a coding agent can finish. When the request offers a `Bash` tool
 * and a file to show is configured, the first turn asks to `cat` it; once the newest turn holds
 * the tool result, the model answers with how many characters of it it saw. Otherwise it
 * answers text. Usage comes from the prompt-cache simulation (cache reads on repeated
 * prefixes up to a `cache_control` breakpoint).
 */
import type { PromptCacheSim } from './prompt-cache.js';
import { chunksOf, mockId } from './replies.js';

type Json = Record<string, unknown>;

export interface CloudReplyOptions {
  /** The file the model asks to `cat` with the Bash tool (absent: it never calls a tool). */
  catPath?: string;
}

function lastToolResult(body: Json): string | null {
  const msgs = Array.isArray(body.messages) ? (body.messages as Json[]) : [];
  const last = msgs[msgs.length - 1];
  if (!last || !Array.isArray(last.content)) return null;
  const block = (last.content as Json[]).find((b) => b?.type === 'tool_result');
  if (!block) return null;
  const c = block.content;
  if (typeof c === 'string') return c;
  return Array.isArray(c) ? (c as Json[]).map((p) => (typeof p?.text === 'string' ? p.text : '')).join('') : '';
}

const offersBash = (body: Json) => Array.isArray(body.tools) && (body.tools as Json[]).some((t) => t?.name === 'Bash');

/** The reply message (Anthropic shape) to a body. */
export function cloudMessage(body: Json, bodyBytes: number, model: string, cache: PromptCacheSim, opts: CloudReplyOptions): Json {
  const seen = lastToolResult(body);
  const content: Json[] = [];
  let stop = 'end_turn';
  if (seen !== null) content.push({ type: 'text', text: `mock reply: the tool result had ${seen.length} characters.` });
  else if (opts.catPath && offersBash(body)) {
    content.push({ type: 'text', text: 'Let me look at the file.' }, { type: 'tool_use', id: mockId('toolu'), name: 'Bash', input: { command: `cat ${opts.catPath}`, description: 'Show the log file' } });
    stop = 'tool_use';
  } else content.push({ type: 'text', text: 'mock reply from the cloud platform.' });
  const total = cache.promptTokens(body, bodyBytes, 'anthropic');
  const c = cache.anthropicUsage(body, total);
  return {
    id: mockId('msg'),
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: stop,
    stop_sequence: null,
    usage: {
      input_tokens: c.uncached,
      cache_creation_input_tokens: c.cacheWrite5m + c.cacheWrite1h,
      cache_read_input_tokens: c.cacheRead,
      output_tokens: cache.outputTokens(JSON.stringify(content)),
    },
  };
}

/** The Anthropic stream events (objects) of a reply message. */
export function cloudEvents(msg: Json): Json[] {
  const usage = msg.usage as Json;
  const events: Json[] = [{ type: 'message_start', message: { ...msg, content: [], stop_reason: null, usage: { ...usage, output_tokens: 1 } } }];
  (msg.content as Json[]).forEach((block, index) => {
    if (block.type === 'text') {
      events.push({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      for (const piece of chunksOf(String(block.text))) events.push({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } });
    } else {
      events.push({ type: 'content_block_start', index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } });
      events.push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) } });
    }
    events.push({ type: 'content_block_stop', index });
  });
  events.push({ type: 'message_delta', delta: { stop_reason: msg.stop_reason, stop_sequence: null }, usage: { output_tokens: usage.output_tokens } });
  events.push({ type: 'message_stop' });
  return events;
}
