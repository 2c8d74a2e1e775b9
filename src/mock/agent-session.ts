/**
 * A scripted agent session for the prompt-cache acceptance test and `npm run bench:session`:
 * a fixed system prompt and tools, the model (the mock upstream) calling a tool on every other
 * turn, tool outputs of realistic kinds and sizes (some of a few hundred bytes, some of tens of
 * kilobytes), user text next to or after the tool results on some turns (as agents add
 * reminders and follow-ups), and, for Anthropic, `cache_control` breakpoints on the system
 * prompt and on the newest content block, moved forward every turn as Claude Code does.
 *
 * The session only talks through `send` (one request body in, the response JSON out), so the
 * same session runs direct to the mock or through the proxy, with any client. `prefixReport`
 * checks what reached the upstream: whether any earlier message changed between two
 * consecutive requests (other than the breakpoint the client itself moved) and whether the
 * tools array changed. `cacheSummary` sums the usage the provider reported.
 */
import { arrayItems, topLevel } from '../providers/body.js';
import { generateOutput, type OutputType } from './agent-outputs.js';

type Json = Record<string, unknown>;

export type SendFn = (body: Json) => Promise<Json>;

export interface TurnUsage {
  /** Input tokens of the request: uncached + cache reads + cache writes. */
  input: number;
  cacheRead: number;
  cacheWrite: number;
  output: number;
}

/** The tool outputs of the session, in order: kind and size in bytes. */
const OUTPUTS: readonly [OutputType, number][] = [
  ['file_listing', 6_000],
  ['build_log', 48_000],
  ['grep', 1_200],
  ['service_log', 30_000],
  ['diff', 9_000],
  ['search_json', 40_000],
  ['prose', 800],
  ['logs_json', 25_000],
  ['db_rows', 20_000],
  ['grep', 18_000],
  ['api_listing', 30_000],
  ['build_log', 900],
  ['service_log', 60_000],
  ['diff', 24_000],
  ['search_json', 3_000],
];

/**
 * The fixed prefix. `compact`: a system prompt and six tools of about 1.7k tokens. `agent`:
 * about 12k tokens, the size agent CLIs send (long system prompts, tool descriptions with
 * usage notes and examples).
 */
export type SessionPrefix = 'compact' | 'agent';

function systemPrompt(prefix: SessionPrefix): string {
  const n = prefix === 'agent' ? 100 : 40;
  return [
    'You are a coding agent working in a large monorepo. Use the tools to inspect the code, run commands and read logs.',
    'Prefer small, verifiable steps. Quote the exact lines you rely on. Never invent file names or test results.',
    ...Array.from({ length: n }, (_, i) => `Guideline ${i + 1}: keep changes minimal, explain the reason for each edit, and re-run the relevant checks before reporting.`),
  ].join('\n');
}

const schema = (props: Record<string, string>) => ({
  type: 'object',
  properties: Object.fromEntries(Object.entries(props).map(([k, d]) => [k, { type: 'string', description: d }])),
  required: [Object.keys(props)[0]],
});

const TOOL_SPECS: [string, string, Record<string, string>][] = [
  ['Bash', 'Run a shell command in the repository and return its output.', { command: 'The command to run', description: 'What it does' }],
  ['Read', 'Read a file from the repository.', { file_path: 'Absolute path', offset: 'First line' }],
  ['Grep', 'Search file contents with a regular expression.', { pattern: 'The regular expression', path: 'Where to search' }],
  ['Glob', 'Find files by name pattern.', { pattern: 'The glob' }],
  ['Edit', 'Replace a string in a file.', { file_path: 'Absolute path', old_string: 'Text to replace', new_string: 'Replacement' }],
  ['WebFetch', 'Fetch a URL and return its text.', { url: 'The URL', prompt: 'What to extract' }],
];

const usageNotes = (name: string) =>
  Array.from({ length: 45 }, (_, i) => `\n- Usage note ${i + 1} for ${name}: check the arguments, prefer the narrowest scope, and report exactly what the tool returned.`).join('');

/** Anthropic tool definitions (the mock model calls the first one). */
export function sessionTools(prefix: SessionPrefix): Json[] {
  return TOOL_SPECS.map(([name, description, props]) => ({ name, description: prefix === 'agent' ? description + usageNotes(name) : description, input_schema: schema(props) }));
}

