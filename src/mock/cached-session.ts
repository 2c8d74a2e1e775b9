/**
 * A scripted, prompt-cached agent session and the real spend of running it: the A/B the savings
 * figures are checked against (test and `npm run bench:savings`).
 *
 * Each turn resends the whole conversation, as Claude Code does: a fixed system prompt and tool
 * list, then for every step the assistant's tool call and the tool's (large) output. Cache
 * breakpoints sit where Claude Code puts them: the last system block (1-hour TTL) and the last
 * block of each of the two newest user messages (5-minute TTL). OpenAI Chat requests carry the
 * same conversation as `tool` messages (automatic prompt caching, no breakpoints).
 *
 * The spend of a run is read from what the (mock) provider answered for every upstream call it
 * received, follow-up retrieval rounds included, priced with the price table: what the bill
 * would say.
 */
import { mergeAnthropicUsage, newUsageState, toUsage } from '../providers/anthropic.js';
import { costOf, priceFor } from '../providers/pricing.js';
import type { ProviderId, TokenUsage } from '../providers/types.js';
import { generateOutput, type OutputType } from './agent-outputs.js';
import type { RecordedRequest } from './upstream.js';

type Json = Record<string, unknown>;

interface Step {
  tool: string;
  kind: OutputType;
  bytes: number;
}

const STEPS: readonly Step[] = [
  // small outputs first (nothing to compress yet), as agents start with a look around
  { tool: 'git_status', kind: 'file_listing', bytes: 300 },
  { tool: 'read_file', kind: 'prose', bytes: 400 },
  { tool: 'search_code', kind: 'search_json', bytes: 36_000 },
  { tool: 'read_logs', kind: 'service_log', bytes: 40_000 },
  { tool: 'grep', kind: 'grep', bytes: 24_000 },
  { tool: 'query_db', kind: 'db_rows', bytes: 30_000 },
  { tool: 'run_build', kind: 'build_log', bytes: 28_000 },
  { tool: 'list_endpoints', kind: 'api_listing', bytes: 26_000 },
  { tool: 'fetch_logs', kind: 'logs_json', bytes: 34_000 },
  { tool: 'list_files', kind: 'file_listing', bytes: 18_000 },
  { tool: 'git_diff', kind: 'diff', bytes: 16_000 },
];

/** The small steps the session opens with (not repeated). */
const LEAD = 2;

const SYSTEM_TEXT = [
  'You are an engineering agent working in a large TypeScript monorepo.',
  'Use the tools to investigate before answering. Prefer reading logs and code over guessing.',
  'When you change code, explain the change and run the build. Keep answers short and factual.',
].join('\n').repeat(12);

export const SESSION_TOOLS = STEPS.map((s) => ({
  name: s.tool,
  description: `Runs ${s.tool.replace('_', ' ')} and returns its output.`,
  input_schema: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
}));

export interface SessionTurn {
  /** Request body as the client sends it. */
  body: Json;
  /** Extra request headers (the mock scenario). */
  headers: Record<string, string>;
}

export interface SessionOptions {
  /** Turns (requests); at least 1. */
  turns: number;
  model: string;
  /** 1-based turns on which the mock model calls `headroom_retrieve` (when the proxy offers it). */
  retrieveOn?: readonly number[];
  /** Every `streamEvery`-th turn is streamed (0: none). */
  streamEvery?: number;
}

const toolUseId = (i: number) => `toolu_ab_${String(i + 1).padStart(3, '0')}`;

function steps(n: number): { step: Step; query: string; text: string }[] {
  return Array.from({ length: n }, (_, i) => {
    const step = STEPS[i < LEAD ? i : LEAD + ((i - LEAD) % (STEPS.length - LEAD))] as Step;
    const out = generateOutput(step.kind, step.bytes, 7000 + i);
    return { step, query: out.query, text: out.text };
  });
}

const ephemeral5m = { type: 'ephemeral' };
const ephemeral1h = { type: 'ephemeral', ttl: '1h' };

/** Turn `t` (1-based) of the Anthropic Messages session. */
export function anthropicTurn(t: number, opts: SessionOptions): SessionTurn {
  const outputs = steps(t);
  const messages: Json[] = [{ role: 'user', content: [{ type: 'text', text: 'The checkout service fails after the last deploy. Find the cause and fix it.' }] }];
  outputs.forEach((o, i) => {
    messages.push({
      role: 'assistant',
      content: [
        { type: 'text', text: `Next I will ${o.step.tool.replace('_', ' ')}: ${o.query}` },
        { type: 'tool_use', id: toolUseId(i), name: o.step.tool, input: { query: o.query } },
      ],
    });
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUseId(i), content: o.text }] });
  });
  // the two newest user messages carry a breakpoint on their last block
  let marked = 0;
  for (let i = messages.length - 1; i >= 0 && marked < 2; i--) {
    const m = messages[i] as Json;
    if (m.role !== 'user') continue;
    const blocks = m.content as Json[];
    blocks[blocks.length - 1] = { ...blocks[blocks.length - 1], cache_control: ephemeral5m };
    marked++;
  }
  const body: Json = {
    model: opts.model,
    max_tokens: 1024,
    system: [
      { type: 'text', text: SYSTEM_TEXT },
      { type: 'text', text: 'Environment: linux, node 20, repository at /work/app.', cache_control: ephemeral1h },
    ],
    tools: SESSION_TOOLS,
    messages,
  };
  if (opts.streamEvery && t % opts.streamEvery === 0) body.stream = true;
  return { body, headers: opts.retrieveOn?.includes(t) ? { 'x-mock-scenario': 'retrieve' } : {} };
}

