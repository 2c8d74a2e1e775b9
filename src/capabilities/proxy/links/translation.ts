/**
 * The `translation` link (position 640: inside observe, CCR and retry, so compression, usage
 * reading, CCR rounds, budgets, the cache and every metric see the client's format; outside
 * the model link and signing). It acts only on a call whose `target` (set by routing) speaks
 * another format than the client: the body (as compression and CCR left it) is translated for
 * `target.model`, streams ask for usage, the headers are fixed for the target format
 * (`translation-target.ts`), and what comes back is turned into the client's format as it
 * arrives: a JSON answer, an event stream chunk by chunk, an error body (status kept). Every
 * other call passes untouched, bytes and all.
 *
 * `count_tokens` for a model on an OpenAI-format provider (which has no such endpoint) is
 * answered here with an estimate; a Responses API client routed to another format gets a 400
 * in its own shape.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { estimateTokens } from '../../../compress/index.js';
import { decodeResponseBody } from '../../../providers/content-encoding.js';
import { wireFormatOf } from '../../../routing/index.js';
import { TranslationError } from '../../../translate/index.js';
import { type CallHandler, type FlowControl, type ForwardCall, type ForwardLink, LINK_POSITION, NO_FLOW } from '../chain.js';
import type { Exchange } from '../exchange.js';
import { clientKey, translatedTarget } from '../translation-target.js';
import { type ResponseTranslation, type StreamTranslation, type Translator, clientFormatOf, translatorFor } from '../translators.js';

/** Largest upstream JSON or error body translated (a longer one is answered 502). */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

type Json = Record<string, unknown>;

interface Reply {
  status: number;
  body: Buffer;
  contentType: string;
  /** The client-format answer, when the body is one. */
  answer?: Json;
}

interface Prepared {
  call: ForwardCall;
  response: ResponseTranslation;
}

export function translationLink(): ForwardLink {
  // a retried call is the same object: translated once
  const prepared = new WeakMap<ForwardCall, Prepared>();
  return {
    name: 'translation',
    position: LINK_POSITION.translation,
    apis: ['messages', 'count_tokens', 'chat', 'responses'],
    wrap: (next) => (call, handler) => {
      const target = call.target;
      if (!target) return next(call, handler);
      const ex = call.ex;
      const client = clientFormatOf(ex.route.api);
      if (client === null || client === wireFormatOf(target.format)) {
        // a fallback attempt of the client's format after a translated one: the outcome tells of the last
        if (call.round === 0 && ex.rec.ext.translation) delete ex.rec.ext.translation;
        return next(call, handler);
      }
      let p = prepared.get(call);
      if (!p) {
        const t0 = performance.now();
        const made = prepare(call, client, handler);
        ex.rec.overheadMs += performance.now() - t0;
        if (!made) return;
        p = made;
        prepared.set(call, p);
      }
      next(p.call, new TranslatingHandler(ex, handler, p.response));
    },
  };
}

/** Translates the call (or answers it: count_tokens, refusals); null when it was answered. */
function prepare(call: ForwardCall, client: string, handler: CallHandler): Prepared | null {
  const ex = call.ex;
  const target = call.target!;
  const refuse = (message: string) => {
    handler.onError({ kind: 'other', midBody: false, status: 400, type: 'invalid_request', message });
    return null;
  };
  if (ex.route.api === 'count_tokens') {
    if (wireFormatOf(target.format) === 'openai') return answerCountTokens(call, handler);
    return refuse(`count_tokens cannot be answered for provider ${target.provider} (format ${target.format}).`);
  }
  // an Azure OpenAI target speaks OpenAI Chat on its own paths (the target's path is kept)
  const translator: Translator | undefined = translatorFor(client, wireFormatOf(target.format));
  if (!translator) {
    const what = client === 'openai-responses' ? 'The OpenAI Responses API' : `The ${client} format`;
    return refuse(
      `${what} cannot be translated to the ${target.format} format of provider ${target.provider} (model ${target.model}); ` +
        `call it through ${target.format === 'anthropic' ? '/v1/messages or /v1/chat/completions' : 'an API of its own format'} instead.`,
    );
  }
  let body: Json | null;
  try {
    body = call.body || ex.modified ? (JSON.parse((call.body ?? ex.forwardBody).toString('utf8')) as Json) : ex.json;
  } catch (err) {
    return refuse(`The request body is not valid JSON: ${(err as Error).message}`);
  }
  if (!body) return refuse('The request body must be a JSON object.');
  let translated;
  try {
    // answers name the model that produced them, as a routed call of the client's own format does
    // (and as the outcome is priced): the target's, not the one the client asked for
    translated = translator.request(body, target.model, target.model);
  } catch (err) {
    if (err instanceof TranslationError) {
      return refuse(`This request cannot be sent to provider ${target.provider} (${target.format} format): ${err.message}`);
    }
    throw err;
  }
  if (call.round === 0) ex.rec.ext.translation = { from: client, to: target.format, dropped: translated.dropped };
  const out: ForwardCall = {
    ...call,
    body: Buffer.from(JSON.stringify(translated.body)),
    target: translatedTarget(target, translated.path ?? translator.path, clientKey(ex.req.headers, ex.authorizationIsProxyToken)),
  };
  return { call: out, response: translated.response };
}

