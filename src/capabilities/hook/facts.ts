/** The facts of one Aperture hook call (the `hook` outcome extension). */
/** What a hook call answered (tsheadroom's outcome names). */
export type HookOutcomeName = 'modify' | 'noop' | 'error' | 'passthrough' | 'read_error' | 'decode_error' | 'reject_encoding';

/** The per-call figures of a hook request (the `-v` line and the `tsheadroom_*` metrics read these). */
export interface HookFacts {
  outcome: HookOutcomeName;
  /** `-v` reason: `modify`, `allow(noop)`, `allow(error)`, ..., `reject(encoding)`. */
  reason: string;
  /** Request Content-Encoding when the body arrived encoded. */
  coding: string | null;
  /** `metadata.provider` / `metadata.model` as sent (null when absent). */
  metadataProvider: string | null;
  metadataModel: string | null;
  inMsgs: number;
  inBytes: number;
  outBytes: number;
  wireBytes: number;
  readMs: number;
  writeMs: number;
  /** Waiting for a worker. */
  queueMs: number;
  workerMs: number;
  /** Serving worker slot (-1 when no worker ran). */
  slot: number;
  cold: boolean;
  modelLimit: number;
  /** How the pool dispatched the call: affinity `hit`, `spill`, `shared` (no key / affinity off); null when it never reached the pool. */
  dispatch: 'hit' | 'spill' | 'shared' | null;
  /** Tokens of the messages after compression (= before on noop). */
  tokensAfter: number;
}
