/**
 * OpenAI Chat Completions resolution (one choice). Streaming: content deltas of every round
 * reach the client as they arrive; `headroom_retrieve` tool-call deltas are held back and the
 * client's own tool calls are renumbered; chunks of later rounds carry round 0's id; one
 * closing chunk (finish reason), one usage chunk (summed, when the stream reports usage) and
 * one `[DONE]`. When nothing was held back, round 0's closing chunks pass through verbatim.
 */
import { RETRIEVE_TOOL_NAME } from '../../../compress/markers.js';
import { appendMessages } from './anthropic.js';
import type { SseFrame } from '../../../providers/sse.js';
import { asArr, type Codec, type FinishContext, isObj, type Json, type Out, type RetrieveCall, type RoundSummary, safeJson, sseFrame, sumInto, type ToolAnswer } from './types.js';

interface CallState {
  id: string;
  name: string;
  args: string;
  /** Client-visible tool-call index, null when held back. */
  client: number | null;
}

export class ChatCodec implements Codec {
  readonly dropStopReason = 'stop';
  private round = 0;
  private readonly usage: Json = {};
  private sawUsage = false;
  private roundUsage: Json | null = null;
  private base: Json | null = null;
  private nextCall = 0;
  private calls = new Map<number, CallState>();
  private text = '';
  private others = 0;
  private complete = false;
  private errored = false;
  private finish: unknown = null;
  private tail: Buffer[] = [];
  private tailExact = true;
  // non-streaming
  private first: Json | null = null;
  private last: Json | null = null;
  private content = '';
  private hadContent = false;
  private clientCalls: unknown[] = [];
  private roundMessage: Json | null = null;

  startRound(round: number): void {
    this.round = round;
    this.calls = new Map();
    this.nextCall = 0;
    this.text = '';
    this.others = 0;
    this.complete = false;
    this.errored = false;
    this.roundUsage = null;
    this.clientCalls = [];
  }

  frame(f: SseFrame, out: Out): void {
    const data = f.data.trim();
    if (data === '[DONE]') {
      this.complete = true;
      this.tail.push(f.raw);
      return;
    }
    const chunk = safeJson(data);
    if (!isObj(chunk)) {
      out.push(f.raw);
      return;
    }
    if (isObj(chunk.error)) {
      this.errored = true;
      out.push(f.raw);
      return;
    }
    this.base ??= { id: chunk.id, object: chunk.object, created: chunk.created, model: chunk.model, ...(chunk.system_fingerprint ? { system_fingerprint: chunk.system_fingerprint } : {}) };
    let changed = this.round > 0;
    if (isObj(chunk.usage)) {
      this.roundUsage = chunk.usage;
      this.sawUsage = true;
    }
    const choices = asArr(chunk.choices);
    if (choices.length === 0) {
      // the usage chunk
      this.tail.push(f.raw);
      return;
    }
    const newChoices: Json[] = [];
    let holdWhole = false;
    for (const c of choices) {
      if (!isObj(c)) continue;
      const choice: Json = { ...c };
      const delta: Json = isObj(c.delta) ? { ...c.delta } : {};
      if (typeof delta.content === 'string') this.text += delta.content;
      const tcs = asArr(delta.tool_calls);
      if (tcs.length) {
        const kept: Json[] = [];
        for (const tc of tcs) {
          if (!isObj(tc)) continue;
          const idx = Number(tc.index ?? 0);
          const fn = isObj(tc.function) ? tc.function : {};
          let st = this.calls.get(idx);
          if (!st) {
            const name = String(fn.name ?? '');
            const held = name === RETRIEVE_TOOL_NAME;
            if (!held) this.others++;
            st = { id: String(tc.id ?? ''), name, args: '', client: held ? null : this.nextCall++ };
            this.calls.set(idx, st);
          }
          if (typeof fn.arguments === 'string') st.args += fn.arguments;
          if (st.client === null) {
            changed = true;
            continue;
          }
          if (st.client !== idx) changed = true;
          kept.push({ ...tc, index: st.client });
        }
        if (kept.length) delta.tool_calls = kept;
        else delete delta.tool_calls;
      }
      if (c.finish_reason !== null && c.finish_reason !== undefined) {
        this.finish = c.finish_reason;
        const rest = Object.keys(delta).filter((k) => k !== 'role' && delta[k] !== null && delta[k] !== '');
        if (rest.length === 0 && choices.length === 1 && !isObj(chunk.usage)) {
          holdWhole = true;
          break;
        }
        // a closing chunk that also carries content: forward the content, close later
        this.tailExact = false;
        choice.finish_reason = null;
        changed = true;
      }
      choice.delta = delta;
      if (!('tool_calls' in delta) && asArr((c.delta as Json | undefined)?.tool_calls).length) {
        if (Object.keys(delta).length === 0) continue; // only held calls: nothing to show
      }
      newChoices.push(choice);
    }
    if (holdWhole) {
      this.tail.push(f.raw);
      return;
    }
    if (isObj(chunk.usage)) {
      this.tailExact = false;
      changed = true;
    }
    if (!changed) {
      out.push(f.raw);
      return;
    }
    if (newChoices.length === 0) return;
    const { usage: _u, ...rest } = chunk;
    out.push(sseFrame(null, { ...rest, id: this.base.id, created: this.base.created, choices: newChoices }));
  }

