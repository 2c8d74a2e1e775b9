/**
 * Messages between the hook's pool and its worker threads. Each worker serves one job at a
 * time; ids are per worker, from 1.
 *
 *   worker -> pool  {type:'ready', version}
 *   pool -> worker  {type:'job', id, job}
 *   worker -> pool  {type:'result', id, ok:true, result} | {type:'result', id, ok:false, error}
 */
import type { CcrEntry } from '../../compress/engine.js';
import type { CompressSettings } from '../../compress/options.js';
import type { ApiShape } from '../../compress/request/slots.js';

export interface WorkJob {
  /** The decoded hook envelope (`{metadata, request_body: {..., messages}}`), as received. */
  envelope: Uint8Array;
  /** Message format of `request_body.messages`. */
  api: ApiShape;
  /** Model for the tokenizer and context window ('' = the engine default). */
  model: string;
  settings: CompressSettings;
}

export interface WorkResult {
  /** `request_body` with only `messages` replaced (every other byte as received); null = unchanged. */
  requestBody: Uint8Array | null;
  /** Byte length of `messages` as received and as returned. */
  inBytes: number;
  outBytes: number;
  tokensBefore: number;
  tokensAfter: number;
  tokensSaved: number;
  transforms: string[];
  savedByTransform: Record<string, number>;
  /** Worker-measured compression time. */
  elapsedMs: number;
  /** The worker's first real job (cold caches). */
  coldFirstCall: boolean;
  /** Context window used to judge pressure (0 when no model). */
  modelLimit: number;
  /** Originals of lossy cuts (for `headroom_retrieve`). */
  ccr: CcrEntry[];
}

export type ToWorker = { type: 'job'; id: number; job: WorkJob };
export type FromWorker =
  | { type: 'ready'; version: string }
  | { type: 'result'; id: number; ok: true; result: WorkResult }
  | { type: 'result'; id: number; ok: false; error: string };