/** `count_tokens` toward an OpenAI-format provider: an estimate over what would be sent. */
function answerCountTokens(call: ForwardCall, handler: CallHandler): null {
  const ex = call.ex;
  const body = call.body ?? (ex.modified ? ex.forwardBody : ex.plainBody);
  let text = body.toString('utf8');
  try {
    const j = JSON.parse(text) as Json;
    text = JSON.stringify([j.system ?? '', j.messages ?? [], j.tools ?? []]);
  } catch {
    // estimate over the raw text
  }
  const reply = Buffer.from(JSON.stringify({ input_tokens: estimateTokens(text) }));
  handler.onHeaders(200, { 'content-type': 'application/json', 'content-length': String(reply.length), 'x-headroom-estimated': 'true' }, NO_FLOW);
  handler.onData(reply, NO_FLOW);
  handler.onEnd();
  return null;
}

/** Response headers for a body of another length and format than the upstream's. */
function rewrittenHeaders(headers: IncomingHttpHeaders, contentType: string, length: number | null): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const name in headers) {
    if (name === 'content-length' || name === 'content-encoding' || name === 'content-type' || name === 'transfer-encoding' || name === 'etag' || name === 'content-md5') continue;
    out[name] = headers[name];
  }
  out['content-type'] = contentType;
  if (length !== null) out['content-length'] = String(length);
  return out;
}

class TranslatingHandler implements CallHandler {
  private mode: 'json' | 'error' | 'stream' | null = null;
  private status = 0;
  private headers: IncomingHttpHeaders = {};
  private control: FlowControl = NO_FLOW;
  private chunks: Buffer[] = [];
  private size = 0;
  private stream: StreamTranslation | null = null;

  constructor(
    private readonly ex: Exchange,
    private readonly out: CallHandler,
    private readonly response: ResponseTranslation,
  ) {}

  onHeaders(status: number, headers: IncomingHttpHeaders, control: FlowControl): void {
    this.status = status;
    this.headers = headers;
    this.control = control;
    const ct = headers['content-type'];
    if (status >= 300) this.mode = 'error';
    else if (typeof ct === 'string' && ct.startsWith('text/event-stream')) {
      this.mode = 'stream';
      this.stream = this.response.stream();
      this.out.onHeaders(status, rewrittenHeaders(headers, 'text/event-stream; charset=utf-8', null), control);
    } else this.mode = 'json';
  }

  onData(chunk: Buffer, control: FlowControl): void {
    if (this.mode === 'stream') {
      const t = performance.now();
      const text = this.stream!.push(chunk);
      this.ex.rec.overheadMs += performance.now() - t;
      if (text) this.out.onData(Buffer.from(text), control);
      return;
    }
    this.size += chunk.length;
    if (this.size <= MAX_BODY_BYTES) this.chunks.push(chunk);
  }

  onEnd(): void {
    if (this.mode === 'stream') {
      const tail = this.stream!.end();
      if (tail) this.out.onData(Buffer.from(tail), this.control);
      this.out.onEnd();
      this.fillUsage(this.stream!.usageBody());
      return;
    }
    const t = performance.now();
    const reply = this.bodyReply();
    this.ex.rec.overheadMs += performance.now() - t;
    const headers = rewrittenHeaders(this.headers, reply.contentType, reply.contentType === 'application/json' ? reply.body.length : null);
    this.out.onHeaders(reply.status, headers, this.control);
    this.out.onData(reply.body, this.control);
    this.out.onEnd();
    if (reply.answer) this.fillUsage(reply.answer);
  }

  onError(failure: Parameters<CallHandler['onError']>[0]): void {
    this.out.onError(failure);
  }

  /** The buffered upstream body in the client's format (an answer or an error). */
  private bodyReply(): Reply {
    const { status } = this;
    if (this.size > MAX_BODY_BYTES) return this.broken(`the upstream answer (${this.size} bytes) is too large to translate`);
    let raw: Buffer = Buffer.concat(this.chunks, this.size);
    this.chunks = [];
    try {
      raw = decodeResponseBody(raw, this.headers['content-encoding']);
    } catch (err) {
      return this.broken(`the upstream answer could not be decoded: ${(err as Error).message}`);
    }
    if (this.mode === 'error') {
      const e = this.response.error(status, raw);
      return { status: e.status, body: Buffer.from(e.body), contentType: 'application/json' };
    }
    let answer: Json;
    try {
      answer = this.response.json(JSON.parse(raw.toString('utf8')));
    } catch (err) {
      return this.broken(`the upstream answer could not be translated: ${(err as Error).message}`);
    }
    // a stream was asked for and a JSON answer came: the client still gets its stream
    if (this.ex.info.stream) return { status, body: Buffer.from(this.response.jsonAsStream(answer)), contentType: 'text/event-stream; charset=utf-8', answer };
    return { status, body: Buffer.from(JSON.stringify(answer)), contentType: 'application/json' };
  }

  private broken(message: string): Reply {
    this.ex.rec.fail('upstream_server_error', message);
    const e = this.response.error(502, Buffer.from(JSON.stringify({ error: { message } })));
    return { status: 502, body: Buffer.from(e.body), contentType: 'application/json' };
  }

  /** Usage the client's stream did not carry (an OpenAI client that did not ask for it) still counts. */
  private fillUsage(body: Json | null): void {
    const rec = this.ex.rec;
    const adapter = this.ex.route.adapter;
    if (!body || !rec.response || rec.response.usage || !adapter) return;
    rec.response.usage = adapter.factsFromJson(body).usage;
  }
}