const TASK = 'The checkout service fails its integration tests since the last deploy. Find the cause and propose a fix.';

function outputAt(j: number): string {
  const [kind, bytes] = OUTPUTS[j % OUTPUTS.length] as [OutputType, number];
  return generateOutput(kind, bytes, 4000 + j).text;
}

const reminder = (j: number): Json => ({ type: 'text', text: `<system-reminder>Tool result ${j + 1} received; keep the task list up to date.</system-reminder>` });
const followUp = (j: number) => `Before you go on: does output ${j + 1} mention the payment service?`;

const CACHE = { type: 'ephemeral' };

/** Removes every `cache_control` from message blocks and puts one on the newest block. */
function moveBreakpoint(messages: Json[]): void {
  for (const m of messages) if (Array.isArray(m.content)) for (const b of m.content as Json[]) delete b.cache_control;
  const last = messages[messages.length - 1];
  const blocks = last?.content;
  if (Array.isArray(blocks) && blocks.length) (blocks[blocks.length - 1] as Json).cache_control = CACHE;
}

function anthropicUsage(msg: Json): TurnUsage {
  const u = (msg.usage ?? {}) as Record<string, number | undefined>;
  const read = u.cache_read_input_tokens ?? 0;
  const write = u.cache_creation_input_tokens ?? 0;
  return { input: (u.input_tokens ?? 0) + read + write, cacheRead: read, cacheWrite: write, output: u.output_tokens ?? 0 };
}

export interface SessionOptions {
  /** Requests in the session (default 30). */
  turns?: number;
  prefix?: SessionPrefix;
  model?: string;
}

/** Runs an Anthropic Messages session; returns the usage of each request. */
export async function runAnthropicSession(send: SendFn, opts: SessionOptions = {}): Promise<TurnUsage[]> {
  const { turns = 30, prefix = 'compact', model = 'claude-sonnet-4-5' } = opts;
  const system = [{ type: 'text', text: systemPrompt(prefix), cache_control: CACHE }];
  const tools = sessionTools(prefix);
  const messages: Json[] = [{ role: 'user', content: [{ type: 'text', text: TASK }] }];
  const usage: TurnUsage[] = [];
  let results = 0;
  for (let k = 0; k < turns; k++) {
    moveBreakpoint(messages);
    const body = { model, max_tokens: 1024, system, tools, messages };
    const reply = await send(structuredClone(body));
    usage.push(anthropicUsage(reply));
    const content = (reply.content as Json[]) ?? [];
    messages.push({ role: 'assistant', content });
    const calls = content.filter((b) => b.type === 'tool_use');
    if (calls.length) {
      const blocks: Json[] = calls.map((c) => ({ type: 'tool_result', tool_use_id: c.id, content: outputAt(results++) }));
      if (results % 4 === 2) blocks.push(reminder(results));
      messages.push({ role: 'user', content: blocks });
      if (results % 5 === 4) messages.push({ role: 'user', content: [{ type: 'text', text: followUp(results) }] });
    } else {
      messages.push({ role: 'user', content: [{ type: 'text', text: `Step ${k + 1}: continue with the next check.` }] });
    }
  }
  return usage;
}

function chatUsage(res: Json): TurnUsage {
  const u = (res.usage ?? {}) as { prompt_tokens?: number; completion_tokens?: number; prompt_tokens_details?: { cached_tokens?: number } };
  return { input: u.prompt_tokens ?? 0, cacheRead: u.prompt_tokens_details?.cached_tokens ?? 0, cacheWrite: 0, output: u.completion_tokens ?? 0 };
}

/** Runs an OpenAI Chat Completions session (automatic prefix caching: no breakpoints). */
export async function runChatSession(send: SendFn, opts: SessionOptions = {}): Promise<TurnUsage[]> {
  const { turns = 30, prefix = 'compact', model = 'gpt-4o' } = opts;
  const tools = sessionTools(prefix).map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.input_schema } }));
  const messages: Json[] = [{ role: 'system', content: systemPrompt(prefix) }, { role: 'user', content: TASK }];
  const usage: TurnUsage[] = [];
  let results = 0;
  for (let k = 0; k < turns; k++) {
    const reply = await send(structuredClone({ model, tools, messages }));
    usage.push(chatUsage(reply));
    const msg = ((reply.choices as Json[] | undefined)?.[0]?.message ?? { role: 'assistant', content: '' }) as Json;
    messages.push(msg);
    const calls = (msg.tool_calls as Json[] | undefined) ?? [];
    if (calls.length) {
      for (const c of calls) messages.push({ role: 'tool', tool_call_id: c.id, content: outputAt(results++) });
      if (results % 5 === 4) messages.push({ role: 'user', content: followUp(results) });
    } else {
      messages.push({ role: 'user', content: `Step ${k + 1}: continue with the next check.` });
    }
  }
  return usage;
}

