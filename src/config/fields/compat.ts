import { field } from '../field.js';

/**
 * Headroom's `headroom proxy` options that have an equivalent here. `--mode`: Headroom's
 * `token` mode (most tokens saved) and `cache` mode (keep the provider's prompt-cache prefix
 * frozen) are one behaviour in headroom-ts, which always does both: the newest turn is
 * compressed and earlier turns are replayed byte for byte. The value is accepted (with
 * Headroom's aliases) and reported as `/stats` `summary.mode`.
 */
export const compatFields = {
  mode: field.enum({
    flag: 'mode', env: ['HEADROOM_MODE'], default: 'token', group: 'compression',
    values: ['token', 'cache'] as const,
    aliases: { token_mode: 'token', token_savings: 'token', token_headroom: 'token', cache_mode: 'cache', cost_savings: 'cache' },
    doc: 'Headroom\'s proxy mode, reported as `summary.mode`. Both behave the same here: only the newest turn is compressed and earlier turns are replayed byte for byte, which saves tokens (`token`) and keeps the prompt-cache prefix frozen (`cache`).',
  }),
} as const;
