/**
 * What the compression capability offers other capabilities (type-only imports): the
 * `compression` service (the server-side settings and the originals sink in use: the CCR
 * store when installed, else a bounded in-memory map) and the `placement` outcome extension
 * its stage sets.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { CompressSettings } from '../../compress/options.js';
import type { ApiKind, CompressionSummary, OutcomeExtensions } from '../../core/outcome.js';
import type { OriginalsSink } from '../../originals/sink.js';
import type { SavedPlacement } from '../../savings/placement.js';

/**
 * What the compression stage reads and fills: a proxied request (`Exchange`), or one
 * `response.create` turn of a Responses WebSocket session.
 */
export interface CompressionTarget {
  readonly route: { readonly api: ApiKind };
  /** The headers that choose the mode (`x-headroom-mode`, `x-headroom-bypass`). */
  readonly req: { readonly headers: IncomingHttpHeaders };
  /** The parsed body (nothing is done without one). */
  readonly json: Record<string, unknown> | null;
  /** The body as received, and as JSON text (decoded from its Content-Encoding). */
  readonly body: Buffer;
  readonly plainBody: Buffer;
  readonly facts: { readonly model: string | null } | null;
  /** Where the compression facts of the one outcome are written (the proxy's `OutcomeRecorder`). */
  readonly rec: { compression: CompressionSummary; readonly ext: OutcomeExtensions };
  /** Replaces the body sent upstream (the original bytes: unchanged). */
  setForwardBody(body: Buffer): void;
}

export interface CompressionService {
  readonly settings: CompressSettings;
  /** Where the originals of lossy cuts go (the `originals` service when installed, else memory). */
  readonly originals: OriginalsSink;
  /**
   * Runs the proxy's compression on a target that is not a proxied request (same live zone,
   * replay map and originals, so resent history is forwarded as it was); the returned promise,
   * when there is one, resolves once what the compressed body depends on is durable.
   */
  compress(target: CompressionTarget): void | Promise<void>;
}

declare module '../../core/plugin.js' {
  interface Services {
    compression: CompressionService;
  }
}

declare module '../../core/outcome.js' {
  interface OutcomeExtensions {
    /**
     * Where the saved tokens sit (proxied requests the engine compressed): what the dollar
     * figures price them at, as the provider would have billed the uncompressed request.
     */
    placement?: SavedPlacement;
  }
}
