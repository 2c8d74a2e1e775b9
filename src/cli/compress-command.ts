/**
 * `headroom-ts compress <file|->`: compresses a file in-process. A JSON message list (or
 * `{messages: [...]}`) is compressed as messages and printed as JSON; any other text is treated
 * as one tool output and printed compressed. Savings go to stderr; `--json` prints the result.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { compress, type CompressOptions } from '../sdk/compress.js';
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

async function readInput(file: string): Promise<string> {
  if (file !== '-') return readFileSync(file, 'utf8');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
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
    .action(async (file: string, opts: { model: string; query?: string; targetRatio?: string; json?: boolean }) => {
      const text = await readInput(file);
      const input = messagesFrom(text, opts.query);
      const options: CompressOptions = { model: opts.model, ...(opts.query ? { query: opts.query } : {}) };
      if (opts.targetRatio !== undefined) options.target_ratio = Number(opts.targetRatio);
      // the user asked for this text to be compressed: no minimum size, no excluded tools
      const r = compress(input.messages, { ...options, min_tokens_to_compress: 0, exclude_tools: [], protect_recent: 0 });
      if (opts.json) process.stdout.write(`${JSON.stringify({ ...r, ccr: undefined }, null, 2)}\n`);
      else if (input.asText) process.stdout.write(`${String((r.messages[2] as { content: unknown }).content)}\n`);
      else process.stdout.write(`${JSON.stringify(input.wrapped ? { ...(JSON.parse(text) as object), messages: r.messages } : r.messages, null, 2)}\n`);
      const saved = r.tokens_before > 0 ? (r.tokens_saved / r.tokens_before) * 100 : 0;
      const how = r.transforms_applied.length ? [...new Set(r.transforms_applied)].join(', ') : 'nothing to cut';
      process.stderr.write(`headroom-ts: ${int(r.tokens_before)} -> ${int(r.tokens_after)} tokens (saved ${int(r.tokens_saved)}, ${pct(saved)}) · ${how}\n`);
    });
}
