/**
 * Proxy stages: the extension points of the request path. Compression, budgets, rate limits
 * and the response cache are stages; each runs in order before the request goes upstream
 * (and may rewrite the body or answer directly), and may look at completed responses.
 *
 * Capabilities add them with `ctx.need('proxy').addStage(stage)`; they run by `order` (lower
 * first, then in the order added), whatever order the plugins were installed in:
 *
 * | order | stage            | capability  |
 * |-------|------------------|-------------|
 * | 10    | `attribution`    | stats       |
 * | 100   | `unpriced`       | controls    |
 * | 110   | `rate_limit`     | controls    |
 * | 120   | `response_cache` | controls    |
 * | 130   | `budget`         | controls    |
 * | 200   | `ccr`            | ccr         |
 * | 300   | `compression`    | compression |
 * | 1000  | (default)        |             |
 *
 * A stage that names its `apis` runs only on those routes (resolved once per route, `plan.ts`);
 * what happens after the stages, on the way upstream and back, is the forwarding chain
 * (`chain.ts`).
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { ApiKind, ErrorType } from '../../core/outcome.js';
import type { Exchange } from './exchange.js';

/** A reply produced by a stage instead of forwarding upstream. */
export interface StageReply {
  status: number;
  headers?: OutgoingHttpHeaders;
  body: string | Buffer;
  errorType?: ErrorType | null;
  errorMessage?: string | null;
  /** The reply came from a cache of upstream responses. */
  cached?: boolean;
}

export interface CompletedResponse {
  status: number;
  headers: OutgoingHttpHeaders;
  body: Buffer;
}

export interface ProxyStage {
  readonly name: string;
  /** Where the stage runs on the path (see the table above); default {@link DEFAULT_STAGE_ORDER}. */
  readonly order?: number;
  /** The APIs the stage applies to (absent: every route). */
  readonly apis?: readonly ApiKind[];
  /** Runs before the upstream call, in `order`. */
  beforeUpstream?(ex: Exchange): StageReply | undefined | void | Promise<StageReply | undefined | void>;
  /** Runs after a complete non-streaming response was sent to the client. */
  afterResponse?(ex: Exchange, response: CompletedResponse): void;
}

/** The position of a stage that does not say (after every built-in stage). */
export const DEFAULT_STAGE_ORDER = 1000;