  private roundCalls(): { retrieve: RetrieveCall[]; all: CallState[] } {
    const all = [...this.calls.entries()].sort((a, b) => a[0] - b[0]).map(([, c]) => c);
    return { retrieve: all.filter((c) => c.client === null).map((c) => ({ id: c.id, args: c.args })), all };
  }

  private endRound(retrieve: RetrieveCall[]): RoundSummary {
    if (this.roundUsage) sumInto(this.usage, this.roundUsage);
    return { complete: this.complete, errored: this.errored, retrieveCalls: retrieve, otherCalls: this.others, usage: this.roundUsage };
  }

  endStreamRound(): RoundSummary {
    return this.endRound(this.roundCalls().retrieve);
  }

  finishStream(out: Out, ctx: FinishContext): void {
    if (ctx.rounds === 0 && !ctx.dropLast && this.tailExact) {
      for (const b of this.tail) out.push(b);
      return;
    }
    const base = this.base ?? {};
    const finish = ctx.dropLast && this.others === 0 ? this.dropStopReason : this.finish;
    out.push(sseFrame(null, { ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: finish }] }));
    if (this.sawUsage) out.push(sseFrame(null, { ...base, choices: [], usage: this.usage }));
    out.push(sseFrame(null, '[DONE]'));
  }

  jsonRound(json: unknown): RoundSummary {
    const r = isObj(json) ? json : {};
    this.first ??= r;
    this.last = r;
    const choice = asArr(r.choices)[0];
    const msg = isObj(choice) && isObj(choice.message) ? choice.message : {};
    this.roundMessage = msg;
    this.finish = isObj(choice) ? choice.finish_reason : null;
    if (typeof msg.content === 'string') {
      this.content += msg.content;
      this.hadContent = true;
    }
    const retrieve: RetrieveCall[] = [];
    for (const tc of asArr(msg.tool_calls)) {
      const fn = isObj(tc) && isObj(tc.function) ? tc.function : {};
      if (fn.name === RETRIEVE_TOOL_NAME) retrieve.push({ id: String((tc as Json).id ?? ''), args: fn.arguments ?? '' });
      else {
        this.others++;
        this.clientCalls.push(tc);
      }
    }
    this.complete = isObj(choice);
    this.roundUsage = isObj(r.usage) ? r.usage : null;
    return this.endRound(retrieve);
  }

  finalJson(ctx: FinishContext): unknown {
    if (ctx.rounds === 0 && !ctx.dropLast) return null;
    const last = this.last ?? {};
    const choice = isObj(asArr(last.choices)[0]) ? (asArr(last.choices)[0] as Json) : { index: 0 };
    const message: Json = { ...(this.roundMessage ?? { role: 'assistant' }), content: this.hadContent ? this.content : null };
    if (this.clientCalls.length) message.tool_calls = this.clientCalls;
    else delete message.tool_calls;
    const finish = ctx.dropLast && this.others === 0 ? this.dropStopReason : this.finish;
    const usage = isObj(last.usage) ? { ...last.usage, ...this.usage } : undefined;
    return { ...last, id: this.first?.id ?? last.id, choices: [{ ...choice, message, finish_reason: finish }], ...(usage ? { usage } : {}) };
  }

  followUp(body: Buffer, answers: readonly ToolAnswer[]): Buffer {
    let assistant: Json;
    if (this.roundMessage && this.calls.size === 0) {
      const m = this.roundMessage;
      assistant = { role: 'assistant', content: m.content ?? null, tool_calls: m.tool_calls };
    } else {
      const all = this.roundCalls().all;
      assistant = {
        role: 'assistant',
        content: this.text || null,
        tool_calls: all.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.args } })),
      };
    }
    const tools = answers.map((a) => ({ role: 'tool', tool_call_id: a.id, content: a.text }));
    return appendMessages(body, 'messages', [assistant, ...tools]);
  }
}
