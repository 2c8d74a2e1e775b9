/**
 * Anthropic Messages resolution. Streaming: the client gets one `message_start` (round 0's),
 * every content block of every round except `headroom_retrieve` tool_use blocks, with block
 * indexes renumbered so they stay consecutive, and one closing `message_delta` (usage summed
 * over the rounds) + `message_stop`. When nothing was held back, round 0's frames pass
 * through byte for byte. Non-streaming: the rounds' content is concatenated the same way.
 */
import { RETRIEVE_TOOL_NAME } from '../../../compress/markers.js';
import { appendToArray, applySplices, topLevel } from '../../../providers/body.js';
import type { SseFrame } from '../../../providers/sse.js';
import { asArr, type Codec, type FinishContext, isObj, type Json, type Out, type RetrieveCall, type RoundSummary, safeJson, sseFrame, sumInto, type ToolAnswer } from './types.js';

const USAGE_KEYS = ['input_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens', 'output_tokens'] as const;

export class AnthropicCodec implements Codec {
  readonly dropStopReason = 'end_turn';
  /** Usage summed over finished rounds. */
  private readonly usage: Json = {};
  private roundUsage: Json = {};
  private nextIndex = 0;
  /** Upstream block index -> client index, or null when held back. */
  private indexMap = new Map<number, number | null>();
  /** This round's blocks as the model produced them (for the follow-up's assistant turn). */
  private blocks = new Map<number, Json>();
  private partialJson = new Map<number, string>();
  private calls: RetrieveCall[] = [];
  private others = 0;
  private complete = false;
  private errored = false;
  private stopReason: unknown = null;
  private stopSequence: unknown = null;
  /** Round 0's closing frames, replayed verbatim when nothing was changed. */
  private tail: Buffer[] = [];
  // non-streaming
  private first: Json | null = null;
  private last: Json | null = null;
  private content: unknown[] = [];
  private roundContent: unknown[] = [];

  startRound(_round: number): void {
    this.indexMap = new Map();
    this.blocks = new Map();
    this.partialJson = new Map();
    this.calls = [];
    this.others = 0;
    this.complete = false;
    this.errored = false;
    this.roundUsage = {};
  }

  private mergeUsage(u: unknown): void {
    if (!isObj(u)) return;
    for (const [k, v] of Object.entries(u)) {
      if (typeof v === 'number' || isObj(v)) this.roundUsage[k] = v;
    }
  }

  frame(f: SseFrame, out: Out): void {
    const type = f.event || (safeJson(f.data) as Json | null)?.type;
    if (type === 'ping' || type === undefined) {
      out.push(f.raw);
      return;
    }
    const data = safeJson(f.data);
    if (!isObj(data)) {
      out.push(f.raw);
      return;
    }
    switch (type) {
      case 'message_start': {
        const msg = isObj(data.message) ? data.message : {};
        this.mergeUsage(msg.usage);
        if (!this.first) {
          this.first = msg;
          out.push(f.raw);
        }
        return;
      }
      case 'content_block_start': {
        const index = Number(data.index);
        const block = isObj(data.content_block) ? { ...data.content_block } : {};
        this.blocks.set(index, block);
        if (block.type === 'tool_use' && block.name === RETRIEVE_TOOL_NAME) {
          this.indexMap.set(index, null);
          return;
        }
        if (block.type === 'tool_use') this.others++;
        const ci = this.nextIndex++;
        this.indexMap.set(index, ci);
        this.forward(f, data, index, ci, out);
        return;
      }
      case 'content_block_delta': {
        const index = Number(data.index);
        this.accumulate(index, isObj(data.delta) ? data.delta : {});
        const ci = this.indexMap.get(index);
        if (ci === null) return;
        this.forward(f, data, index, ci ?? index, out);
        return;
      }
      case 'content_block_stop': {
        const index = Number(data.index);
        const block = this.blocks.get(index);
        const partial = this.partialJson.get(index);
        if (block && partial !== undefined) block.input = partial.trim() ? (safeJson(partial) ?? {}) : {};
        const ci = this.indexMap.get(index);
        if (ci === null) {
          this.calls.push({ id: String(block?.id ?? ''), args: block?.input ?? {} });
          return;
        }
        this.forward(f, data, index, ci ?? index, out);
        return;
      }
      case 'message_delta': {
        const delta = isObj(data.delta) ? data.delta : {};
        this.stopReason = delta.stop_reason ?? null;
        this.stopSequence = delta.stop_sequence ?? null;
        this.mergeUsage(data.usage);
        this.tail.push(f.raw);
        return;
      }
      case 'message_stop':
        this.complete = true;
        this.tail.push(f.raw);
        return;
      case 'error':
        this.errored = true;
        out.push(f.raw);
        return;
      default:
        out.push(f.raw);
    }
  }

