import { field } from '../field.js';

/** Live monitoring: active requests, the SSE stream, running totals, recent errors/traces, summary log. */
export const liveFields = {
  liveMetrics: field.bool({
    flag: 'live-metrics', env: ['HEADROOM_LIVE_METRICS'], default: true, group: 'live',
    doc: 'Live monitoring (`/metrics/active-requests`, its SSE stream, `/metrics/running-totals`, `/metrics/logs`, the summary log line). Off: nothing is tracked and the endpoints answer `disabled`.',
  }),
  liveSummaryEveryRequests: field.int({
    flag: 'live-summary-every-requests', env: ['HEADROOM_LIVE_SUMMARY_EVERY_REQUESTS'], default: 100, min: 0, max: 1_000_000_000, group: 'live',
    doc: 'Log a live summary line (cumulative since start, plus the window since the previous line) every N completed requests; 0 = never.',
  }),
  liveSummaryIntervalSeconds: field.number({
    flag: 'live-summary-interval-seconds', env: ['HEADROOM_LIVE_SUMMARY_INTERVAL_SECONDS'], default: 0, min: 0, max: 86_400, group: 'live',
    doc: 'Also log the summary line every T seconds when requests completed since the previous line; 0 = never.',
  }),
  liveSseHeartbeatSeconds: field.number({
    flag: 'live-sse-heartbeat-seconds', env: ['HEADROOM_LIVE_SSE_HEARTBEAT_SECONDS'], default: 30, min: 0, max: 3_600, exclusiveMin: true, group: 'live',
    doc: 'Interval of the `: heartbeat` comment on `/metrics/active-requests/stream`.',
  }),
  liveSseMinIntervalMs: field.int({
    flag: 'live-sse-min-interval-ms', env: ['HEADROOM_LIVE_SSE_MIN_INTERVAL_MS'], default: 250, min: 0, max: 60_000, group: 'live',
    doc: 'Changes are coalesced: at most one `update` event per interval per stream.',
  }),
  liveSseRetryMs: field.int({
    flag: 'live-sse-retry-ms', env: ['HEADROOM_LIVE_SSE_RETRY_MS'], default: 2_000, min: 100, max: 600_000, group: 'live',
    doc: 'Reconnect delay sent to EventSource clients (`retry:`).',
  }),
  liveSseMaxClients: field.int({
    flag: 'live-sse-max-clients', env: ['HEADROOM_LIVE_SSE_MAX_CLIENTS'], default: 100, min: 1, max: 10_000, group: 'live',
    doc: 'Concurrent SSE streams; more get 503.',
  }),
  liveSseStallSeconds: field.number({
    flag: 'live-sse-stall-seconds', env: ['HEADROOM_LIVE_SSE_STALL_SECONDS'], default: 15, min: 0, max: 600, exclusiveMin: true, group: 'live',
    doc: 'An SSE client that has not accepted the previous frame for this long is dropped (others are never delayed; at most one frame is buffered per client).',
  }),
  liveStreamSessionSeconds: field.int({
    flag: 'live-stream-session-seconds', env: ['HEADROOM_LIVE_STREAM_SESSION_SECONDS'], default: 3_600, min: 10, max: 7 * 86_400, group: 'live',
    doc: 'Lifetime of the HttpOnly cookie issued by `POST /metrics/active-requests/stream/session` that lets a browser EventSource open the stream when a proxy token is required.',
  }),
  liveErrorBuffer: field.int({
    flag: 'live-error-buffer', env: ['HEADROOM_LIVE_ERROR_BUFFER'], default: 100, min: 0, max: 100_000, group: 'live',
    doc: 'Recent errors kept for `/metrics/logs` (ring buffer).',
  }),
  liveTraceBuffer: field.int({
    flag: 'live-trace-buffer', env: ['HEADROOM_LIVE_TRACE_BUFFER'], default: 200, min: 0, max: 100_000, group: 'live',
    doc: 'Recent request traces kept for `/metrics/logs` (ring buffer).',
  }),
  liveMaxModels: field.int({
    flag: 'live-max-models', env: ['HEADROOM_LIVE_MAX_MODELS'], default: 1_000, min: 1, max: 100_000, group: 'live',
    doc: 'Distinct provider/model buckets kept in running totals; requests for further models are counted under the model `(other)`.',
  }),
} as const;
