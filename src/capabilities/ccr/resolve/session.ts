/**
 * Proxy-side resolution of `headroom_retrieve` calls for one client request. Each upstream
 * call (round) goes through the normal forwarder (retries before the first byte, timing,
 * client-abort handling) with a tap that hands its response to the API's codec:
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
import type { OutgoingHttpHeaders } from 'node:http';
import { decodeResponseBody } from '../../../providers/content-encoding.js';
import type { Funnel } from '../../../core/funnel.js';
import type { Logger } from '../../../core/logger.js';
import type { Exchange, ProxyService, RelayTap } from '../../proxy/api.js';
import { mergeAnthropicUsage, newUsageState, toUsage } from '../../../providers/anthropic.js';
import { chatUsage, responsesUsage } from '../../../providers/openai.js';
import type { StreamObserver } from '../../../providers/types.js';
import { type ErrorType, errorTypeForUpstreamStatus, type TokenUsage } from '../../../core/outcome.js';
import type { CcrSummary } from '../api.js';
import type { CcrStore } from '../../../originals/store.js';
import { answerRetrieve, parseRetrieveArgs } from '../tool.js';
import { AnthropicCodec } from './anthropic.js';
import { ChatCodec } from './chat.js';
import { FrameSplitter } from './frames.js';
import { ResponsesCodec } from './responses.js';
import { type Codec, type Json, type RetrieveCall, safeJson, type ToolAnswer } from './types.js';

/** What resolution runs on: the proxy's forwarder (each round is a plain forward with a tap), the app's funnel and log. */
export interface ResolveHost extends Pick<ProxyService, 'forward' | 'runResponseStages'> {
  readonly log: Logger;
  readonly funnel: Funnel;
}

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

type Failure = { status: number; type: ErrorType; message: string };

interface RoundResult {
  /** The tap was used (false: round 0 answered with an error status, relayed as is). */
  tapped: boolean;
  status: number;
  headers: OutgoingHttpHeaders;
  encoding: unknown;
  body: Buffer[];
  failure: Failure | null;
}

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

function answerCalls(calls: readonly RetrieveCall[], opts: ResolveOptions, host: ResolveHost, round: number): ToolAnswer[] {
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
    host.log.info({ hash: h, status: a.lookup.status, tokens: a.tokens, query: a.search !== null, round }, a.hit ? 'CCR retrieval answered by the proxy' : 'CCR retrieval missed');
    return { id: c.id, text: a.text, isError: !a.hit };
  });
}

