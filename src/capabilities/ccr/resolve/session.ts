/**
 * Proxy-side resolution of `headroom_retrieve` calls for one client request: the work of the
 * `ccr` link of the forwarding chain. Each upstream call (round) goes down the rest of the
 * chain (`next`: retries before the first byte, the upstream call with its timing and
 * client-abort handling); what the client is to see goes up through `out` (usage is observed
 * there, by the `observe` link). Each round's response is handed to the API's codec:
 *
 * - streaming: frames are forwarded as they arrive (text is never held back); retrieve calls
 *   and the closing frames are held; when the round ends with only retrieve calls, they are
 *   answered from the store and the next round's frames continue the same client stream;
 * - non-streaming: each round's JSON is read whole and the final body is written once.
 *
 * A round that also calls the client's own tools, or the last allowed round, ends the answer:
 * its retrieve calls are removed from what the client sees (`dropped`). The client's request
 * is never switched to non-streaming, and follow-up bodies are built from the forwarded bytes
 * plus the new turns (never compressed again).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { decodeResponseBody } from '../../../providers/content-encoding.js';
import type { Logger } from '../../../core/logger.js';
import type { CallFailure, CallHandler, Dispatch, Exchange, FlowControl } from '../../proxy/api.js';
import { mergeAnthropicUsage, newUsageState, toUsage } from '../../../providers/anthropic.js';
import { chatUsage, responsesUsage } from '../../../providers/openai.js';
import { errorTypeForUpstreamStatus, type TokenUsage } from '../../../core/outcome.js';
import { SseFrames } from '../../../providers/sse.js';
import type { CcrSummary } from '../api.js';
import type { CcrStore } from '../../../originals/store.js';
import { answerRetrieve, parseRetrieveArgs } from '../tool.js';
import { AnthropicCodec } from './anthropic.js';
import { ChatCodec } from './chat.js';
import { ResponsesCodec } from './responses.js';
import { type Codec, type Json, type RetrieveCall, safeJson, type ToolAnswer } from './types.js';

export interface ResolveOptions {
  store: CcrStore;
  maxRounds: number;
  summary: CcrSummary;
}

export function codecFor(api: string): Codec | null {
  if (api === 'messages') return new AnthropicCodec();
  if (api === 'chat') return new ChatCodec();
  if (api === 'responses') return new ResponsesCodec();
  return null;
}

interface RoundResult {
  /** Round 0 was answered with an error status or failed before any response: relayed to the client as is. */
  relayed: boolean;
  /** A response arrived (its headers). */
  answered: boolean;
  /** The client went away during the round. */
  aborted: boolean;
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer[];
  failure: CallFailure | null;
}

/** A failure of our own making (not a transport error): what the client is told. */
const failure = (status: number, type: CallFailure['type'], message: string, midBody: boolean): CallFailure => ({ kind: 'other', midBody, status, type, message });

const MAX_HASHES = 20;

/** A round's usage object, normalised (zero when the round reported none). */
function roundUsageOf(api: string, raw: Json | null): TokenUsage {
  let u: TokenUsage | null = null;
  if (raw && api === 'messages') {
    const state = newUsageState();
    mergeAnthropicUsage(state, raw);
    u = toUsage(state, 'json');
  } else if (raw && api === 'chat') u = chatUsage(raw, 'json');
  else if (raw) u = responsesUsage(raw, 'json');
  return u ?? { input: 0, output: 0, uncached: 0, cacheRead: 0, cacheWrite: 0, cacheWrite5m: 0, cacheWrite1h: 0, reasoning: 0, source: 'json' };
}

/** Keeps each round's usage on the summary (the savings figures subtract the follow-up rounds). */
function noteRound(summary: CcrSummary, api: string, raw: Json | null): void {
  (summary.roundUsage ??= []).push(roundUsageOf(api, raw));
}

