/**
 * What the resolution session needs from each API format (Anthropic Messages, OpenAI Chat,
 * OpenAI Responses): read a round's response (stream or JSON), hold back `headroom_retrieve`
 * calls while forwarding everything else, build the follow-up request, and close the client's
 * single response with everything the rounds produced.
 */
import type { SseFrame } from '../../../providers/sse.js';

export interface RetrieveCall {
  id: string;
  /** The call's arguments: a JSON string (OpenAI) or an object (Anthropic). */
  args: unknown;
}

export interface RoundSummary {
  /** The round's terminal event (or a valid JSON body) was seen. */
  complete: boolean;
  /** The upstream reported an error inside the stream (already forwarded to the client). */
  errored: boolean;
  /** Retrieve calls held back. */
  retrieveCalls: RetrieveCall[];
  /** Calls of the client's own tools. */
  otherCalls: number;
  /** The round's usage object as the provider reported it (null when it reported none). */
  usage: Json | null;
}

export interface ToolAnswer {
  id: string;
  text: string;
  isError: boolean;
}

/** Collects bytes for the client while a chunk is processed. */
export interface Out {
  push(bytes: Buffer | string): void;
}

export interface FinishContext {
  /** Follow-up rounds made (0: the client's own call only). */
  rounds: number;
  /** The last round's retrieve calls are dropped unanswered (removed from what the client sees). */
  dropLast: boolean;
}

export interface Codec {
  /** Finish reason reported when every call of the last round was a dropped retrieve call. */
  readonly dropStopReason: string;
  /** Called before each upstream call (round 0 is the client's own). */
  startRound(round: number): void;
  // streaming
  frame(f: SseFrame, out: Out): void;
  endStreamRound(): RoundSummary;
  finishStream(out: Out, ctx: FinishContext): void;
  // non-streaming
  jsonRound(json: unknown): RoundSummary;
  /** The client's response body; null to send the last upstream body unchanged. */
  finalJson(ctx: FinishContext): unknown;
  // follow-up
  /** The next request: `body` (this round's request) + the assistant turn of this round + the answers. */
  followUp(body: Buffer, answers: readonly ToolAnswer[]): Buffer;
}

export type Json = Record<string, unknown>;

export const isObj = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
export const asArr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** An SSE frame as bytes. */
export function sseFrame(event: string | null, data: unknown): string {
  return `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
}

/** Adds the numeric fields of `add` into `into` (nested objects too). */
export function sumInto(into: Json, add: unknown): void {
  if (!isObj(add)) return;
  for (const [k, v] of Object.entries(add)) {
    if (typeof v === 'number') into[k] = (typeof into[k] === 'number' ? (into[k] as number) : 0) + v;
    else if (isObj(v)) {
      const sub = isObj(into[k]) ? (into[k] as Json) : {};
      sumInto(sub, v);
      into[k] = sub;
    } else if (!(k in into)) into[k] = v;
  }
}

export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
