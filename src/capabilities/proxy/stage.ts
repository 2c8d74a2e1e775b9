/**
 * Proxy stages: the extension points of the request path. Compression, budgets, rate limits
 * and the response cache are stages; each runs in order before the request goes upstream
 * (and may rewrite the body or answer directly), and may look at completed responses.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { ErrorType } from '../../core/outcome.js';
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
  /** Runs before the upstream call, in registration order. */
  beforeUpstream?(ex: Exchange): StageReply | undefined | void | Promise<StageReply | undefined | void>;
  /** Runs after a complete non-streaming response was sent to the client. */
  afterResponse?(ex: Exchange, response: CompletedResponse): void;
}
