/**
 * Instrument names, units, bucket boundaries and attribute keys: Headroom's `headroom.*`
 * instruments (meter scope `headroom`) and the OpenTelemetry GenAI semantic conventions
 * (`gen_ai.*`, development status). Names are written out here rather than imported from
 * `@opentelemetry/semantic-conventions/incubating`, whose GenAI entries are deprecated there
 * (moved to the GenAI conventions repository) and may disappear.
 */
import type { ApiKind } from '../../core/outcome.js';

export const SCOPE = 'headroom';

/** GenAI client histograms (`gen_ai.client.operation.duration`, `.time_to_first_chunk`), seconds. */
export const GENAI_DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
/** `gen_ai.client.token.usage`, tokens. */
export const GENAI_TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
/** headroom-ts's own time inside a request, seconds (0.1 ms .. 1 s). */
export const OVERHEAD_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
/** Compression pipeline and stage durations, seconds (0.5 ms .. 5 s). */
export const COMPRESSION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export const M = {
  requests: 'headroom.proxy.requests',
  requestsCached: 'headroom.proxy.requests.cached',
  requestsFailed: 'headroom.proxy.requests.failed',
  requestsRateLimited: 'headroom.proxy.requests.rate_limited',
  tokensInput: 'headroom.proxy.tokens.input',
  tokensOutput: 'headroom.proxy.tokens.output',
  tokensSaved: 'headroom.proxy.tokens.saved',
  cacheRead: 'headroom.proxy.cache.read_tokens',
  cacheWrite: 'headroom.proxy.cache.write_tokens',
  cacheUncached: 'headroom.proxy.cache.uncached_input_tokens',
  cacheWriteTtl: 'headroom.proxy.cache.write_ttl_tokens',
  cacheBusts: 'headroom.proxy.cache.busts',
  cacheBustTokensLost: 'headroom.proxy.cache.bust_tokens_lost',
  requestDuration: 'headroom.proxy.request.duration',
  overheadDuration: 'headroom.proxy.overhead.duration',
  ttfbDuration: 'headroom.proxy.ttfb.duration',
  /** headroom-ts: provider spend in USD (a counter value, never a label). */
  cost: 'headroom.proxy.cost',
  compressionRuns: 'headroom.compression.runs',
  compressionTokensInput: 'headroom.compression.tokens.input',
  compressionTokensOutput: 'headroom.compression.tokens.output',
  compressionTokensSaved: 'headroom.compression.tokens.saved',
  compressionPipelineDuration: 'headroom.compression.pipeline.duration',
  compressionStageDuration: 'headroom.compression.stage.duration',
  compressionTransforms: 'headroom.compression.transforms',
  compressionWasteTokens: 'headroom.compression.waste.tokens',
  compressionFailures: 'headroom.compression.failures',
  /** headroom-ts: USD saved by compression before deductions (saved tokens at the rates the uncompressed request would have been billed). */
  compressionSavings: 'headroom.compression.savings',
  /** headroom-ts: USD taken off those savings (`cause`: retrieval rounds, cache busts); net = savings - deductions. */
  compressionDeductions: 'headroom.compression.deductions',
  genaiTokenUsage: 'gen_ai.client.token.usage',
  genaiOperationDuration: 'gen_ai.client.operation.duration',
  genaiTimeToFirstChunk: 'gen_ai.client.operation.time_to_first_chunk',
} as const;

/**
 * `gen_ai.token.type` values. `input` and `output` are the convention's; `cache_read` and
 * `cache_creation` (headroom-ts) split out the prompt-cache part of `input`, named after the
 * span attributes `gen_ai.usage.cache_read.input_tokens` / `gen_ai.usage.cache_creation.input_tokens`.
 * `input` already includes them: never sum all four.
 */
export const TOKEN_TYPES = { input: 'input', output: 'output', cacheRead: 'cache_read', cacheCreation: 'cache_creation' } as const;

/** The GenAI operation of an API, or null for non-inference routes (models, count_tokens, passthrough). */
export function genaiOperation(api: ApiKind): string | null {
  if (api === 'generate_content') return 'generate_content';
  return api === 'messages' || api === 'chat' || api === 'responses' ? 'chat' : null;
}
