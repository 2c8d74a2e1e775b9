/**
 * The demo's scripted agent session: a coding agent investigating a failing deploy, calling
 * tools whose outputs are the bulky kinds agents resend every turn (search results, logs, grep,
 * diffs, listings, database rows). Each step appends the assistant's tool call and the tool's
 * result to the conversation and resends all of it, as Claude Code and Codex do.
 *
 * The tools are an agent's own (MCP-style) tools. Claude Code's built-in Read, Glob, Grep, Write
 * and Edit are in the default `--exclude-tools` list (their outputs are what the model edits
 * files by, so they are forwarded whole); a demo tool named `grep` would match that rule and be
 * left as is, so the code search here is `search_code`.
 */
import { generateOutput, type OutputType } from '../mock/agent-outputs.js';

export interface DemoStep {
  tool: string;
  kind: OutputType;
  label: string;
  bytes: number;
}

const STEPS: readonly DemoStep[] = [
  { tool: 'search_issues', kind: 'search_json', label: 'issue search (JSON)', bytes: 40_000 },
  { tool: 'read_logs', kind: 'service_log', label: 'service logs', bytes: 60_000 },
  { tool: 'search_code', kind: 'grep', label: 'code search (ripgrep)', bytes: 30_000 },
  { tool: 'query_db', kind: 'db_rows', label: 'database rows', bytes: 35_000 },
  { tool: 'run_build', kind: 'build_log', label: 'build and test output', bytes: 50_000 },
  { tool: 'git_diff', kind: 'diff', label: 'diff of the last deploy', bytes: 30_000 },
  { tool: 'list_endpoints', kind: 'api_listing', label: 'API listing', bytes: 30_000 },
  { tool: 'fetch_logs_json', kind: 'logs_json', label: 'structured logs (JSON)', bytes: 45_000 },
  { tool: 'list_files', kind: 'file_listing', label: 'file listing', bytes: 20_000 },
];

export const SYSTEM_PROMPT = 'You are a senior engineer on call. Investigate with the tools, then explain the root cause and the fix.';

export const TOOLS = STEPS.map((s) => ({
  name: s.tool,
  description: `Runs ${s.label}.`,
  input_schema: { type: 'object', properties: { query: { type: 'string' } } },
}));

export function stepAt(i: number): DemoStep {
  return STEPS[i % STEPS.length]!;
}

type Message = { role: 'user' | 'assistant'; content: unknown };

/** The conversation after `n` tool calls (n >= 1): every request of the demo resends it. */
export function conversationAfter(n: number): { messages: Message[]; step: DemoStep; outputBytes: number } {
  const messages: Message[] = [{ role: 'user', content: 'The checkout service started failing after the last deploy. Find out why.' }];
  let last = stepAt(0);
  let outputBytes = 0;
  for (let i = 0; i < n; i++) {
    const step = stepAt(i);
    const out = generateOutput(step.kind, step.bytes, 1000 + i);
    const id = `toolu_demo_${String(i + 1).padStart(2, '0')}`;
    messages.push({
      role: 'assistant',
      content: [
        { type: 'text', text: `Checking the ${step.label}.` },
        { type: 'tool_use', id, name: step.tool, input: { query: out.query } },
      ],
    });
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: out.text }] });
    last = step;
    outputBytes = Buffer.byteLength(out.text);
  }
  return { messages, step: last, outputBytes };
}
