import { field } from '../field.js';

/** Stats store, request log file, metrics naming and health probing. */
export const observabilityFields = {
  savingsPath: field.optionalString({
    flag: 'savings-path', env: ['HEADROOM_SAVINGS_PATH'], default: null, group: 'observability',
    doc: 'Location of the durable stats store (SQLite). Default `<workspace-dir>/headroom_stats.sqlite`. A path ending in `.json` names a Headroom `proxy_savings.json`: it is imported once and the store is kept beside it (`<name>.sqlite`).',
  }),
  statsRetentionDays: field.int({
    flag: 'stats-retention-days', env: ['HEADROOM_STATS_RETENTION_DAYS'], default: 365, min: 1, max: 36_500, group: 'observability',
    doc: 'Days of per-request savings events and hourly rollups kept in the stats store (lifetime, session and project totals are kept forever).',
  }),
  statsFlushMs: field.int({
    flag: 'stats-flush-ms', env: ['HEADROOM_STATS_FLUSH_MS'], default: 250, min: 10, max: 250, group: 'observability',
    doc: 'Longest time a recorded request waits in memory before it is written to the stats store (a kill -9 loses at most this window).',
  }),
  logFile: field.optionalString({
    flag: 'log-file', env: ['HEADROOM_LOG_FILE'], default: null, group: 'observability',
    doc: 'Append one JSON line per request (Headroom field names) to this file. Off in stateless mode.',
  }),
  logMessages: field.bool({
    flag: 'log-messages', env: ['HEADROOM_LOG_MESSAGES'], default: false, group: 'observability',
    doc: 'Include request messages (as received and as forwarded) in `--log-file` records. Secrets are still redacted.',
  }),
  logFileMaxBytes: field.bytes({
    flag: 'log-file-max-bytes', env: ['HEADROOM_LOG_FILE_MAX_BYTES'], default: 10 * 1024 * 1024, min: 1024, max: 1024 ** 4,
    group: 'observability', defaultText: '10MiB',
    doc: 'Size at which the `--log-file` is rotated (`file.1`, `file.2`, ...).',
  }),
  logFileBackups: field.int({
    flag: 'log-file-backups', env: ['HEADROOM_LOG_FILE_BACKUPS'], default: 5, min: 0, max: 1000, group: 'observability',
    doc: 'Rotated `--log-file` generations kept (0 = truncate instead of keeping old lines).',
  }),
  metricsHeadroomNames: field.bool({
    flag: 'metrics-headroom-names', env: ['HEADROOM_METRICS_HEADROOM_NAMES'], default: true, group: 'observability',
    doc: '`/metrics` includes the Headroom-compatible families (`headroom_latency_ms_sum`, `headroom_requests_by_provider`, ...) whose names predate Prometheus naming rules. Off = only lint-clean families (histograms in seconds, `*_total` counters).',
  }),
  skipUpstreamCheck: field.bool({
    flag: 'skip-upstream-check', env: ['HEADROOM_SKIP_UPSTREAM_CHECK'], default: false, group: 'observability',
    doc: 'Do not probe the upstream from `/health` and `/readyz` (the `upstream` check reports disabled).',
  }),
} as const;