/** Turn `t` (1-based) of the same session as OpenAI Chat Completions. */
export function chatTurn(t: number, opts: SessionOptions): SessionTurn {
  const outputs = steps(t);
  const messages: Json[] = [
    { role: 'system', content: SYSTEM_TEXT },
    { role: 'user', content: 'The checkout service fails after the last deploy. Find the cause and fix it.' },
  ];
  outputs.forEach((o, i) => {
    messages.push({
      role: 'assistant',
      content: `Next I will ${o.step.tool.replace('_', ' ')}: ${o.query}`,
      tool_calls: [{ id: `call_ab_${i + 1}`, type: 'function', function: { name: o.step.tool, arguments: JSON.stringify({ query: o.query }) } }],
    });
    messages.push({ role: 'tool', tool_call_id: `call_ab_${i + 1}`, content: o.text });
  });
  const tools = SESSION_TOOLS.map((d) => ({ type: 'function', function: { name: d.name, description: d.description, parameters: d.input_schema } }));
  const body: Json = { model: opts.model, messages, tools };
  if (opts.streamEvery && t % opts.streamEvery === 0) {
    body.stream = true;
    body.stream_options = { include_usage: true };
  }
  return { body, headers: opts.retrieveOn?.includes(t) ? { 'x-mock-scenario': 'retrieve' } : {} };
}

export interface RunSpend {
  /** Upstream calls billed (retrieval follow-ups included). */
  calls: number;
  usd: number;
  inputUsd: number;
  outputUsd: number;
  usage: Pick<TokenUsage, 'input' | 'output' | 'uncached' | 'cacheRead' | 'cacheWrite' | 'cacheWrite5m' | 'cacheWrite1h'>;
}

function frames(raw: string): Json[] {
  const out: Json[] = [];
  for (const line of raw.split('\n')) {
    if (!line.startsWith('data: ')) continue;
    const data = line.slice(6).trim();
    if (data === '[DONE]') continue;
    try {
      out.push(JSON.parse(data) as Json);
    } catch {
      // not JSON: not a usage frame
    }
  }
  return out;
}

function usageOf(provider: ProviderId, rec: RecordedRequest): TokenUsage | null {
  const raw = Buffer.concat(rec.response).toString('utf8');
  const sse = !raw.trimStart().startsWith('{');
  if (provider === 'anthropic') {
    const state = newUsageState();
    if (!sse) mergeAnthropicUsage(state, (JSON.parse(raw) as Json).usage);
    else {
      for (const f of frames(raw)) {
        if (f.type === 'message_start') mergeAnthropicUsage(state, (f.message as Json | undefined)?.usage);
        if (f.type === 'message_delta') mergeAnthropicUsage(state, f.usage);
      }
    }
    return toUsage(state, sse ? 'sse' : 'json');
  }
  let u: Json | undefined;
  if (!sse) u = (JSON.parse(raw) as Json).usage as Json | undefined;
  else for (const f of frames(raw)) if (f.usage && typeof f.usage === 'object') u = f.usage as Json;
  if (!u) return null;
  const input = Number(u.prompt_tokens ?? u.input_tokens ?? 0);
  const details = (u.prompt_tokens_details ?? u.input_tokens_details) as Json | undefined;
  const cached = Number(details?.cached_tokens ?? 0);
  return {
    input, output: Number(u.completion_tokens ?? u.output_tokens ?? 0), uncached: input - cached, cacheRead: cached,
    cacheWrite: 0, cacheWrite5m: 0, cacheWrite1h: 0, reasoning: 0, source: sse ? 'sse' : 'json',
  };
}

/**
 * What the provider billed for the calls it answered: every recorded 200 response to a model
 * call, priced with the price table (cache reads, 5-minute and 1-hour writes, uncached input,
 * output).
 */
export function spendOf(requests: readonly RecordedRequest[], provider: ProviderId, model: string): RunSpend {
  const price = priceFor(provider, model);
  const total: RunSpend = { calls: 0, usd: 0, inputUsd: 0, outputUsd: 0, usage: { input: 0, output: 0, uncached: 0, cacheRead: 0, cacheWrite: 0, cacheWrite5m: 0, cacheWrite1h: 0 } };
  for (const rec of requests) {
    if (rec.method !== 'POST' || !/^\/v1\/(messages|chat\/completions|responses)$/.test(rec.path)) continue;
    const u = usageOf(provider, rec);
    if (!u) continue;
    const c = costOf(u, price);
    total.calls++;
    total.usd += c.totalUsd;
    total.inputUsd += c.inputUsd;
    total.outputUsd += c.outputUsd;
    for (const k of Object.keys(total.usage) as (keyof RunSpend['usage'])[]) total.usage[k] += u[k];
  }
  return total;
}