  /** Writes a frame with its block index renumbered (verbatim when the number is unchanged). */
  private forward(f: SseFrame, data: Json, index: number, ci: number, out: Out): void {
    if (ci === index) out.push(f.raw);
    else out.push(sseFrame(f.event || null, { ...data, index: ci }));
  }

  private accumulate(index: number, delta: Json): void {
    const block = this.blocks.get(index);
    if (!block) return;
    switch (delta.type) {
      case 'text_delta':
        block.text = String(block.text ?? '') + String(delta.text ?? '');
        break;
      case 'thinking_delta':
        block.thinking = String(block.thinking ?? '') + String(delta.thinking ?? '');
        break;
      case 'signature_delta':
        block.signature = delta.signature;
        break;
      case 'input_json_delta':
        this.partialJson.set(index, (this.partialJson.get(index) ?? '') + String(delta.partial_json ?? ''));
        break;
      case 'citations_delta':
        block.citations = [...asArr(block.citations), delta.citation];
        break;
      default:
        break;
    }
  }

  private endRound(): RoundSummary {
    const usage = pickUsage(this.roundUsage);
    sumInto(this.usage, usage);
    return { complete: this.complete, errored: this.errored, retrieveCalls: this.calls, otherCalls: this.others, usage: Object.keys(usage).length ? usage : null };
  }

  endStreamRound(): RoundSummary {
    return this.endRound();
  }

  finishStream(out: Out, ctx: FinishContext): void {
    if (ctx.rounds === 0 && !ctx.dropLast) {
      for (const b of this.tail) out.push(b);
      return;
    }
    const stop = ctx.dropLast && this.others === 0 ? this.dropStopReason : this.stopReason;
    out.push(sseFrame('message_delta', { type: 'message_delta', delta: { stop_reason: stop, stop_sequence: this.stopSequence }, usage: this.usage }));
    out.push(sseFrame('message_stop', { type: 'message_stop' }));
  }

  jsonRound(json: unknown): RoundSummary {
    const msg = isObj(json) ? json : {};
    this.first ??= msg;
    this.last = msg;
    this.roundContent = asArr(msg.content);
    for (const b of this.roundContent) {
      if (isObj(b) && b.type === 'tool_use' && b.name === RETRIEVE_TOOL_NAME) this.calls.push({ id: String(b.id ?? ''), args: b.input ?? {} });
      else {
        if (isObj(b) && b.type === 'tool_use') this.others++;
        this.content.push(b);
      }
    }
    this.complete = isObj(json) && msg.type === 'message';
    this.stopReason = msg.stop_reason ?? null;
    this.stopSequence = msg.stop_sequence ?? null;
    this.mergeUsage(msg.usage);
    return this.endRound();
  }

  finalJson(ctx: FinishContext): unknown {
    if (ctx.rounds === 0 && !ctx.dropLast) return null;
    const last = this.last ?? {};
    const stop = ctx.dropLast && this.others === 0 ? this.dropStopReason : this.stopReason;
    const usage = isObj(last.usage) ? { ...last.usage, ...this.usage } : this.usage;
    return { ...last, id: this.first?.id ?? last.id, content: this.content, stop_reason: stop, stop_sequence: this.stopSequence, usage };
  }

  followUp(body: Buffer, answers: readonly ToolAnswer[]): Buffer {
    const content = this.blocks.size > 0 ? [...this.blocks.entries()].sort((a, b) => a[0] - b[0]).map(([, b]) => b) : this.roundContent;
    const assistant = { role: 'assistant', content };
    const user = {
      role: 'user',
      content: answers.map((a) => ({ type: 'tool_result', tool_use_id: a.id, content: a.text, ...(a.isError ? { is_error: true } : {}) })),
    };
    return appendMessages(body, 'messages', [assistant, user]);
  }
}

function pickUsage(u: Json): Json {
  const out: Json = {};
  for (const k of USAGE_KEYS) if (typeof u[k] === 'number') out[k] = u[k];
  if (isObj(u.cache_creation)) out.cache_creation = u.cache_creation;
  return out;
}

/** Appends items to a top-level array of the body (`messages`, `input`), keeping every other byte. */
export function appendMessages(body: Buffer, key: string, items: readonly unknown[]): Buffer {
  const top = topLevel(body);
  const r = top?.keys.get(key);
  if (!top || !r || body[r.s] !== 0x5b) throw new Error(`request body has no ${key} array`);
  return applySplices(body, [appendToArray(body, r, items.map((i) => Buffer.from(JSON.stringify(i))))]);
}
