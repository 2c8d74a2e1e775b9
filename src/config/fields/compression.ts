import { field } from '../field.js';

/** Compression of what agents send (names follow Headroom's CompressConfig and HEADROOM_* variables). */
export const compressionFields = {
  optimize: field.bool({
    flag: 'optimize', env: ['HEADROOM_OPTIMIZE'], default: true, group: 'compression',
    doc: 'Compress tool outputs in the newest turn of proxied requests. `--no-optimize` forwards every request unchanged (history replay included).',
  }),
  compressionBudgetMs: field.int({
    flag: 'compression-budget-ms', env: ['HEADROOM_COMPRESSION_BUDGET_MS'], default: 500, min: 1, max: 600_000, group: 'compression',
    doc: 'Per-request compression time budget on the proxy path; content not compressed in time is forwarded unchanged.',
  }),
  compressionTimeoutSeconds: field.number({
    flag: 'compression-timeout-seconds', env: ['HEADROOM_COMPRESSION_TIMEOUT_SECONDS'], default: 30, min: 0, max: 3600,
    exclusiveMin: true, group: 'compression',
    doc: '`POST /v1/compress` gives up after this long with 503 `compression_timeout`.',
  }),
  minTokensToCompress: field.int({
    flag: 'min-tokens-to-compress', env: ['HEADROOM_MIN_TOKENS', 'HEADROOM_MIN_TOKENS_TO_COMPRESS'], default: 250, min: 0, max: 10_000_000,
    group: 'compression', doc: 'Tool outputs and texts below this many tokens are never compressed.',
  }),
  protectRecent: field.int({
    flag: 'protect-recent', env: ['HEADROOM_PROTECT_RECENT'], default: 4, min: 0, max: 100_000, group: 'compression',
    doc: 'Source code in the last N messages is never compressed.',
  }),
  protectAnalysisContext: field.bool({
    flag: 'protect-analysis-context', env: ['HEADROOM_PROTECT_ANALYSIS_CONTEXT'], default: true, group: 'compression',
    doc: 'Never compress source code while the user asks to review, debug, explain or fix it.',
  }),
  compressUserMessages: field.bool({
    flag: 'compress-user-messages', env: ['HEADROOM_COMPRESS_USER_MESSAGES'], default: false, group: 'compression',
    doc: 'Also compress large text the user sends (pasted logs); off by default because the user\'s text is the subject of the request.',
  }),
  targetRatio: field.optionalNumber({
    flag: 'target-ratio', env: ['HEADROOM_TARGET_RATIO'], default: null, min: 0.01, max: 1, group: 'compression',
    doc: 'Share of rows/lines/sentences lossy transforms keep (e.g. 0.3); unset = adaptive (typically 3-15 rows).',
  }),
  maxItems: field.int({
    flag: 'max-items', env: ['HEADROOM_MAX_ITEMS'], default: 15, min: 1, max: 10_000, group: 'compression',
    doc: 'Most rows an adaptive cut keeps from a JSON array (errors, anomalies and matches of the question are kept beyond it).',
  }),
  savingsProfile: field.enum({
    flag: 'savings-profile', env: ['HEADROOM_SAVINGS_PROFILE'], default: 'none', group: 'compression',
    values: ['none', 'agent-90', 'balanced', 'coding', 'general'] as const,
    doc: 'Named preset (Headroom\'s): `agent-90` (keep 10%), `balanced` (keep 30%), `coding`, `general`. It sets the compression options left at their defaults.',
  }),
  excludeTools: field.list({
    flag: 'exclude-tools', env: ['HEADROOM_EXCLUDE_TOOLS'], default: ['Read', 'Glob', 'Grep', 'Write', 'Edit'], group: 'compression',
    defaultText: 'Read,Glob,Grep,Write,Edit',
    doc: 'Tools whose outputs are never compressed (case-insensitive; globs such as `mcp__*`). Empty list = none.',
  }),
  replayTtlSeconds: field.int({
    flag: 'replay-ttl-seconds', env: ['HEADROOM_REPLAY_TTL_SECONDS'], default: 7200, min: 3600, max: 30 * 86_400, group: 'compression',
    doc: 'How long a compression decision is replayed after its last use, so resent history keeps the bytes the provider cached.',
  }),
  replayMaxBytes: field.bytes({
    flag: 'replay-max-bytes', env: ['HEADROOM_REPLAY_MAX_BYTES'], default: 64 * 1024 * 1024, min: 1024 * 1024, max: 16 * 1024 ** 3,
    group: 'compression', defaultText: '64MiB',
    doc: 'Memory budget of the replay map (least recently used decisions are dropped first).',
  }),
} as const;