/** Loads the originals the calls ask for from a shared store (another instance may hold them). */
async function prefetchCalls(calls: readonly RetrieveCall[], opts: ResolveOptions): Promise<void> {
  if (!opts.store.prefetch) return;
  await opts.store.prefetch(calls.map((c) => parseRetrieveArgs(c.args).hash));
}

function answerCalls(calls: readonly RetrieveCall[], opts: ResolveOptions, log: Logger, round: number): ToolAnswer[] {
  const s = opts.summary;
  return calls.map((c) => {
    const a = answerRetrieve(opts.store, parseRetrieveArgs(c.args), 'proxy');
    s.retrievals++;
    if (a.hit) {
      s.hits++;
      s.tokensRetrieved += a.tokens;
    } else s.misses++;
    const h = a.lookup.status === 'available' ? a.lookup.entry.hash : a.lookup.hash;
    if (s.hashes.length < MAX_HASHES) s.hashes.push(h);
    log.info({ hash: h, status: a.lookup.status, tokens: a.tokens, query: a.search !== null, round }, a.hit ? 'CCR retrieval answered by the proxy' : 'CCR retrieval missed');
    return { id: c.id, text: a.text, isError: !a.hit };
  });
}

/**
 * Runs the client's call with resolution: rounds go down `next`, the client's one response goes
 * up `out`. Resolves when the response is complete or abandoned.
 */
