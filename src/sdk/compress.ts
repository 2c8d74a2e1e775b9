/**
 * `compress(messages, options)`: in-process compression of a message list in OpenAI Chat,
 * Anthropic Messages, OpenAI Responses or Vercel AI SDK (`ModelMessage`) format, with Headroom's `CompressConfig` options
 * (camelCase or snake_case, flat or under `config`). Returns the messages in the same format
 * plus `tokens_before`, `tokens_after`, `tokens_saved`, `compression_ratio` (after/before, as
 * the headroom-ai SDK reports it), `transforms_applied`, `ccr_hashes`, and `ccr`: the
 * originals of every lossy cut, keyed by the hash in its marker (store them to answer
 * `headroom_retrieve` calls).
 *
 * Unlike the proxy, which only compresses the newest turn, this compresses every eligible
 * message (Headroom's library semantics). The output is deterministic: the same messages and
 * options always give the same bytes.
 */
import { type CcrEntry, compressRequest, type EngineResult, type ReplayLookup } from '../compress/engine.js';
import { type CompressSettings, CompressOptionsError, DEFAULT_SETTINGS, resolveSettings } from '../compress/options.js';
import type { ApiShape } from '../compress/request/slots.js';
import { tokenCounterFor } from '../compress/tokens.js';
import { engineToVercel, looksVercel, vercelToEngine } from './vercel.js';
import { round4 } from '../util/round.js';

export type MessageFormat = 'openai' | 'anthropic' | 'responses' | 'vercel';

export interface CompressOptions {
  /** Drives the tokenizer (default `claude-sonnet-4-5-20250929`, as Headroom). */
  model?: string;
  /** Context window used to judge pressure (default: the model's, from the price table). */
  model_limit?: number;
  modelLimit?: number;
  /** `false` returns the messages unchanged (A/B comparisons). Default true. */
  optimize?: boolean;
  /** Message format; detected from the messages when absent. */
  format?: MessageFormat;
  /** The question used for relevance; default: the user's latest text. */
  query?: string | null;
  /** Headroom's CompressConfig, nested (flat keys are accepted too). */
  config?: Record<string, unknown>;
  [option: string]: unknown;
}

export interface CompressResult<M = unknown> {
  messages: M[];
  tokens_before: number;
  tokens_after: number;
  tokens_saved: number;
  /** tokens_after / tokens_before (1.0 when there was nothing to count). */
  compression_ratio: number;
  /** One tag per compressed message part (`json_crusher`, `log_compressor`...). */
  transforms_applied: string[];
  transforms_summary: Record<string, number>;
  /** Hashes of the markers inserted by this call. */
  ccr_hashes: string[];
  /** Originals of the lossy cuts, keyed by hash. */
  ccr: CcrEntry[];
  /** Set when compression failed and the messages were returned unchanged. */
  error?: string;
}

/** Runtime hooks for callers that own a clock (the /v1/compress route). */
export interface CompressRuntime {
  clock?: () => number;
  deadline?: number;
  replay?: ReplayLookup;
  /** Server-side settings the request's options are merged onto. */
  base?: Readonly<CompressSettings>;
  /**
   * `all` (default, the library's semantics): every eligible message. `live`: only the newest
   * turn, as the proxy does; earlier messages get their earlier result back from `replay`, byte
   * for byte, so the provider's prompt cache keeps hitting across turns.
   */
  scope?: 'live' | 'all';
}

export const DEFAULT_MODEL = 'claude-sonnet-4-5-20250929';

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Detects the message format from block and field shapes (OpenAI chat when nothing tells). */
export function detectFormat(messages: readonly unknown[]): MessageFormat {
  if (looksVercel(messages)) return 'vercel';
  for (const m of messages) {
    if (!isObj(m)) continue;
    if (typeof m.type === 'string' && m.role === undefined) return 'responses';
    if (m.type === 'message' || m.type === 'function_call_output' || m.type === 'function_call') return 'responses';
    if (m.role === 'tool' || Array.isArray(m.tool_calls)) return 'openai';
    if (Array.isArray(m.content)) {
      for (const b of m.content) {
        if (!isObj(b)) continue;
        if (b.type === 'tool_result' || b.type === 'tool_use' || b.type === 'thinking' || (b.type === 'image' && isObj(b.source))) return 'anthropic';
        if (b.type === 'image_url' || b.type === 'input_text') return b.type === 'input_text' ? 'responses' : 'openai';
      }
    }
  }
  return 'openai';
}

