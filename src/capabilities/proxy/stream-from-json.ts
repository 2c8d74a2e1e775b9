/**
 * A complete answer in the client's JSON shape, written as the client's event stream: for an
 * upstream that answered a streaming request with one JSON body (some OpenAI-compatible servers
 * do), so a client that asked for a stream still gets one its SDK can read.
 */
type Json = Record<string, unknown>;

const frame = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
const arr = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);

/** An Anthropic message -> its Messages stream events. */
export function anthropicMessageStream(msg: Json): string {
  const usage = (msg.usage ?? {}) as Json;
  let out = frame('message_start', { type: 'message_start', message: { ...msg, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 0 } } });
  arr(msg.content).forEach((b, index) => {
    if (b.type === 'tool_use') {
      out += frame('content_block_start', { type: 'content_block_start', index, content_block: { ...b, input: {} } });
      out += frame('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(b.input ?? {}) } });
    } else {
      out += frame('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      out += frame('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: typeof b.text === 'string' ? b.text : '' } });
    }
    out += frame('content_block_stop', { type: 'content_block_stop', index });
  });
  out += frame('message_delta', { type: 'message_delta', delta: { stop_reason: msg.stop_reason ?? 'end_turn', stop_sequence: msg.stop_sequence ?? null }, usage });
  return out + frame('message_stop', { type: 'message_stop' });
}

/** An OpenAI chat completion -> its Chat Completions stream chunks (a usage chunk when asked). */
export function chatCompletionStream(c: Json, includeUsage: boolean): string {
  const base = { id: c.id, object: 'chat.completion.chunk', created: c.created, model: c.model };
  const chunk = (delta: Json, finish: unknown = null) =>
    `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }], ...(includeUsage ? { usage: null } : {}) })}\n\n`;
  const choice = arr(c.choices)[0] ?? {};
  const message = (choice.message ?? {}) as Json;
  let out = chunk({ role: 'assistant', content: '' });
  if (typeof message.content === 'string' && message.content) out += chunk({ content: message.content });
  arr(message.tool_calls).forEach((tc, index) => {
    out += chunk({ tool_calls: [{ index, id: tc.id, type: 'function', function: tc.function }] });
  });
  out += chunk({}, choice.finish_reason ?? 'stop');
  if (includeUsage) out += `data: ${JSON.stringify({ ...base, choices: [], usage: c.usage ?? null })}\n\n`;
  return `${out}data: [DONE]\n\n`;
}
