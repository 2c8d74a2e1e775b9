/**
 * The live zone of a conversation: everything the client added since the model last spoke.
 * It is the one definition of "the newest turn" used by the proxy, the SDK wrappers, the
 * request facts (tool results counted in the newest turn) and, through the slot shapes,
 * `/v1/compress` and the hook.
 *
 * Each item of a conversation is said by the model (an assistant message, a tool call, a
 * reasoning item...) or by the client (user and system messages, tool results). The live zone
 * starts after the model's last item; when the model never spoke, it is the whole
 * conversation. An Anthropic conversation may end with an assistant message written by the
 * client (a prefill); it is not the model speaking, so the live zone is then the client's
 * items between the model's previous item and the prefill.
 *
 * Examples (Anthropic): `user, assistant(tool_use), user(tool_result), user(text)` -> the two
 * last messages; `user` -> all of it. OpenAI Chat: `..., assistant(tool_calls), tool, tool,
 * user` -> the two tool messages and the user message. Responses: `..., function_call,
 * function_call_output, message(user)` -> the output and the message.
 */

export type Speaker = 'model' | 'client';

/** Anthropic Messages and OpenAI Chat: only assistant messages are the model's. */
export function messageSpeaker(role: string | null | undefined): Speaker {
  return role === 'assistant' ? 'model' : 'client';
}

/**
 * OpenAI Responses input items: messages of the user, system or developer, and every
 * `*_output` / `*_response` item (tool results, approvals) are the client's; everything else
 * (assistant messages, `*_call` items, reasoning, references to earlier output) is the model's.
 * An item without a type but with a role is a message.
 */
export function responsesSpeaker(type: string | null | undefined, role: string | null | undefined): Speaker {
  const t = type ?? (role ? 'message' : null);
  if (t === 'message') return role === 'assistant' ? 'model' : 'client';
  if (t && /_output(?:_|$)|_response$/.test(t)) return 'client';
  return 'model';
}

export interface LiveZone {
  /** First index of the live zone. */
  start: number;
  /** One past its last index (less than the length when a trailing prefill is excluded). */
  end: number;
}

/**
 * The live zone of a conversation given who said each item. `prefill`: a trailing model item
 * is the client's prefill (Anthropic), not the model speaking.
 */
export function liveZone(speakers: readonly Speaker[], prefill = false): LiveZone {
  let end = speakers.length;
  if (prefill && end > 0 && speakers[end - 1] === 'model') end--;
  let start = end;
  while (start > 0 && speakers[start - 1] === 'client') start--;
  return { start, end };
}
