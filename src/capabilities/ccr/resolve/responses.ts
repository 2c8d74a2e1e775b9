/**
 * OpenAI Responses resolution. `function_call` items calling `headroom_retrieve` are answered
 * with `function_call_output` items and the request is sent again with the round's output
 * items appended to `input`. The client receives the output items of every round except the
 * retrieve calls, usage summed over the rounds, and the last response's id (so
 * `previous_response_id` chaining continues from a state that includes the retrieval).
 *
 * Streaming: one `response.created` / `response.in_progress` (round 0's); every event of an
 * output item that is not a retrieve call is forwarded as it arrives, with `output_index`
 * renumbered and `sequence_number` kept consecutive; one closing `response.completed` (or
 * `incomplete`) with the merged response. When nothing was held back, round 0's events pass
 * through byte for byte.
 */
import { RETRIEVE_TOOL_NAME } from '../../../compress/markers.js';
import { appendToArray, applySplices, topLevel } from '../../../providers/body.js';
import type { SseFrame } from '../../../providers/sse.js';
import { asArr, type Codec, type FinishContext, isObj, type Json, type Out, type RetrieveCall, type RoundSummary, safeJson, sseFrame, sumInto, type ToolAnswer } from './types.js';

const CLIENT_CALLS = new Set(['function_call', 'custom_tool_call', 'local_shell_call', 'shell_call', 'computer_call', 'apply_patch_call']);
const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed']);

const isRetrieveItem = (item: unknown): boolean => isObj(item) && item.type === 'function_call' && item.name === RETRIEVE_TOOL_NAME;

export class ResponsesCodec implements Codec {
  readonly dropStopReason = 'completed';
  private readonly usage: Json = {};
  /** The usage reported by this round's response. */
  private roundUsage: Json | null = null;
  private round = 0;
  private last: Json | null = null;
  private output: unknown[] = [];
  private roundOutput: unknown[] = [];
  private calls: RetrieveCall[] = [];
  private others = 0;
  private complete = false;
  private errored = false;
  // streaming
  private nextSeq = 0;
  private nextIndex = 0;
  private indexMap = new Map<number, number | null>();
  private terminalEvent = 'response.completed';
  private tail: Buffer[] = [];

  startRound(round: number): void {
    this.round = round;
    this.roundUsage = null;
    this.others = 0;
    this.roundOutput = [];
    this.calls = [];
    this.complete = false;
    this.errored = false;
    this.indexMap = new Map();
  }

  frame(f: SseFrame, out: Out): void {
    const data = safeJson(f.data);
    const type = isObj(data) && typeof data.type === 'string' ? data.type : f.event;
    if (!isObj(data) || !type) {
      out.push(f.raw);
      return;
    }
    if (type === 'response.created' || type === 'response.in_progress') {
      if (this.round === 0) this.emit(f, data, out, {});
      return;
    }
    if (TERMINAL.has(type)) {
      this.complete = true;
      this.errored = type === 'response.failed';
      this.terminalEvent = type;
      const resp = isObj(data.response) ? data.response : {};
      this.acceptResponse(resp);
      if (this.errored) this.emit(f, data, out, {});
      else this.tail.push(f.raw);
      return;
    }
    if (type === 'error') {
      this.errored = true;
      this.emit(f, data, out, {});
      return;
    }
    if (typeof data.output_index === 'number') {
      const index = data.output_index;
      if (type === 'response.output_item.added' && !this.indexMap.has(index)) {
        this.indexMap.set(index, isRetrieveItem(data.item) ? null : this.nextIndex++);
      }
      const ci = this.indexMap.get(index);
      if (ci === null) return; // a retrieve call: held back
      this.emit(f, data, out, ci === undefined || ci === index ? {} : { output_index: ci });
      return;
    }
    this.emit(f, data, out, {});
  }

  /** Forwards an event: verbatim when its sequence number and fields need no change. */
  private emit(f: SseFrame, data: Json, out: Out, patch: Json): void {
    const seq = this.nextSeq++;
    const sameSeq = typeof data.sequence_number !== 'number' || data.sequence_number === seq;
    if (sameSeq && Object.keys(patch).length === 0) {
      out.push(f.raw);
      return;
    }
    const next: Json = { ...data, ...patch };
    if (typeof data.sequence_number === 'number') next.sequence_number = seq;
    out.push(sseFrame(f.event || null, next));
  }

  private acceptResponse(r: Json): void {
    this.last = r;
    this.roundOutput = asArr(r.output);
    for (const item of this.roundOutput) {
      if (isRetrieveItem(item)) {
        const it = item as Json;
        this.calls.push({ id: String(it.call_id ?? ''), args: it.arguments ?? '' });
        continue;
      }
      if (isObj(item) && typeof item.type === 'string' && CLIENT_CALLS.has(item.type)) this.others++;
      this.output.push(item);
    }
    if (isObj(r.usage)) sumInto(this.usage, r.usage);
    this.roundUsage = isObj(r.usage) ? r.usage : null;
  }

  private summary(): RoundSummary {
    return { complete: this.complete, errored: this.errored, retrieveCalls: this.calls, otherCalls: this.others, usage: this.roundUsage };
  }

  endStreamRound(): RoundSummary {
    return this.summary();
  }

  private merged(): Json {
    const last = this.last ?? {};
    return { ...last, output: this.output, ...(isObj(last.usage) ? { usage: { ...last.usage, ...this.usage } } : {}) };
  }

  finishStream(out: Out, ctx: FinishContext): void {
    if (ctx.rounds === 0 && !ctx.dropLast) {
      for (const b of this.tail) out.push(b);
      return;
    }
    const type = this.terminalEvent;
    out.push(sseFrame(type, { type, sequence_number: this.nextSeq++, response: this.merged() }));
  }

  jsonRound(json: unknown): RoundSummary {
    const r = isObj(json) ? json : {};
    this.acceptResponse(r);
    this.complete = typeof r.status === 'string';
    this.errored = r.status === 'failed';
    return this.summary();
  }

  finalJson(ctx: FinishContext): unknown {
    if (ctx.rounds === 0 && !ctx.dropLast) return null;
    return this.merged();
  }

  followUp(body: Buffer, answers: readonly ToolAnswer[]): Buffer {
    const items = [
      ...this.roundOutput,
      ...answers.map((a) => ({ type: 'function_call_output', call_id: a.id, output: a.text })),
    ].map((i) => Buffer.from(JSON.stringify(i)));
    const top = topLevel(body);
    const r = top?.keys.get('input');
    if (!top || !r) throw new Error('request body has no input');
    if (body[r.s] === 0x5b) return applySplices(body, [appendToArray(body, r, items)]);
    // a string input becomes its one user message, followed by the new items
    const first = Buffer.from(JSON.stringify({ role: 'user', content: JSON.parse(body.toString('utf8', r.s, r.e)) as unknown }));
    return applySplices(body, [{ start: r.s, end: r.e, bytes: Buffer.concat([Buffer.from('['), first, ...items.flatMap((b) => [Buffer.from(','), b]), Buffer.from(']')]) }]);
  }
}
