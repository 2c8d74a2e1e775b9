/**
 * What the mock model "says": a deterministic reply text, or a tool call when the request
 * offers tools and the newest turn is not already a tool result (a realistic agent loop).
 */
import { answerFromRetrieved, lastRetrieveResult, newestMarkerHash, offersRetrieve, RETRIEVE_TOOL, type RetrieveMode } from './retrieve.js';

type Json = Record<string, unknown>;

export interface MockToolCall {
  id: string;
  name: string;
  arguments: Json;
}

export interface MockReply {
  text: string;
  /** The first of `toolCalls`. */
  toolCall: MockToolCall | null;
  toolCalls: MockToolCall[];
}

let counter = 0;
export const mockId = (prefix: string) => `${prefix}_mock${(++counter).toString(36).padStart(8, '0')}`;

function toolName(tool: unknown): string | null {
  const t = tool as Json | null;
  if (!t) return null;
  if (typeof t.name === 'string') return t.name;
  const fn = t.function as Json | undefined;
  return typeof fn?.name === 'string' ? fn.name : null;
}

const withCalls = (text: string, calls: MockToolCall[]): MockReply => ({ text, toolCall: calls[0] ?? null, toolCalls: calls });

/**
 * A tool the model calls by name (`x-mock-tool-call: <name>`, arguments as JSON in
 * `x-mock-tool-args`) when the request offers it; after its result, the reply quotes the result.
 */
export interface ForcedTool {
  name: string;
  arguments: Json;
}

export function forcedToolOf(headers: Record<string, string | string[] | undefined>): ForcedTool | null {
  const name = headers['x-mock-tool-call'];
  if (typeof name !== 'string' || !name) return null;
  const args = headers['x-mock-tool-args'];
  let parsed: unknown = {};
  try {
    parsed = typeof args === 'string' && args ? JSON.parse(args) : {};
  } catch {
    parsed = {};
  }
  return { name, arguments: parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Json) : {} };
}

/** The text of the newest tool result (an OpenAI tool message or an Anthropic tool_result block). */
export function lastToolResultText(body: Json): string {
  const msgs = Array.isArray(body.messages) ? (body.messages as Json[]) : [];
  const last = msgs[msgs.length - 1];
  if (!last) return '';
  if (last.role === 'tool') return typeof last.content === 'string' ? last.content : JSON.stringify(last.content);
  const blocks = Array.isArray(last.content) ? (last.content as Json[]) : [];
  const result = blocks.find((b) => b?.type === 'tool_result');
  if (!result) return '';
  if (typeof result.content === 'string') return result.content;
  return (Array.isArray(result.content) ? (result.content as Json[]) : []).map((c) => (typeof c.text === 'string' ? c.text : '')).join('\n');
}

export function planReply(body: Json, lastIsToolResult: boolean, toolsEnabled: boolean, retrieve: RetrieveMode | null = null, forced: ForcedTool | null = null): MockReply {
  const tools = Array.isArray(body.tools) ? body.tools : [];
  if (forced && tools.some((t) => toolName(t) === forced.name)) {
    if (!lastIsToolResult) return withCalls('Let me check.', [{ id: mockId('toolu'), name: forced.name, arguments: forced.arguments }]);
    return withCalls(`The tool returned: ${lastToolResultText(body).slice(0, 400)}`, []);
  }
  const firstTool = tools.map(toolName).find((n): n is string => n !== null && n !== RETRIEVE_TOOL);
  if (retrieve && toolsEnabled && offersRetrieve(body)) {
    const retrieved = lastRetrieveResult(body);
    const hash = retrieve === 'miss' ? 'ffffffffffffffffffffffff' : newestMarkerHash(body);
    if (hash && (retrieved === null || retrieve === 'loop')) {
      const calls: MockToolCall[] = [{ id: mockId('toolu'), name: RETRIEVE_TOOL, arguments: { hash } }];
      if (retrieve === 'mixed' && firstTool) calls.push({ id: mockId('toolu'), name: firstTool, arguments: { query: 'status of the build' } });
      return withCalls('Let me read the full output.', calls);
    }
    if (retrieved !== null) return withCalls(answerFromRetrieved(retrieved), []);
  }
  if (toolsEnabled && firstTool && !lastIsToolResult && body.tool_choice !== 'none') {
    return withCalls('Let me look that up.', [{ id: mockId('toolu'), name: firstTool, arguments: { query: 'status of the build' } }]);
  }
  const n = Array.isArray(body.messages) ? body.messages.length : Array.isArray(body.input) ? body.input.length : 1;
  return withCalls(`This is a mock reply after ${n} message(s). The build is green, 3 tests were fixed and the summary is above.`, []);
}

/** Splits text into stream-sized deltas. */
export function chunksOf(text: string, size = 12): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length ? out : [''];
}