export async function resolveCall(ex: Exchange, next: Dispatch, out: CallHandler, codec: Codec, opts: ResolveOptions, log: Logger): Promise<void> {
  const stream = ex.info.stream;
  const summary = opts.summary;
  let headersSent = false;
  let body: Buffer | undefined;

  const write = (chunks: (Buffer | string)[], control: FlowControl): void => {
    for (const c of chunks) {
      const b = typeof c === 'string' ? Buffer.from(c) : c;
      if (b.length > 0) out.onData(b, control);
    }
  };
  const endStream = (f: CallFailure | null) => {
    if (f) out.onError({ ...f, midBody: true });
    else out.onEnd();
  };
  const sendFinal = (status: number, headers: IncomingHttpHeaders, bytes: Buffer) => {
    out.onHeaders(status, { ...headers, 'content-length': String(bytes.length) }, NO_FLOW);
    out.onData(bytes, NO_FLOW);
    out.onEnd();
  };

  for (let round = 0; ; round++) {
    codec.startRound(round);
    const frames = new SseFrames();
    const r: RoundResult = { relayed: false, answered: false, aborted: false, status: 0, headers: {}, body: [], failure: null };
    let passthrough = false;
    const frameOut = (control: FlowControl) => (bytes: Buffer | string) => write([bytes], control);
    await new Promise<void>((resolve) => {
      const handler: CallHandler = {
        onHeaders(status, headers, control) {
          if (round === 0 && status >= 300) {
            // the client's own call answered with an error: relayed as is (nothing to resolve)
            r.relayed = true;
            out.onHeaders(status, headers, control);
            return;
          }
          r.answered = true;
          r.status = status;
          r.headers = headers;
          if (!stream || status >= 300) return;
          const enc = typeof headers['content-encoding'] === 'string' ? headers['content-encoding'].trim().toLowerCase() : '';
          const ct = headers['content-type'];
          // an encoded body, or not an event stream at all: relayed as is (nothing to resolve)
          passthrough = (enc !== '' && enc !== 'identity') || !(typeof ct === 'string' && ct.startsWith('text/event-stream'));
          if (round === 0) {
            const h = { ...headers };
            delete h['content-length'];
            out.onHeaders(status, h, control);
            headersSent = true;
          }
        },
        onData(chunk, control) {
          if (r.relayed) out.onData(chunk, control);
          else if (!stream || r.status >= 300) r.body.push(chunk);
          else if (passthrough) out.onData(chunk, control);
          else {
            const push = frameOut(control);
            frames.push(chunk, (f) => codec.frame(f, { push }));
          }
        },
        onEnd() {
          if (r.relayed) out.onEnd();
          resolve();
        },
        onError(f) {
          if (f.kind === 'aborted') r.aborted = true;
          else if (r.relayed || (round === 0 && !r.answered)) {
            // round 0 failed before any response (after retries), or a relayed error body broke
            r.relayed = true;
            out.onError(f);
          } else r.failure = f;
          resolve();
        },
      };
      next(body ? { ex, body, round } : { ex, round }, handler);
    });
    if (r.aborted || ex.closed || r.relayed) return;
    if (!r.answered) {
      // a follow-up call failed before any response (after retries)
      if (r.failure) {
        if (stream) endStream(r.failure);
        else out.onError({ ...r.failure, midBody: false });
      }
      return;
    }

    if (r.status >= 300) {
      // a follow-up call was refused (after retries): the client sees that error
      const raw = Buffer.concat(r.body);
      const type = errorTypeForUpstreamStatus(r.status) ?? 'upstream_client_error';
      const message = `upstream returned HTTP ${r.status} to a headroom_retrieve follow-up: ${raw.toString('utf8', 0, 300)}`;
      if (stream) endStream(failure(r.status, type, message, true));
      else {
        sendFinal(r.status, r.headers, raw);
        ex.fail(type, message);
      }
      return;
    }

    if (stream) {
      if (passthrough) {
        endStream(r.failure);
        return;
      }
      frames.end((f) => codec.frame(f, { push: frameOut(NO_FLOW) }));
      if (r.failure) {
        endStream(r.failure);
        return;
      }
      const s = codec.endStreamRound();
      noteRound(summary, ex.route.api, s.usage);
      if (s.errored) {
        endStream(null);
        return;
      }
      if (!s.complete) {
        endStream(failure(502, 'upstream_stream', 'upstream stream ended before its final event', true));
        return;
      }
      if (s.retrieveCalls.length > 0 && s.otherCalls === 0 && round < opts.maxRounds) {
        await prefetchCalls(s.retrieveCalls, opts);
        body = codec.followUp(body ?? ex.forwardBody, answerCalls(s.retrieveCalls, opts, log, round));
        summary.rounds++;
        continue;
      }
      summary.dropped += s.retrieveCalls.length;
      const tail: (Buffer | string)[] = [];
      codec.finishStream({ push: (b) => void tail.push(b) }, { rounds: round, dropLast: s.retrieveCalls.length > 0 });
      write(tail, NO_FLOW);
      endStream(null);
      return;
    }

    // non-streaming
    if (r.failure) {
      if (!headersSent) out.onError({ ...r.failure, midBody: false });
      return;
    }
    let raw: Buffer = Buffer.concat(r.body);
    let json: unknown = null;
    try {
      raw = decodeResponseBody(raw, r.headers['content-encoding']);
      json = safeJson(raw.toString('utf8'));
    } catch {
      json = null;
    }
    if (json === null) {
      if (round === 0) {
        sendFinal(r.status, r.headers, Buffer.concat(r.body));
        return;
      }
      out.onError(failure(502, 'upstream_stream', 'upstream returned an unreadable body to a headroom_retrieve follow-up', false));
      return;
    }
    const s = codec.jsonRound(json);
    noteRound(summary, ex.route.api, s.usage);
    if (s.retrieveCalls.length > 0 && s.otherCalls === 0 && round < opts.maxRounds) {
      await prefetchCalls(s.retrieveCalls, opts);
      body = codec.followUp(body ?? ex.forwardBody, answerCalls(s.retrieveCalls, opts, log, round));
      summary.rounds++;
      continue;
    }
    summary.dropped += s.retrieveCalls.length;
    const final = codec.finalJson({ rounds: round, dropLast: s.retrieveCalls.length > 0 });
    if (final === null) sendFinal(r.status, r.headers, Buffer.concat(r.body));
    else {
      const h = { ...r.headers };
      delete h['content-encoding'];
      sendFinal(r.status, h, Buffer.from(JSON.stringify(final)));
    }
    return;
  }
}

/** Bytes written after the call that produced them ended: nothing to pause. */
const NO_FLOW: FlowControl = { pause() {}, resume() {} };
