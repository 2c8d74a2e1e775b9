/**
 * `headroom-ts compress <file|->`: compresses a file in-process. A JSON message list (or
 * `{messages: [...]}`) is compressed as messages and printed as JSON; any other text is treated
 * as one tool output and printed compressed. Savings go to stderr (for a text, the tokens of the
 * text itself); when nothing was cut the line says why. The originals of lossy cuts are stored
 * in the workspace's CCR store, so a proxy on that workspace can answer their markers;
 * `--no-store` (or a stateless / memory-backed config) says they were not stored.
 * `--json` prints the result.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { FLOOR_CHARS, MAX_SLOT_CHARS, type SlotReport } from '../compress/engine.js';
import { tokenCounterFor } from '../compress/tokens.js';
import { type CompressOptions, runCompress } from '../sdk/compress.js';
import { storeOriginals } from './compress-store.js';
import { int, pct } from './table.js';

const TOOL_CALL_ID = 'call_headroom_cli';

/** Messages to compress from the input, and how to print the result. */
export function messagesFrom(text: string, query: string | undefined): { messages: unknown[]; asText: boolean; wrapped: boolean } {
  try {
    const parsed = JSON.parse(text) as unknown;
    if (Array.isArray(parsed) && parsed.every((m) => m !== null && typeof m === 'object' && 'role' in m)) return { messages: parsed, asText: false, wrapped: false };
    if (parsed !== null && typeof parsed === 'object' && Array.isArray((parsed as { messages?: unknown }).messages)) {
      return { messages: (parsed as { messages: unknown[] }).messages, asText: false, wrapped: true };
    }
  } catch {
    // not JSON: a tool output
  }
  return {
    messages: [
      { role: 'user', content: query ?? 'Summarise this output.' },
      { role: 'assistant', content: null, tool_calls: [{ id: TOOL_CALL_ID, type: 'function', function: { name: 'cli_input', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: TOOL_CALL_ID, content: text },
    ],
    asText: true,
    wrapped: false,
  };
}

/** Why the engine left a text as it is, in words. */
export function reasonText(reason: string | null): string {
  if (reason === null) return 'nothing to cut';
  if (reason === 'below_floor') return `shorter than ${int(FLOOR_CHARS)} characters: texts this short are never compressed`;
  if (reason === 'too_large') return `larger than ${MAX_SLOT_CHARS / 1024 / 1024} MiB: beyond every context window, forwarded as is`;
  if (reason === 'pinned') return 'it already carries a retrieval marker';
  if (reason === 'error_output') return 'an error output (errors and short failing outputs are kept whole)';
  if (reason === 'code' || reason === 'recent_code' || reason === 'analysis_context') return 'source code is never compressed';
  if (reason === 'user_message') return 'user text is not compressed';
  if (reason === 'system_message') return 'system text is not compressed';
  if (reason === 'not_smaller' || reason === 'empty_output') return 'no transform made it meaningfully smaller';
  if (reason.startsWith('no_gain_')) return `nothing to cut in this ${reason.slice('no_gain_'.length).replace(/_/g, ' ')} content`;
  return reason.replace(/_/g, ' ');
}

/** `left as is: 2 texts shorter than 512 characters..., 1 user text...` for a message list. */
function unchangedSummary(slots: readonly SlotReport[]): string {
  const counts = new Map<string, number>();
  for (const s of slots) if (s.outcome === 'unchanged') counts.set(reasonText(s.reason), (counts.get(reasonText(s.reason)) ?? 0) + 1);
  if (counts.size === 0) return 'nothing to cut';
  return [...counts].map(([why, n]) => `${n} ${n === 1 ? 'text' : 'texts'}: ${why}`).join('; ');
}

async function readInput(file: string): Promise<string> {
  if (file !== '-') return readFileSync(file, 'utf8');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

interface Opts {
  model: string;
  query?: string;
  targetRatio?: string;
  json?: boolean;
  store: boolean;
  workspaceDir?: string;
}

export function registerCompressCommand(program: Command): void {
  program
    .command('compress')
    .description('Compress a file (a tool output, or a JSON message list) in-process and print it; savings on stderr.')
    .argument('<file>', 'a file, or - for standard input')
    .option('--model <model>', 'model whose tokenizer counts the tokens', 'claude-sonnet-4-5-20250929')
    .option('--query <text>', 'what the agent is asking (kept items favour it)')
    .option('--target-ratio <ratio>', 'share of rows/lines to keep (0-1); default adaptive')
    .option('--json', 'print the whole result as JSON')
    .option('--workspace-dir <dir>', 'workspace whose CCR store receives the originals of lossy cuts (default HEADROOM_WORKSPACE_DIR or ~/.headroom)')
    .option('--no-store', 'do not store the originals (their markers then cannot be retrieved)')
    .action(async (file: string, opts: Opts) => {
      const text = await readInput(file);
      const input = messagesFrom(text, opts.query);
      const options: CompressOptions = { model: opts.model, ...(opts.query ? { query: opts.query } : {}) };
      if (opts.targetRatio !== undefined) options.target_ratio = Number(opts.targetRatio);
      // the user asked for this text to be compressed: no minimum token count, no excluded tools
      const { result: r, engine } = runCompress(input.messages, { ...options, min_tokens_to_compress: 0, exclude_tools: [], protect_recent: 0 });
      if (opts.json) process.stdout.write(`${JSON.stringify({ ...r, ccr: undefined }, null, 2)}\n`);
      else if (input.asText) process.stdout.write(`${String((r.messages[2] as { content: unknown }).content)}\n`);
      else process.stdout.write(`${JSON.stringify(input.wrapped ? { ...(JSON.parse(text) as object), messages: r.messages } : r.messages, null, 2)}\n`);

      const slots = engine?.slots ?? [];
      const say = (s: string) => process.stderr.write(`headroom-ts: ${s}\n`);
      if (r.error) say(r.error);
      if (input.asText) {
        // the tokens of the text itself, not of the message envelope it was wrapped in
        const counter = tokenCounterFor(opts.model);
        const before = counter.count(text);
        const outText = String((r.messages[2] as { content: unknown }).content);
        const slot = slots.find((s) => s.messageIndex === 2);
        if (r.tokens_saved > 0) {
          const after = counter.count(outText);
          say(`${int(before)} -> ${int(after)} tokens (saved ${int(before - after)}, ${pct(before > 0 ? ((before - after) / before) * 100 : 0)}) · ${[...new Set(r.transforms_applied)].join(', ')}`);
        } else {
          say(`left as is (${int(before)} tokens): ${reasonText(slot?.reason ?? null)}`);
        }
      } else if (r.tokens_saved > 0) {
        const saved = r.tokens_before > 0 ? (r.tokens_saved / r.tokens_before) * 100 : 0;
        say(`${int(r.tokens_before)} -> ${int(r.tokens_after)} tokens (saved ${int(r.tokens_saved)}, ${pct(saved)}) · ${[...new Set(r.transforms_applied)].join(', ')}`);
      } else {
        say(`left as is (${int(r.tokens_before)} tokens): ${unchangedSummary(slots)}`);
      }
      if (r.ccr.length > 0) say(storeOriginals(r.ccr, { store: opts.store, ...(opts.workspaceDir ? { workspaceDir: opts.workspaceDir } : {}) }));
    });
}
