import { field } from '../field.js';

/** The Aperture `pre_request` hook (`headroom-ts hook`, and `POST /hooks/aperture` on the proxy). */
export const hookFields = {
  hook: field.bool({
    flag: 'hook', env: ['HEADROOM_HOOK'], default: false, group: 'hook',
    doc: 'Serve the Aperture pre_request hook on the proxy at `POST /hooks/aperture` (its settings at `/hooks/aperture/config`), with its own worker pool.',
  }),
  hookPort: field.int({
    flag: 'hook-port', env: ['HEADROOM_HOOK_PORT'], default: 8790, min: 0, max: 65535, group: 'hook',
    doc: 'Port of the standalone `headroom-ts hook` server (binds `--host`; 0 picks a free port).',
  }),
  hookPoolSize: field.int({
    flag: 'hook-pool-size', env: ['HEADROOM_HOOK_POOL_SIZE'], default: 0, min: 0, max: 64, group: 'hook',
    defaultText: '0 (auto: CPU count, at most 8)',
    doc: 'Compression worker threads of the hook. 0 = one per CPU, at most 8.',
  }),
  hookMaxCompressSeconds: field.number({
    flag: 'hook-max-compress-seconds', env: ['HEADROOM_HOOK_MAX_COMPRESS_SECONDS'], default: 60, min: 0, max: 3600, exclusiveMin: true, group: 'hook',
    doc: 'Hard cap on one worker call; a worker exceeding it is terminated and replaced, and the request is allowed unchanged.',
  }),
  hookConfigFile: field.string({
    flag: 'hook-config-file', env: ['HEADROOM_HOOK_CONFIG_FILE'], default: '', group: 'hook',
    defaultText: '<workspace-dir>/hook.config.json',
    doc: 'Where `PUT /config` persists the hook\'s compression settings (written atomically; loaded at start).',
  }),
  hookAffinity: field.bool({
    flag: 'hook-affinity', env: ['HEADROOM_HOOK_AFFINITY'], default: true, group: 'hook',
    doc: 'Route requests of one session (`metadata.session_id`, else a hash of the opening messages) to the same worker; `--no-hook-affinity` uses any free worker.',
  }),
  hookGzipResponse: field.bool({
    flag: 'hook-gzip-response', env: ['HEADROOM_HOOK_GZIP_RESPONSE'], default: true, group: 'hook',
    doc: 'Gzip hook responses when the caller sends `Accept-Encoding: gzip`.',
  }),
  hookAcceptCompressed: field.bool({
    flag: 'hook-accept-compressed', env: ['HEADROOM_HOOK_ACCEPT_COMPRESSED'], default: true, group: 'hook',
    doc: 'Advertise `Accept-Encoding: zstd, gzip` on hook responses (RFC 7694) so the gateway compresses request bodies. Encoded bodies are decoded either way.',
  }),
  hookVerbose: field.bool({
    flag: 'hook-verbose', env: ['HEADROOM_HOOK_VERBOSE'], default: false, group: 'hook',
    doc: 'Print one summary line per hook request to stdout (`headroom-ts hook -v`).',
  }),
} as const;