/** Runs the client's request with resolution; resolves when the client's response is complete or abandoned. */
export async function resolveExchange(ex: Exchange, host: ResolveHost, codec: Codec, opts: ResolveOptions): Promise<void> {
  const stream = ex.info.stream;
  const adapter = ex.route.adapter;
  let observer: StreamObserver | null = null;
  let headersSent = false;
  let body: Buffer | undefined;
  const summary = opts.summary;

  const write = (chunks: (Buffer | string)[]): boolean => {
    let ok = true;
    for (const c of chunks) {
      const b = typeof c === 'string' ? Buffer.from(c) : c;
      if (b.length === 0) continue;
      if (ex.ttfbMs === null) ex.ttfbMs = ex.elapsed();
      ex.bytesOut += b.length;
      observer?.push(b);
      ok = ex.res.write(b) && ok;
    }
    return ok;
  };
  const endStream = (failure: Failure | null) => {
    if (failure) {
      ex.fail(failure.type, failure.message);
      write([ex.route.errors.streamErrorFrame(failure.type, failure.message)]);
    }
    if (observer) {
      ex.response = observer.end();
      if (!failure && ex.response.streamError && !ex.errorType) ex.fail('upstream_stream', `upstream stream error: ${ex.response.streamError}`);
    }
    ex.res.end();
  };

  for (let round = 0; ; round++) {
    codec.startRound(round);
    const splitter = new FrameSplitter();
    const r: RoundResult = { tapped: false, status: 0, headers: {}, encoding: undefined, body: [], failure: null };
    let passthrough = false;
    const tap: RelayTap = {
      start(status, headers, encoding) {
        r.tapped = true;
        r.status = status;
        r.headers = headers;
        r.encoding = encoding;
        const enc = typeof encoding === 'string' ? encoding.trim().toLowerCase() : '';
        if (!stream || status >= 300) return;
        const ct = headers['content-type'];
        // an encoded body, or not an event stream at all: relayed as is (nothing to resolve)
        passthrough = (enc !== '' && enc !== 'identity') || !(typeof ct === 'string' && ct.startsWith('text/event-stream'));
        if (round === 0) {
          ex.status = status;
          const h = { ...headers };
          delete h['content-length'];
          ex.res.writeHead(status, h);
          ex.sse = !passthrough || (typeof h['content-type'] === 'string' && h['content-type'].startsWith('text/event-stream'));
          headersSent = true;
          if (adapter) {
            observer = adapter.streamObserver((facts) =>
              host.funnel.progress({
                requestId: ex.id, model: facts.model, inputTokens: facts.usage?.input ?? 0, outputTokens: facts.usage?.output ?? 0,
                cacheReadTokens: facts.usage?.cacheRead ?? 0, cacheWriteTokens: facts.usage?.cacheWrite ?? 0,
                toolCalls: facts.toolCalls, bytesOut: ex.bytesOut, ttfbMs: ex.ttfbMs,
              }),
            );
          }
        }
      },
      data(chunk) {
        if (!stream || r.status >= 300) {
          r.body.push(chunk);
          return true;
        }
        if (passthrough) return write([chunk]);
        const out: (Buffer | string)[] = [];
        splitter.push(chunk, (f) => codec.frame(f, { push: (b) => void out.push(b) }));
        return write(out);
      },
      end() {},
      error(failure) {
        r.failure = failure;
      },
    };
    await host.forward(ex, { ...(body ? { body } : {}), tap, round });
    if (ex.closed) return;
    if (!r.tapped) {
      // round 0 was answered with an error or failed before any response: relayed as is
      if (round > 0 && r.failure) {
        if (stream) endStream(r.failure);
        else ex.replyError(r.failure.status, r.failure.type, r.failure.message);
      }
      return;
    }

    if (r.status >= 300) {
      // a follow-up call was refused (after retries): the client sees that error
      const raw = Buffer.concat(r.body);
      const type = errorTypeForUpstreamStatus(r.status) ?? 'upstream_client_error';
      const message = `upstream returned HTTP ${r.status} to a headroom_retrieve follow-up: ${raw.toString('utf8', 0, 300)}`;
      if (stream) endStream({ status: r.status, type, message });
      else {
        ex.fail(type, message);
        ex.status = r.status;
        const h = { ...r.headers, 'content-length': raw.length };
        ex.res.writeHead(r.status, h);
        ex.bytesOut += raw.length;
        ex.res.end(raw);
      }
      return;
    }

    if (stream) {
      if (passthrough) {
        endStream(r.failure);
        return;
      }
      const out: (Buffer | string)[] = [];
      splitter.end((f) => codec.frame(f, { push: (b) => void out.push(b) }));
      write(out);
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
        endStream({ status: 502, type: 'upstream_stream', message: 'upstream stream ended before its final event' });
        return;
      }
      if (s.retrieveCalls.length > 0 && s.otherCalls === 0 && round < opts.maxRounds) {
        body = codec.followUp(body ?? ex.forwardBody, answerCalls(s.retrieveCalls, opts, host, round));
        summary.rounds++;
        continue;
      }
      summary.dropped += s.retrieveCalls.length;
      const tail: (Buffer | string)[] = [];
      codec.finishStream({ push: (b) => void tail.push(b) }, { rounds: round, dropLast: s.retrieveCalls.length > 0 });
      write(tail);
      endStream(null);
      return;
    }

    // non-streaming
    if (r.failure) {
      if (!headersSent) ex.replyError(r.failure.status, r.failure.type, r.failure.message);
      return;
    }
    let raw: Buffer = Buffer.concat(r.body);
    let json: unknown = null;
    try {
      raw = decodeResponseBody(raw, r.encoding);
      json = safeJson(raw.toString('utf8'));
    } catch {
      json = null;
    }
    if (json === null) {
      if (round === 0) {
        sendFinal(ex, host, r, Buffer.concat(r.body), null);
        return;
      }
      ex.replyError(502, 'upstream_stream', 'upstream returned an unreadable body to a headroom_retrieve follow-up');
      return;
    }
    const s = codec.jsonRound(json);
    noteRound(summary, ex.route.api, s.usage);
    if (s.retrieveCalls.length > 0 && s.otherCalls === 0 && round < opts.maxRounds) {
      body = codec.followUp(body ?? ex.forwardBody, answerCalls(s.retrieveCalls, opts, host, round));
      summary.rounds++;
      continue;
    }
    summary.dropped += s.retrieveCalls.length;
    const final = codec.finalJson({ rounds: round, dropLast: s.retrieveCalls.length > 0 });
    if (final === null) sendFinal(ex, host, r, Buffer.concat(r.body), json);
    else {
      const h = { ...r.headers };
      delete h['content-encoding'];
      sendFinal(ex, host, { ...r, headers: h }, Buffer.from(JSON.stringify(final)), final);
    }
    return;
  }
}

function sendFinal(ex: Exchange, host: ResolveHost, r: RoundResult, bytes: Buffer, json: unknown): void {
  const headers = { ...r.headers, 'content-length': bytes.length };
  ex.status = r.status;
  if (ex.ttfbMs === null) ex.ttfbMs = ex.elapsed();
  ex.res.writeHead(r.status, headers);
  ex.bytesOut += bytes.length;
  ex.res.end(bytes);
  const adapter = ex.route.adapter;
  if (adapter && json !== null) {
    ex.response = adapter.factsFromJson(json);
    if (ex.response.streamError && !ex.errorType) ex.fail('upstream_stream', ex.response.streamError);
    let plain: Buffer<ArrayBufferLike> = bytes;
    try {
      plain = decodeResponseBody(bytes, headers['content-encoding']);
    } catch {
      return;
    }
    host.runResponseStages(ex, { status: r.status, headers, body: plain });
  }
}
