/**
 * What the compression capability offers other capabilities (type-only imports): the
 * `compression` service (the server-side settings and the originals sink in use: the CCR
 * store when installed, else a bounded in-memory map) and the `placement` outcome extension
 * its stage sets.
 */
import type { CompressSettings } from '../../compress/options.js';
import type { OriginalsSink } from '../../originals/sink.js';
import type { SavedPlacement } from '../../savings/placement.js';

export interface CompressionService {
  readonly settings: CompressSettings;
  /** Where the originals of lossy cuts go (the `originals` service when installed, else memory). */
  readonly originals: OriginalsSink;
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
