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
  /** In the live zone: may be compressed afresh. Other slots are only replayed. */
  live: boolean;
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

export type ApiShape = 'messages' | 'chat' | 'responses';

/** Removes custom-tag blocks (e.g. `<system-reminder>`) from a user's text before it is used as a query. */
export function queryFrom(text: string): string {
  return text.replace(/<([A-Za-z][\w-]*-[\w-]*|system[\w-]*)\b[^>]*>[\s\S]*?<\/\1>/g, ' ').trim();
}

export const RETRIEVE_TOOL_RE = /(^|__)headroom_retrieve$/;
