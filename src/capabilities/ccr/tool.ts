/**
 * The `headroom_retrieve` tool: its definition in each API's format (fixed bytes, so the
 * tools array is identical on every request that carries it), and the answers it gives:
 * the original, the lines of it that match a query, or an actionable message on a miss.
 */
import { RETRIEVE_TOOL_NAME } from '../../compress/markers.js';
import { estimateCounter } from '../../compress/tokens.js';
import { searchOriginal } from '../../originals/search.js';
import type { CcrStore, Lookup, StoredOriginal } from '../../originals/store.js';

export { RETRIEVE_TOOL_NAME };

// Offered on every request that brings tools (`inject.ts`), so it is kept short. It says what
// the tool is for and that it only applies to hashes shown in our markers.
const DESCRIPTION =
  'Returns the full original of a tool output that headroom abbreviated; such outputs end with [headroom: ... call headroom_retrieve with hash=<hash> to read it]. ' +
  'Use it only with a hash from such a marker, when the rows or lines shown are not enough; pass query to get only the matching lines or rows.';
const HASH_DOC = 'The 24 hex characters after hash= in the marker.';
const QUERY_DOC = 'Optional: words or an exact string to search the original for; omit it to get the whole original.';

const schema = {
  type: 'object',
  properties: { hash: { type: 'string', description: HASH_DOC }, query: { type: 'string', description: QUERY_DOC } },
  required: ['hash'],
};

export type ToolFormat = 'anthropic' | 'chat' | 'responses';

/** The tool definition as it is appended to a request's `tools`, per API. */
export const TOOL_BYTES: Record<ToolFormat, Buffer> = {
  anthropic: Buffer.from(JSON.stringify({ name: RETRIEVE_TOOL_NAME, description: DESCRIPTION, input_schema: schema })),
  chat: Buffer.from(JSON.stringify({ type: 'function', function: { name: RETRIEVE_TOOL_NAME, description: DESCRIPTION, parameters: schema } })),
  // strict mode would require every property; the query is optional
  responses: Buffer.from(JSON.stringify({ type: 'function', name: RETRIEVE_TOOL_NAME, description: DESCRIPTION, parameters: schema, strict: false })),
};

/** Retrieved text handed to the model is capped (about 100k tokens); the rest is reachable with a query. */
export const MAX_RESULT_CHARS = 400_000;

export interface RetrieveArgs {
  hash: string | null;
  query: string | null;
}

/** Reads `{hash, query}` from a tool call's arguments (a JSON string or an object); tolerant of junk. */
export function parseRetrieveArgs(raw: unknown): RetrieveArgs {
  let v: unknown = raw;
  if (typeof raw === 'string') {
    try {
      v = raw.trim() ? JSON.parse(raw) : {};
    } catch {
      const m = /[0-9a-fA-F]{24}/.exec(raw);
      return { hash: m ? m[0] : null, query: null };
    }
  }
  const o = v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  const hash = typeof o.hash === 'string' ? o.hash : typeof o.hash_key === 'string' ? o.hash_key : null;
  const query = typeof o.query === 'string' && o.query.trim() ? o.query.trim().slice(0, 500) : null;
  return { hash, query };
}

export interface Answer {
  /** What the model reads as the tool result. */
  text: string;
  hit: boolean;
  lookup: Lookup;
  /** Estimated tokens of `text` when it carries original content (0 on a miss). */
  tokens: number;
  /** For retrieval events and API responses. */
  search: { matched: number; total: number; unit: string } | null;
}

export function missDetail(l: Extract<Lookup, { status: 'missing' | 'expired' }>, ttlSeconds: number): string {
  if (l.reason === 'expired') return `Entry expired (CCR TTL: ${ttlSeconds} seconds; age: ${l.ageSeconds ?? 0} seconds)`;
  if (l.reason === 'evicted') return `Entry evicted to keep the CCR store within its size budget (CCR TTL: ${ttlSeconds} seconds; last used ${l.ageSeconds ?? 0} seconds ago)`;
  if (l.reason === 'invalid') return 'Invalid hash: expected the 24 hex characters shown after hash= in the marker';
  return `Entry not found (CCR TTL: ${ttlSeconds} seconds)`;
}

function missText(l: Extract<Lookup, { status: 'missing' | 'expired' }>, ttlSeconds: number): string {
  const why =
    l.reason === 'invalid'
      ? `"${l.hash}" is not a valid hash; use the 24 hex characters shown after hash= in the marker`
      : l.reason === 'expired'
        ? `the original for hash=${l.hash} expired (it is kept ${Math.round(ttlSeconds / 60)} minutes after its last use)`
        : l.reason === 'evicted'
          ? `the original for hash=${l.hash} was dropped to keep the store within its size budget`
          : `no original is stored for hash=${l.hash} (check the hash against the marker; it may also have expired or come from another proxy)`;
  return `headroom_retrieve could not return the original: ${why}. Work with the abbreviated output you have, or run the tool or command that produced it again to get its full output.`;
}

function fullText(e: StoredOriginal): string {
  if (e.original.length <= MAX_RESULT_CHARS) return e.original;
  return `${e.original.slice(0, MAX_RESULT_CHARS)}\n[headroom_retrieve: the original is ${e.original.length} characters; the first ${MAX_RESULT_CHARS} are shown. Call headroom_retrieve again with a query to find specific lines or rows.]`;
}

/** Answers a retrieve call from the store and records the retrieval. */
export function answerRetrieve(store: CcrStore, args: RetrieveArgs, via: 'proxy' | 'api'): Answer {
  const lookup = store.get(args.hash ?? '', { touch: true });
  if (lookup.status !== 'available') return { text: missText(lookup, store.ttlSeconds), hit: false, lookup, tokens: 0, search: null };
  const e = lookup.entry;
  let text: string;
  let search: Answer['search'] = null;
  if (args.query) {
    const r = searchOriginal(e.original, args.query);
    search = { matched: r.matched, total: r.total, unit: r.unit };
    text = r.matched === 0
      ? `No ${r.unit === 'items' ? 'row' : 'line'} of the original (${r.total} ${r.unit}) mentions "${args.query}". Call headroom_retrieve again with other words, or without a query to read all of it.`
      : `${r.matched} of ${r.total} ${r.unit} of the original mention "${args.query}"${r.truncated ? ' (the first ones are shown)' : ''}:\n${r.text}`;
  } else {
    text = fullText(e);
  }
  store.recordRetrieval({
    hash: e.hash,
    query: args.query,
    itemsRetrieved: search ? search.matched : e.originalItems,
    totalItems: search ? search.total : e.originalItems,
    toolName: e.toolName,
    retrievalType: search ? 'search' : 'full',
    via,
    at: Date.now(),
  });
  return { text, hit: true, lookup, tokens: estimateCounter.count(text), search };
}
