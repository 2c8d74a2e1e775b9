import { field } from '../field.js';

/** `UTC`, `local`, or a timezone name this runtime's `Intl` knows. */
function knownTimezone(name: string): boolean {
  if (name === 'UTC' || name === 'local') return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** Controls: spend budgets, rate limits and the exact response cache (all off by default). */
export const controlsFields = {
  budget: field.optionalNumber({
    flag: 'budget', env: ['HEADROOM_BUDGET'], default: null, min: 0, max: 1e9, group: 'controls',
    doc: 'Spend limit in USD per budget period for all LLM requests together (provider prices of the actual usage). Exceeded -> 429 `budget_exceeded` in the provider\'s error shape. `0` refuses every priced request. Unset = no global budget.',
  }),
  budgetPeriod: field.enum({
    flag: 'budget-period', env: ['HEADROOM_BUDGET_PERIOD'], default: 'daily', group: 'controls',
    values: ['hourly', 'daily', 'weekly', 'monthly'] as const,
    doc: 'Budget period, on calendar boundaries in `--budget-timezone`: the hour, the day (00:00), the ISO week (Monday 00:00) or the month (1st 00:00).',
  }),
  budgetTimezone: field.string({
    flag: 'budget-timezone', env: ['HEADROOM_BUDGET_TIMEZONE'], default: 'UTC', group: 'controls',
    pattern: /^(?:UTC|local|[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*)$/,
    patternText: '`UTC`, `local` (the process timezone) or an IANA timezone name such as `Europe/Paris`', check: knownTimezone,
    doc: 'Timezone whose calendar defines the budget period boundaries.',
  }),
  budgetPerKey: field.optionalNumber({
    flag: 'budget-per-key', env: ['HEADROOM_BUDGET_PER_KEY'], default: null, min: 0, max: 1e9, group: 'controls',
    doc: 'Spend limit in USD per budget period for each caller API key (told apart by a hash of the key; the key itself is never stored).',
  }),
  budgetPerProject: field.optionalNumber({
    flag: 'budget-per-project', env: ['HEADROOM_BUDGET_PER_PROJECT'], default: null, min: 0, max: 1e9, group: 'controls',
    doc: 'Spend limit in USD per budget period for each project (`X-Headroom-Project` or a `/p/<name>/` prefix).',
  }),
  budgetDefaultMaxTokens: field.int({
    flag: 'budget-default-max-tokens', env: ['HEADROOM_BUDGET_DEFAULT_MAX_TOKENS'], default: 4096, min: 1, max: 10_000_000, group: 'controls',
    doc: 'Output tokens reserved for a request that sets no `max_tokens` / `max_completion_tokens` / `max_output_tokens` (the reservation is settled with the actual usage afterwards).',
  }),
  rateLimit: field.bool({
    flag: 'rate-limit', env: ['HEADROOM_RATE_LIMIT'], default: false, group: 'controls',
    doc: 'Turn the rate limiter on (token buckets per caller; 60 requests/min unless `--rpm`/`--tpm` say otherwise). Setting `--rpm` or `--tpm` also turns it on.',
  }),
  rpm: field.optionalNumber({
    flag: 'rpm', env: ['HEADROOM_RPM'], default: null, min: 1, max: 1e9, group: 'controls',
    doc: 'Requests per minute per caller (bucket size; refills continuously). Turns the rate limiter on.',
  }),
  tpm: field.optionalNumber({
    flag: 'tpm', env: ['HEADROOM_TPM'], default: null, min: 1, max: 1e12, group: 'controls',
    doc: 'Tokens (input + output) per minute per caller. The estimated input is taken on arrival and corrected with the actual usage afterwards. Turns the rate limiter on.',
  }),
  rateLimitBy: field.enum({
    flag: 'rate-limit-by', env: ['HEADROOM_RATE_LIMIT_BY'], default: 'key', group: 'controls',
    values: ['key', 'ip', 'key_ip'] as const,
    doc: 'Who a bucket belongs to: `key` (API-key hash; the client IP when no key is sent), `ip` (client IP), `key_ip` (each key from each IP).',
  }),
  cache: field.bool({
    flag: 'cache', env: ['HEADROOM_CACHE'], default: false, group: 'controls',
    doc: 'Exact response cache for non-streaming LLM requests: an identical request (same API key, model, messages, system, tools and sampling parameters; `cache_control` ignored) is answered from memory without an upstream call.',
  }),
  cacheTtl: field.int({
    flag: 'cache-ttl', env: ['HEADROOM_CACHE_TTL'], default: 3600, min: 1, max: 31_536_000, group: 'controls',
    doc: 'Seconds a cached response stays valid.',
  }),
  cacheMaxBytes: field.bytes({
    flag: 'cache-max-bytes', env: ['HEADROOM_CACHE_MAX_BYTES'], default: 64 * 1024 * 1024, min: 1024, max: 64 * 1024 ** 3,
    group: 'controls', defaultText: '64MiB',
    doc: 'Memory bound of the response cache (bodies, headers and keys); least recently used entries are evicted beyond it.',
  }),
  cacheMaxEntries: field.int({
    flag: 'cache-max-entries', env: ['HEADROOM_CACHE_MAX_ENTRIES'], default: 1000, min: 1, max: 10_000_000, group: 'controls',
    doc: 'Most responses kept in the response cache (least recently used evicted beyond it).',
  }),
} as const;