export interface CacheSummary {
  requests: number;
  /** Input tokens sent (uncached + cache reads + cache writes). */
  tokensSent: number;
  cacheRead: number;
  cacheWrite: number;
  /** cacheRead / tokensSent, 0-1 (the `/stats` prompt-cache hit rate). */
  hitRate: number;
  /** Share of the requests after the first that read the cache, 0-1. */
  requestHitRate: number;
  /**
   * Of what each request could have found cached (what the request before it read or wrote,
   * or for automatic caching all of it), the share it read, 0-1: 1 when no cache is ever
   * broken, whatever the sizes.
   */
  prefixReuse: number;
}

export function cacheSummary(usage: readonly TurnUsage[], explicit = true): CacheSummary {
  const sum = (f: (u: TurnUsage) => number) => usage.reduce((a, u) => a + f(u), 0);
  const tokensSent = sum((u) => u.input);
  const cacheRead = sum((u) => u.cacheRead);
  let reusable = 0;
  let reused = 0;
  for (let k = 1; k < usage.length; k++) {
    const prev = usage[k - 1] as TurnUsage;
    const could = explicit ? prev.cacheRead + prev.cacheWrite : prev.input;
    reusable += could;
    reused += Math.min(could, (usage[k] as TurnUsage).cacheRead);
  }
  const later = usage.slice(1);
  return {
    requests: usage.length,
    tokensSent,
    cacheRead,
    cacheWrite: sum((u) => u.cacheWrite),
    hitRate: tokensSent ? cacheRead / tokensSent : 0,
    requestHitRate: later.length ? later.filter((u) => u.cacheRead > 0).length / later.length : 0,
    prefixReuse: reusable ? reused / reusable : 0,
  };
}

export interface PrefixReport {
  requests: number;
  /** Earlier messages whose bytes differ from the previous request (breakpoints aside). */
  historyChanges: number;
  /** Earlier messages whose bytes differ only by a moved `cache_control` (the client's own edit). */
  breakpointMoves: number;
  /** Requests whose `tools` bytes differ from the previous request's. */
  toolsChanges: number;
  /** Requests whose message list does not extend the previous one (fewer messages). */
  shrunk: number;
}

const BREAKPOINT = /,"cache_control":\{"type":"ephemeral"(?:,"ttl":"(?:5m|1h)")?\}/g;

function slices(body: Buffer, key: string): { items: Buffer[]; tools: string } {
  const top = topLevel(body);
  const r = top?.keys.get(key);
  const t = top?.keys.get('tools');
  return {
    items: r ? arrayItems(body, r, Number.MAX_SAFE_INTEGER).map((x) => body.subarray(x.s, x.e)) : [],
    tools: t ? body.toString('utf8', t.s, t.e) : '',
  };
}

/** Compares every request of a session with the one before it, byte for byte. */
export function prefixReport(bodies: readonly Buffer[], key = 'messages'): PrefixReport {
  const out: PrefixReport = { requests: bodies.length, historyChanges: 0, breakpointMoves: 0, toolsChanges: 0, shrunk: 0 };
  let prev: ReturnType<typeof slices> | null = null;
  for (const b of bodies) {
    const cur = slices(b, key);
    if (prev) {
      if (cur.tools !== prev.tools) out.toolsChanges++;
      if (cur.items.length < prev.items.length) out.shrunk++;
      const n = Math.min(prev.items.length, cur.items.length);
      for (let i = 0; i < n; i++) {
        const a = prev.items[i] as Buffer;
        const c = cur.items[i] as Buffer;
        if (a.equals(c)) continue;
        if (a.toString('utf8').replace(BREAKPOINT, '') === c.toString('utf8').replace(BREAKPOINT, '')) out.breakpointMoves++;
        else out.historyChanges++;
      }
    }
    prev = cur;
  }
  return out;
}
