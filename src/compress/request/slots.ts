/**
 * A slot is one JSON string in a request body whose text may be compressed: a tool result's
 * content, a text block, a message's string content. Each API module lists a request's
 * slots, says which belong to the live zone (the newest turn), and finds the user's question.
 */
import type { JNode, JString } from '../json-scan.js';

export type SlotRole = 'user' | 'tool' | 'system';

export interface Slot {
  node: JString;
  role: SlotRole;
  /** `tool_result` for tool outputs, `text` for message text. */
  kind: 'tool_result' | 'text';
  messageIndex: number;
  /** 1 for the last message. */
  messagesFromEnd: number;
  /** In the live zone: new this turn, compressed afresh. */
  live: boolean;
  /**
   * History (not live) that a provider's prompt cache may hold: Anthropic history at or
   * before the request's last `cache_control` breakpoint. Without an earlier decision it is
   * left as it is (and that is recorded); other history without one is compressed at first
   * sight (see `engine.ts`, "cold history").
   */
  cacheable: boolean;
  toolName: string | null;
  isError: boolean;
}

export interface RequestShape {
  slots: Slot[];
  /** The user's latest question (text only), for relevance. */
  queryText: string;
  /** Nodes of the live-zone messages (new input this turn). */
  liveNodes: JNode[];
}

export type ApiShape = 'messages' | 'chat' | 'responses' | 'gemini';

/** Longer user texts are pasted content, not a question. */
const MAX_QUERY_CHARS = 2000;

/**
 * The question in a user's text parts: custom-tag blocks (e.g. `<system-reminder>`) removed,
 * parts longer than 2000 characters (pasted content) ignored.
 */
export function queryFrom(texts: string | readonly string[]): string {
  const parts = typeof texts === 'string' ? [texts] : texts;
  return parts
    .map((t) => t.replace(/<([A-Za-z][\w-]*-[\w-]*|system[\w-]*)\b[^>]*>[\s\S]*?<\/\1>/g, ' ').trim())
    .filter((t) => t.length > 0 && t.length <= MAX_QUERY_CHARS)
    .join('\n');
}

export const RETRIEVE_TOOL_RE = /(^|__)headroom_retrieve$/;
