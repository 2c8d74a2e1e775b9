/**
 * OpenAI Responses resolution, non-streaming: `function_call` items calling
 * `headroom_retrieve` are answered with `function_call_output` items and the request is sent
 * again with the round's output items appended to `input`. The client receives the last
 * response (its id, so `previous_response_id` chaining continues from a state that includes
 * the retrieval) with the output items of every round except the retrieve calls, and usage
 * summed over the rounds.
 */
import { RETRIEVE_TOOL_NAME } from '../../compress/markers.js';
import { appendToArray, applySplices, topLevel } from '../body.js';
import type { SseFrame } from './frames.js';
import { asArr, type Codec, type FinishContext, isObj, type Json, type Out, type RetrieveCall, type RoundSummary, sumInto, type ToolAnswer } from './types.js';

export class ResponsesCodec implements Codec {
  readonly dropStopReason = 'completed';
  private readonly usage: Json = {};
  private last: Json | null = null;
  private output: unknown[] = [];
  private roundOutput: unknown[] = [];
  private others = 0;

  startRound(_round: number): void {
    this.others = 0;
    this.roundOutput = [];
  }

  frame(f: SseFrame, out: Out): void {
    out.push(f.raw); // streaming Responses are not resolved (see docs/ccr.md)
  }

  endStreamRound(): RoundSummary {
    return { complete: true, errored: false, retrieveCalls: [], otherCalls: 0 };
  }

  finishStream(_out: Out, _ctx: FinishContext): void {}

  jsonRound(json: unknown): RoundSummary {
    const r = isObj(json) ? json : {};
    this.last = r;
    this.roundOutput = asArr(r.output);
    const calls: RetrieveCall[] = [];
    for (const item of this.roundOutput) {
      if (isObj(item) && item.type === 'function_call' && item.name === RETRIEVE_TOOL_NAME) {
        calls.push({ id: String(item.call_id ?? ''), args: item.arguments ?? '' });
        continue;
      }
      if (isObj(item) && typeof item.type === 'string' && item.type.endsWith('_call') && item.type !== 'web_search_call' && item.type !== 'file_search_call') this.others++;
      this.output.push(item);
    }
    if (isObj(r.usage)) sumInto(this.usage, r.usage);
    return { complete: typeof r.status === 'string', errored: r.status === 'failed', retrieveCalls: calls, otherCalls: this.others };
  }

  finalJson(ctx: FinishContext): unknown {
    if (ctx.rounds === 0 && !ctx.dropLast) return null;
    const last = this.last ?? {};
    return { ...last, output: this.output, ...(isObj(last.usage) ? { usage: { ...last.usage, ...this.usage } } : {}) };
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
