import { field } from '../field.js';

/** CCR: the store of originals, the `headroom_retrieve` tool and proxy-side retrieval (Headroom's names where it has them). */
export const ccrFields = {
  ccrBackend: field.enum({
    flag: 'ccr-backend', env: ['HEADROOM_CCR_BACKEND'], default: 'sqlite', group: 'ccr',
    values: ['sqlite', 'memory'] as const,
    doc: 'Where originals of lossy cuts are kept: `sqlite` (`<workspace>/ccr_store.db`, survives restarts) or `memory`. `--stateless` implies `memory`.',
  }),
  ccrTtlSeconds: field.int({
    flag: 'ccr-ttl-seconds', env: ['HEADROOM_CCR_TTL_SECONDS'], default: 1800, min: 60, max: 30 * 86_400, group: 'ccr',
    doc: 'How long an original stays retrievable after it was last stored, re-offered (every turn that still shows its marker) or retrieved.',
  }),
  ccrMaxBytes: field.bytes({
    flag: 'ccr-max-bytes', env: ['HEADROOM_CCR_MAX_BYTES'], default: 128 * 1024 * 1024, min: 1024 * 1024, max: 64 * 1024 ** 3,
    group: 'ccr', defaultText: '128MiB',
    doc: 'Byte budget of the store of originals (least recently used originals are dropped first).',
  }),
  ccrMaxEntries: field.int({
    flag: 'ccr-max-entries', env: ['HEADROOM_CCR_MAX_ENTRIES'], default: 5000, min: 1, max: 10_000_000, group: 'ccr',
    doc: 'Most originals kept (least recently used are dropped first).',
  }),
  ccrInjectTool: field.bool({
    flag: 'ccr-inject-tool', env: ['HEADROOM_CCR_INJECT_TOOL'], negatedEnv: ['HEADROOM_NO_CCR_INJECT_TOOL'], default: true, group: 'ccr',
    doc: 'Add the `headroom_retrieve` tool to requests that carry a retrieval marker (and, from then on, to every request of that conversation), and answer its calls in the proxy. `--no-ccr-inject-tool` leaves tools alone (clients then retrieve through `/v1/retrieve`).',
  }),
  ccrMaxRetrievalRounds: field.int({
    flag: 'ccr-max-retrieval-rounds', env: ['HEADROOM_CCR_MAX_RETRIEVAL_ROUNDS'], default: 3, min: 1, max: 10, group: 'ccr',
    doc: 'Most follow-up upstream calls the proxy makes for one client request to answer `headroom_retrieve` calls; a call beyond it is dropped and the answer ends there.',
  }),
} as const;
