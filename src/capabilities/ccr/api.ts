/**
 * What the CCR capability offers other capabilities (type-only imports): the `originals`
 * service (the store of originals, which lossy cuts are written to and `headroom_retrieve`
 * reads) and the `ccr` outcome extension its stage sets.
 */
import type { TokenUsage } from '../../core/outcome.js';
import type { OriginalsSink } from '../../originals/sink.js';

export interface CcrSummary {
  /** Why `headroom_retrieve` was added to the forwarded tools: this request shows a marker the store holds, or it was offered without one (the client brings tools). null: not added. */
  toolInjected: 'marker' | 'offered' | null;
  /** The client defines its own `headroom_retrieve` tool (it answers the calls itself). */
  clientTool: boolean;
  /** Distinct retrieval markers (ours) in the forwarded request. */
  markers: number;
  /** `headroom_retrieve` calls the proxy answered. */
  retrievals: number;
  /** ... of which found their original / did not (missing, expired, bad hash). */
  hits: number;
  misses: number;
  /** Follow-up upstream calls made to continue the answer after retrievals (at most `--ccr-max-retrieval-rounds`). */
  rounds: number;
  /** Estimated tokens of original content handed to the model. */
  tokensRetrieved: number;
  /** Retrieve calls removed from the response unanswered (made next to the client's own tool calls, or past the round limit). */
  dropped: number;
  /** Hashes retrieved, in order (at most 20). */
  hashes: string[];
  /**
   * Provider-reported usage of each upstream call the proxy resolved retrievals on, round 0
   * (the client's own) first; with follow-up rounds, the outcome's `usage` is their sum.
   */
  roundUsage?: TokenUsage[];
}

declare module '../../core/plugin.js' {
  interface Services {
    /** The store of originals (SQLite or memory), durable before a marker is forwarded. */
    originals: OriginalsSink;
  }
}

declare module '../../core/outcome.js' {
  interface OutcomeExtensions {
    /** CCR: the retrieve tool and proxy-side retrieval; present when the request was offered the tool or brings its own. */
    ccr?: CcrSummary;
  }
}
