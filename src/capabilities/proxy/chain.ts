/**
 * The forwarding chain: the one path every upstream call of a proxied request takes. In the
 * style of undici's dispatcher interceptors, a link wraps the `dispatch` after it and may wrap
 * the handler it passes on (to watch, hold back, retry or rewrite what comes back), so a
 * capability that needs to act on the upstream exchange (CCR today; routing, fallback,
 * translation and signing later) is a link, not a second way to forward.
 *
 * Links run by `position`, lowest first (nearest the client); the terminal `relay` sends each
 * call to the upstream over the shared undici agent:
 *
 * | position | link          | capability  | what it does                                              |
 * |----------|---------------|-------------|-----------------------------------------------------------|
 * | 100      | `routing`     | routing     | resolve the model: provider, alias, fallback targets      |
 * | 200      | `fallback`    | routing     | the attempts: `call.target`, keys, breakers, fallbacks    |
 * | 400      | `observe`     | proxy       | read usage from what the client receives; response stages |
 * | 500      | `ccr`         | ccr         | answer `headroom_retrieve` calls with follow-up rounds    |
 * | 600      | `retry`       | proxy       | retry 429/5xx/connect errors before the first byte        |
 * | 640      | `translation` | proxy       | rewrite between API formats when the target's differs     |
 * | 645      | `cloud-entry` | cloud       | Azure/Gemini paths: the registry entry's URL and key      |
 * | 650      | `model`       | routing     | the target's model name in a same-format body             |
 * | 650      | `cloud-keys`  | proxy       | Azure/Gemini paths: the flags' URL and key (no entry)      |
 * | 660      | `credentials` | controls    | virtual keys: drop client credentials, send the proxy's key |
 * | 700      | (signing)     | (reserved)  | sign the final upstream request (cloud providers)         |
 * | relay    | `relay`       | proxy       | the upstream call itself (timing, client abort)           |
 *
 * The contract of a dispatch: the handler gets `onHeaders` at most once, then `onData` for
 * each body chunk, then exactly one of `onEnd` or `onError` (also when the client went away:
 * `onError` with kind `aborted`). The outermost handler writes to the client.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ApiKind, ErrorType, ProviderId } from '../../core/outcome.js';
import type { Exchange } from './exchange.js';
import type { CompletedResponse } from './stage.js';
import type { UpstreamTarget } from './target.js';
import type { UpstreamFailure } from './upstream.js';

/** Reserved and used link positions (see the table above). */
export const LINK_POSITION = {
  routing: 100,
  fallback: 200,
  observe: 400,
  ccr: 500,
  retry: 600,
  translation: 640,
  model: 650,
  signing: 700,
} as const;

/** One upstream call to make for an exchange. */
export interface ForwardCall {
  readonly ex: Exchange;
  /** Body to send instead of `ex.forwardBody` (a follow-up round). */
  readonly body?: Buffer;
  /** 0 for the client's own call, 1.. for follow-up calls the proxy makes itself. */
  readonly round: number;
  /** Where the call goes (set by routing/fallback); absent: the route's default upstream. */
  readonly target?: UpstreamTarget;
}

/** Backpressure on the call whose bytes are being handled. */
export interface FlowControl {
  pause(): void;
  resume(): void;
}

/** Why a call produced no (complete) response. */
export interface CallFailure {
  /** `aborted`: the client went away (nothing more is to be written). */
  kind: UpstreamFailure;
  /** The response had started (its headers were handed on) when it failed. */
  midBody: boolean;
  /** What the client is told: status (before any byte), error type and message. */
  status: number;
  type: ErrorType;
  message: string;
  /** The transport error's own message, when there was one. */
  detail?: string;
}

export interface CallHandler {
  onHeaders(status: number, headers: IncomingHttpHeaders, control: FlowControl): void;
  onData(chunk: Buffer, control: FlowControl): void;
  onEnd(): void;
  onError(failure: CallFailure): void;
}

export type Dispatch = (call: ForwardCall, handler: CallHandler) => void;

/** What a link is built with, once per route (see `plan.ts`). */
export interface LinkContext {
  readonly api: ApiKind;
  /** How many of the route's stages look at completed responses (0: nothing to hand over). */
  readonly responseStages: number;
  /** Hands a complete non-streaming response, as the client received it, to the route's response stages. */
  runResponseStages(ex: Exchange, completed: CompletedResponse): void;
}

export interface ForwardLink {
  readonly name: string;
  /** Where the link sits (see the table above); lower runs nearer the client. */
  readonly position: number;
  /** The APIs the link applies to (absent: every route). Resolved once per route. */
  readonly apis?: readonly ApiKind[];
  /** The providers whose routes the link applies to (absent: every provider). Resolved once per route. */
  readonly providers?: readonly ProviderId[];
  wrap(next: Dispatch, ctx: LinkContext): Dispatch;
}

/** Builds one dispatch from links (any order: sorted by position) around the terminal relay. */
export function compose(links: readonly ForwardLink[], terminal: Dispatch, ctx: LinkContext): Dispatch {
  const sorted = [...links].sort((a, b) => a.position - b.position);
  let dispatch = terminal;
  for (let i = sorted.length - 1; i >= 0; i--) dispatch = sorted[i]!.wrap(dispatch, ctx);
  return dispatch;
}

/** A flow control for bytes that belong to no live call (written after it ended). */
export const NO_FLOW: FlowControl = { pause() {}, resume() {} };
