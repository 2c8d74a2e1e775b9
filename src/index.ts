/** Library entry point of headroom-ts. */
export { VERSION } from './version.js';
export { allFields, ConfigError, configWith, loadConfig, type Config, type ConfigKey } from './config/index.js';
export { App, createApp, type AppOptions, type Plugin } from './core/app.js';
export { Funnel, type Sink, type SinkStats } from './core/funnel.js';
export type {
  ApiKind,
  CompressionMode,
  CompressionSummary,
  ErrorType,
  OutcomeKind,
  OutcomeTiming,
  ProviderId,
  RequestOutcome,
  RequestProgress,
  RequestStart,
  TokenUsage,
  ToolCounts,
} from './core/outcome.js';
export type { ProxyStage, StageReply, CompletedResponse } from './capabilities/proxy/stage.js';
export type { Exchange } from './capabilities/proxy/exchange.js';
export { costOf, FALLBACK_RATES, priceFor, type CostBreakdown, type ModelPrice, type PriceRates } from './providers/pricing.js';
export { accountingOf, type Accounting } from './capabilities/accounting/accounting.js';
export { statsServiceOf, type StatsService } from './capabilities/stats/service.js';
export type { SavingsEvent, StatsStore } from './capabilities/stats/store/types.js';
export { compress, detectFormat, type CompressOptions, type CompressResult, type MessageFormat } from './sdk/compress.js';
export {
  compressRequest,
  contentHash,
  CompressOptionsError,
  DEFAULT_SETTINGS,
  findMarkers,
  formatMarker,
  hasMarker,
  normaliseHash,
  RETRIEVE_TOOL_NAME,
  type CcrEntry,
  type CompressSettings,
  type FoundMarker,
  type SavingsProfile,
} from './compress/index.js';
export { BoundedOriginals, originalsSinkFor, setOriginalsSink, type OriginalEntry, type OriginalsSink } from './originals/sink.js';
export { MemoryReplayStore, SqliteReplayStore, type ReplayStore, type ReplayStats } from './compress/replay.js';
export { controlsOf, controlsPlugin, createControlsPlugin, type Controls, type ControlsOptions } from './capabilities/controls/plugin.js';
// CCR: the store of originals, the retrieve tool and proxy-side retrieval
export { ccrPlugin, createCcrStore } from './capabilities/ccr/plugin.js';
export { MemoryCcrStore, normaliseLookupHash, type CcrStore, type CcrStoreOptions, type CcrStoreStats, type Lookup, type StoredOriginal } from './originals/store.js';
export { SqliteCcrStore, type SqliteCcrStoreOptions } from './originals/sqlite-store.js';
export { answerRetrieve, parseRetrieveArgs, TOOL_BYTES as RETRIEVE_TOOL_DEFINITIONS } from './capabilities/ccr/tool.js';
export type { CcrSummary } from './core/outcome.js';
// Hook mode (Aperture pre_request hook)
export { HookServer, type HookServerOptions } from './capabilities/hook/server.js';
export { createHookPlugin, hookPlugin, HOOK_PATH } from './capabilities/hook/plugin.js';
export { WorkerPool, PoolError, type PoolOptions, type PoolResult, type Dispatch } from './capabilities/hook/pool.js';
export { HOOK_DEFAULTS, mergeSettings, engineSettings, SettingsError, type HookSettings } from './capabilities/hook/settings.js';
export type { HookFacts, HookOutcomeName } from './core/outcome.js';
// SDK: in-process client wrappers and local metrics
export { HeadroomClient, type CallRecord, type HeadroomClientOptions, type SdkMode, type SessionStats, type SetupReport } from './sdk/client.js';
export { withHeadroom, type WithHeadroomOptions } from './sdk/wrap.js';
export type { MetricsQuery, MetricsSummary, SdkRequestMetric } from './sdk/metrics-store.js';