const API_OF: Record<MessageFormat, ApiShape> = { openai: 'chat', anthropic: 'messages', responses: 'responses', vercel: 'messages' };

/** Settings from options: `config` first, then flat CompressConfig keys. Throws CompressOptionsError. */
export function settingsFrom(options: CompressOptions, base: Readonly<CompressSettings> = DEFAULT_SETTINGS): CompressSettings {
  const nested = options.config;
  if (nested !== undefined && !isObj(nested)) throw new CompressOptionsError('config must be an object');
  const merged = resolveSettings(nested ?? null, base);
  return resolveSettings(options, merged);
}

function summarise(tags: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of tags) out[t] = (out[t] ?? 0) + 1;
  return out;
}

export interface CompressRun<M> {
  result: CompressResult<M>;
  engine: EngineResult | null;
}

/** The work behind `compress()`, with the engine's full result (used by /v1/compress). */
export function runCompress<M>(messages: readonly M[], options: CompressOptions = {}, runtime: CompressRuntime = {}): CompressRun<M> {
  if (!Array.isArray(messages)) throw new CompressOptionsError('messages must be an array');
  const settings = settingsFrom(options, runtime.base);
  const model = typeof options.model === 'string' && options.model ? options.model : DEFAULT_MODEL;
  const format = options.format ?? detectFormat(messages);
  if (!(format in API_OF)) throw new CompressOptionsError('format must be openai, anthropic, responses or vercel');
  const unchanged = (tokens: number, error?: string): CompressRun<M> => ({
    result: {
      messages: [...messages], tokens_before: tokens, tokens_after: tokens, tokens_saved: 0, compression_ratio: 1,
      transforms_applied: [], transforms_summary: {}, ccr_hashes: [], ccr: [], ...(error ? { error } : {}),
    },
    engine: null,
  });
  if (messages.length === 0) return unchanged(0);
  const api = API_OF[format];
  const vercel = format === 'vercel' ? vercelToEngine(messages) : null;
  const sent: readonly unknown[] = vercel ? vercel.messages : messages;
  const body = Buffer.from(JSON.stringify(api === 'responses' ? { input: sent } : { messages: sent }), 'utf8');
  if (options.optimize === false) return unchanged(tokenCounterFor(model).count(body.toString('utf8')));
  const limit = options.model_limit ?? options.modelLimit;
  let engine: EngineResult;
  try {
    engine = compressRequest({
      body, api, model, settings, scope: runtime.scope ?? 'all',
      ...(runtime.replay ? { replay: runtime.replay } : {}),
      ...(runtime.clock ? { clock: runtime.clock } : {}),
      ...(runtime.deadline !== undefined ? { deadline: runtime.deadline } : {}),
      ...(options.query !== undefined ? { query: options.query } : {}),
      ...(typeof limit === 'number' && Number.isInteger(limit) && limit > 0 ? { contextWindow: limit } : {}),
    });
  } catch (err) {
    return unchanged(0, `compression failed, messages returned unchanged: ${(err as Error)?.message ?? String(err)}`);
  }
  const parsed = engine.body ? ((JSON.parse(engine.body.toString('utf8')) as Record<string, unknown>)[api === 'responses' ? 'input' : 'messages'] as unknown[]) : null;
  const out: M[] = parsed === null ? [...messages] : vercel ? engineToVercel(messages, vercel, parsed) : (parsed as M[]);
  const hashes: string[] = [];
  for (const e of engine.ccr) if (!hashes.includes(e.hash)) hashes.push(e.hash);
  return {
    result: {
      messages: out,
      tokens_before: engine.tokensBefore,
      tokens_after: engine.tokensAfter,
      tokens_saved: engine.tokensSaved,
      compression_ratio: engine.tokensBefore > 0 ? round4((engine.tokensAfter / engine.tokensBefore)) : 1,
      transforms_applied: engine.transforms,
      transforms_summary: summarise(engine.transforms),
      ccr_hashes: hashes,
      ccr: engine.ccr,
    },
    engine,
  };
}

/**
 * Compresses a message list in-process.
 *
 * ```ts
 * const r = compress(messages, { model: 'gpt-4o', protect_recent: 2 });
 * await client.chat.completions.create({ model: 'gpt-4o', messages: r.messages });
 * ```
 */
export function compress<M>(messages: readonly M[], options: CompressOptions = {}): CompressResult<M> {
  return runCompress(messages, options).result;
}
