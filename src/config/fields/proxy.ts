import { field } from '../field.js';

/** Upstreams, retries and timeouts. */
export const proxyFields = {
  anthropicApiUrl: field.url({
    flag: 'anthropic-api-url', env: ['ANTHROPIC_TARGET_API_URL', 'ANTHROPIC_FOUNDRY_BASE_URL'],
    default: 'https://api.anthropic.com', group: 'upstream',
    doc: 'Anthropic upstream base URL (a trailing `/` or `/v1` is trimmed).',
  }),
  openaiApiUrl: field.url({
    flag: 'openai-api-url', env: ['OPENAI_TARGET_API_URL'], default: 'https://api.openai.com', group: 'upstream',
    doc: 'OpenAI upstream base URL (a trailing `/` or `/v1` is trimmed).',
  }),
  retryMaxAttempts: field.int({
    flag: 'retry-max-attempts', env: ['HEADROOM_RETRY_MAX_ATTEMPTS'], default: 3, min: 1, max: 10, group: 'upstream',
    doc: 'Upstream attempts per request (3 = up to 2 retries) on 429/5xx/connect errors, only before the first byte reaches the client.',
  }),
  retryBaseDelayMs: field.int({
    flag: 'retry-base-delay-ms', env: ['HEADROOM_RETRY_BASE_DELAY_MS'], default: 250, min: 0, max: 60_000, group: 'upstream',
    doc: 'First retry delay; doubles per attempt, with full jitter.',
  }),
  retryMaxDelayMs: field.int({
    flag: 'retry-max-delay-ms', env: ['HEADROOM_RETRY_MAX_DELAY_MS'], default: 20_000, min: 0, max: 600_000, group: 'upstream',
    doc: 'Longest wait between attempts; a `Retry-After` above it is passed to the client instead of waited out.',
  }),
  connectTimeoutSeconds: field.number({
    flag: 'connect-timeout-seconds', env: ['HEADROOM_CONNECT_TIMEOUT_SECONDS'], default: 10, min: 0, max: 600,
    exclusiveMin: true, group: 'upstream',
    doc: 'Upstream TCP/TLS connect timeout; exceeded -> 502.',
  }),
  requestTimeoutSeconds: field.number({
    flag: 'request-timeout-seconds', env: ['HEADROOM_REQUEST_TIMEOUT'], default: 300, min: 0, max: 86_400,
    exclusiveMin: true, group: 'upstream',
    doc: 'Upstream timeout for response headers and for each gap between body chunks; exceeded -> 504 (or an error event mid-stream).',
  }),
  upstreamConnections: field.int({
    flag: 'upstream-connections', env: ['HEADROOM_UPSTREAM_CONNECTIONS'], default: 256, min: 1, max: 65_536, group: 'upstream',
    doc: 'Keep-alive connection pool size per upstream origin.',
  }),
  stripInternalHeaders: field.enum({
    flag: 'strip-internal-headers', env: ['HEADROOM_STRIP_INTERNAL_HEADERS'], default: 'enabled', group: 'upstream',
    values: ['enabled', 'disabled'] as const,
    doc: '`x-headroom-*` request headers are never forwarded upstream; `disabled` forwards them (diagnostics only).',
  }),
} as const;
