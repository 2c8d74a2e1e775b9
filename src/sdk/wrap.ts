/**
 * Wraps an official `openai` or `@anthropic-ai/sdk` client so its calls compress their
 * messages in-process before they are sent, and record tokens, savings and usage locally
 * (`HeadroomClient.wrap`, `withHeadroom`). Everything else about the client is unchanged: the
 * wrapped `create` returns the SDK's own promise (`.withResponse()`, `.asResponse()` work),
 * streams stay streams and are measured as they are read.
 *
 * Wrapped: Anthropic `messages.create` and `messages.stream` (it goes through `create`),
 * OpenAI `chat.completions.create` and `responses.create`. Streaming chat calls report output
 * tokens only when the request asks for them (`stream_options: { include_usage: true }`).
 */
import type { ProviderId } from '../providers/types.js';
import type { CallRecord, CallRecorder } from './types.js';
import { type SdkApi, UsageTap } from './usage.js';

type Json = Record<string, unknown>;
type AnyFn = (...args: unknown[]) => unknown;

const isObj = (v: unknown): v is Json => v !== null && typeof v === 'object';
const isIterable = (v: unknown): v is AsyncIterable<unknown> => isObj(v) && typeof (v as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';

const WRAPPED: Record<string, { provider: ProviderId; api: SdkApi; field: 'messages' | 'input' }> = {
  'messages.create': { provider: 'anthropic', api: 'messages', field: 'messages' },
  'chat.completions.create': { provider: 'openai', api: 'chat', field: 'messages' },
  'responses.create': { provider: 'openai', api: 'responses', field: 'input' },
};

/** Wraps an official OpenAI or Anthropic client (see the module comment); `headroom` compresses and records. */
export function wrapWith<C extends object>(client: C, headroom: CallRecorder): C {
  return wrapAt(client, '', headroom);
}

function wrapAt<T extends object>(target: T, path: string, headroom: CallRecorder): T {
  const cache = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver) as unknown;
      if (typeof prop !== 'string') return value;
      const here = path ? `${path}.${prop}` : prop;
      const spec = WRAPPED[here];
      if (spec && typeof value === 'function') {
        if (!cache.has(prop)) cache.set(prop, wrapCreate(value as AnyFn, obj, spec, headroom));
        return cache.get(prop);
      }
      // descend only along the wrapped paths (messages, chat, chat.completions, responses)
      if (isObj(value) && Object.keys(WRAPPED).some((k) => k.startsWith(`${here}.`))) {
        if (!cache.has(prop)) cache.set(prop, wrapAt(value, here, headroom));
        return cache.get(prop);
      }
      return value;
    },
  });
}

function wrapCreate(create: AnyFn, owner: object, spec: (typeof WRAPPED)[string], headroom: CallRecorder): AnyFn {
  return function wrappedCreate(this: unknown, body: unknown, ...rest: unknown[]) {
    if (!isObj(body)) return create.call(owner, body, ...rest);
    const startedAt = Date.now();
    const t0 = performance.now();
    const model = typeof body.model === 'string' ? body.model : null;
    const stream = body.stream === true;
    let result: CallRecord['result'] = null;
    let sent = body;
    try {
      result = headroom.compressCall(spec.api, model, body[spec.field]);
      if (result && headroom.mode === 'optimize' && result.tokens_saved > 0) sent = { ...body, [spec.field]: result.messages };
    } catch {
      result = null; // compression never fails a call: the original is sent
    }
    const tap = new UsageTap(spec.api);
    let recorded = false;
    const finish = (error: unknown) => {
      if (recorded) return;
      recorded = true;
      headroom.record({
        provider: spec.provider, api: spec.api, model: tap.model ?? model, stream, startedAt, durationMs: performance.now() - t0, result,
        usage: tap.usage(), error: error === null ? null : String((error as Error)?.message ?? error).slice(0, 500),
      });
    };
    const promise = create.call(owner, sent, ...rest) as Promise<unknown>;
    // runs before the caller's own callbacks (registered first), so a stream is tapped before it is read
    promise.then(
      (res) => {
        if (stream && isIterable(res)) tapStream(res, tap, finish);
        else {
          tap.response(res);
          finish(null);
        }
      },
      (err: unknown) => finish(err),
    );
    return promise;
  };
}

/** Measures a stream as the caller reads it; records once it ends, fails or is abandoned. */
function tapStream(stream: AsyncIterable<unknown>, tap: UsageTap, finish: (error: unknown) => void): void {
  const iterate = stream[Symbol.asyncIterator].bind(stream);
  Object.defineProperty(stream, Symbol.asyncIterator, {
    configurable: true,
    writable: true,
    value: () => {
      const it = iterate();
      const tapped: AsyncIterator<unknown> & AsyncIterable<unknown> = {
        async next() {
          try {
            const r = await it.next();
            if (r.done) finish(null);
            else tap.event(r.value);
            return r;
          } catch (err) {
            finish(err);
            throw err;
          }
        },
        async return(value?: unknown) {
          finish(null);
          return it.return ? it.return(value) : { done: true, value };
        },
        [Symbol.asyncIterator]() {
          return tapped;
        },
      };
      return tapped;
    },
  });
}
