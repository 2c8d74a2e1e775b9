/** Library entry point of headroom-ts. */
export { VERSION } from './version.js';
export { allFields, ConfigError, configWith, loadConfig, type Config, type ConfigKey } from './config/index.js';
export { App, createApp, type AppOptions, type HealthCheck, type InFlight } from './core/app.js';
export { definePlugin, installOrder, PluginError, type Plugin, type PluginContext, type PluginSpec, type ServiceName, type Services } from './core/plugin.js';
export { createProxyApp, defaultPlugins, type ProxyAppOptions } from './compose/proxy.js';
export { createHookApp, hookPlugins, type HookAppOptions } from './compose/hook.js';
export { Funnel, type Sink, type SinkStats } from './core/funnel.js';
export type {
  ApiKind,
  CompressionMode,
  CompressionSummary,
  ErrorType,
  OutcomeExtensions,
  OutcomeKind,
  OutcomeTiming,
  ProviderId,
  RequestOutcome,
  RequestProgress,
  RequestStart,
  TokenUsage,
  ToolCounts,
} from './core/outcome.js';
export type {
  CallFailure,
  CallHandler,
  CompletedResponse,
  Dispatch as ForwardDispatch,
  Exchange,
  FlowControl,
  ForwardCall,
  ForwardLink,
  LinkContext,
  ProxyService,
  ProxyStage,
  StageReply,
} from './capabilities/proxy/api.js';
export { OutcomeRecorder, startFrom, type StartFields } from './core/recorder.js';
export { createProxyPlugin, proxyPlugin, type ProxyPluginOptions } from './capabilities/proxy/plugin.js';
export { costOf, FALLBACK_RATES, priceFor, type CostBreakdown, type ModelPrice, type PriceRates } from './providers/pricing.js';
export { accountingOf, type Accounting } from './capabilities/stats/accounting.js';
export type { StatsService } from './capabilities/stats/api.js';
export { statsPlugin } from './capabilities/stats/plugin.js';
export type { MetricsService } from './capabilities/metrics/api.js';
export type { LiveMonitor } from './capabilities/live/api.js';
export type { OtelRuntime } from './capabilities/otel/api.js';
export type { CompressionService, CompressionTarget } from './capabilities/compression/api.js';
export type { ResponsesWsService, WsTurnFacts } from './capabilities/responses-ws/api.js';
export { responsesWsPlugin } from './capabilities/responses-ws/plugin.js';
export type { SavedByCache, SavedPlacement } from './savings/placement.js';
export type { CacheContinuity, CacheMissReason } from './savings/continuity.js';
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
export { BoundedOriginals, type OriginalEntry, type OriginalsSink } from './originals/sink.js';
export { MemoryReplayStore, SqliteReplayStore, type ReplayStore, type ReplayStats } from './compress/replay.js';
export { controlsPlugin, createControlsPlugin, type Controls, type ControlsOptions } from './capabilities/controls/plugin.js';
// CCR: the store of originals, the retrieve tool and proxy-side retrieval
export { ccrPlugin, openCcrStore } from './capabilities/ccr/plugin.js';
export { MemoryCcrStore, normaliseLookupHash, type CcrStore, type CcrStoreOptions, type CcrStoreStats, type Lookup, type StoredOriginal } from './originals/store.js';
export { SqliteCcrStore, type SqliteCcrStoreOptions } from './originals/sqlite-store.js';
export { answerRetrieve, parseRetrieveArgs, TOOL_BYTES as RETRIEVE_TOOL_DEFINITIONS } from './capabilities/ccr/tool.js';
export type { CcrSummary } from './capabilities/ccr/api.js';
// Hook mode (Aperture pre_request hook)
export { createHookPlugin, hookPlugin, HOOK_PATH, type HookPluginOptions } from './capabilities/hook/plugin.js';
export type { HookService } from './capabilities/hook/api.js';
export { WorkerPool, PoolError, type PoolOptions, type PoolResult, type Dispatch } from './capabilities/hook/pool.js';
export { HOOK_DEFAULTS, mergeSettings, engineSettings, SettingsError, type HookSettings } from './capabilities/hook/settings.js';
export type { HookFacts, HookOutcomeName } from './capabilities/hook/api.js';
// SDK: in-process client wrappers and local metrics
export { HeadroomClient, withHeadroom, type CallRecord, type HeadroomClientOptions, type SdkMode, type SessionStats, type SetupReport, type WithHeadroomOptions } from './sdk/client.js';
export type { MetricsQuery, MetricsSummary, SdkRequestMetric } from './sdk/metrics-store.js';
