/** The SDK client's option and call-record shapes, shared by the client and the wrapper. */
import type { ProviderId, TokenUsage } from '../providers/types.js';
import type { CompressOptions, CompressResult } from './compress.js';
import type { SdkApi } from './usage.js';

export type SdkMode = 'optimize' | 'audit';

export interface HeadroomClientOptions {
  /** State root (default `HEADROOM_WORKSPACE_DIR`, else `~/.headroom`). */
  workspaceDir?: string;
  /** Metrics database (default `<workspace>/sdk_metrics.sqlite`; `:memory:` keeps nothing on disk). */
  metricsPath?: string;
  /** `optimize` sends compressed messages; `audit` measures and sends the originals. Default optimize. */
  mode?: SdkMode;
  /** The provider whose API key `validateSetup()` checks (default: whichever clients you wrap). */
  provider?: ProviderId;
  /** Compression options applied to every call (Headroom's CompressConfig keys, camelCase or snake_case). */
  compress?: CompressOptions;
}

/** What a wrapped call or `compress()` reports to the client. */
export interface CallRecord {
  provider: ProviderId;
  api: SdkApi | 'compress';
  model: string | null;
  stream: boolean;
  startedAt: number;
  durationMs: number;
  result: CompressResult | null;
  usage: TokenUsage | null;
  error: string | null;
}

/** What the wrapper needs of a `HeadroomClient`: compress a call's messages, record the call. */
export interface CallRecorder {
  readonly mode: SdkMode;
  compressCall(api: SdkApi, model: string | null, messages: unknown): CompressResult | null;
  record(call: CallRecord): void;
}
