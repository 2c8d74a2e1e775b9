/**
 * The per-request log record with Headroom's field names and order (used by `--log-file`,
 * `/stats.request_logs` and `/stats.recent_requests`), followed by headroom-ts additions.
 * Message bodies are included only when `--log-messages` put them on the outcome.
 */
import { createHash } from 'node:crypto';
import { jsonTooDeep } from '../../compress/json-depth.js';
import { accountingOf } from './accounting.js';
import type { RequestOutcome } from '../../core/outcome.js';
import { redactSecrets } from '../../core/redact.js';
import type { RequestLog } from './schema.js';
import { round2, round6 } from '../../util/round.js';

type Json = Record<string, unknown>;

/** Local time without offset, microsecond precision (Python `datetime.now().isoformat()`). */
export function localIso(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds() * 1000, 6)}`;
}

/** Python `json.dumps` (default separators, ensure_ascii), optionally with sorted keys. */
export function pyJson(v: unknown, sortKeys = false): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'NaN';
  if (typeof v === 'string') return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (Array.isArray(v)) return `[${v.map((x) => pyJson(x, sortKeys)).join(', ')}]`;
  if (typeof v === 'object') {
    const keys = Object.keys(v as Json);
    if (sortKeys) keys.sort();
    return `{${keys.map((k) => `${pyJson(k)}: ${pyJson((v as Json)[k], sortKeys)}`).join(', ')}}`;
  }
  return 'null';
}

/**
 * A logged body as JSON, or null. Bodies still in a Content-Encoding are not read here (the
 * proxy decodes a body once, with its size cap, and hands the decoded bytes over), and bodies
 * nested too deeply for the recursive walkers below are left out.
 */
function parseBody(body: Buffer | null, encoding: string | null): Json | null {
  if (!body || encoding) return null;
  try {
    const v = JSON.parse(body.toString('utf8')) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) && !jsonTooDeep(v) ? (v as Json) : null;
  } catch {
    return null;
  }
}

const messagesOf = (body: Json | null): unknown => (body ? (body.messages ?? body.input ?? null) : null);

const IMAGE_KEYS = new Set(['data', 'url', 'image_url', 'image']);

/** Replaces base64 image payloads with a marker; returns how many were replaced. */
export function redactImages(value: unknown, key = ''): { value: unknown; redacted: number } {
  if (typeof value === 'string') {
    if (value.length >= 1024 && (IMAGE_KEYS.has(key) || value.startsWith('data:image/'))) {
      return { value: `<image:base64-redacted bytes=${value.length}>`, redacted: 1 };
    }
    return { value, redacted: 0 };
  }
  if (Array.isArray(value)) {
    let n = 0;
    const out = value.map((v) => {
      const r = redactImages(v, key);
      n += r.redacted;
      return r.value;
    });
    return { value: out, redacted: n };
  }
  if (value !== null && typeof value === 'object') {
    let n = 0;
    const out: Json = {};
    for (const [k, v] of Object.entries(value as Json)) {
      const r = redactImages(v, k);
      n += r.redacted;
      out[k] = r.value;
    }
    return { value: out, redacted: n };
  }
  return { value, redacted: 0 };
}

function withoutCacheControl(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutCacheControl);
  if (v !== null && typeof v === 'object') {
    const out: Json = {};
    for (const [k, x] of Object.entries(v as Json)) if (k !== 'cache_control') out[k] = withoutCacheControl(x);
    return out;
  }
  return v;
}

const isTextOnlyUser = (m: unknown): boolean => {
  const msg = m as Json | null;
  if (!msg || msg.role !== 'user') return false;
  if (typeof msg.content === 'string') return true;
  return Array.isArray(msg.content) && msg.content.every((b) => (b as Json | null)?.type !== 'tool_result');
};

/** Headroom's turn id: 16 hex of SHA-256(model NUL system NUL messages up to the last text-only user turn). */
export function turnId(body: Json | null): string | null {
  if (!body || !Array.isArray(body.messages)) return null;
  const msgs = body.messages as unknown[];
  let last = -1;
  for (let i = msgs.length - 1; i >= 0; i--) {
    if (isTextOnlyUser(msgs[i])) {
      last = i;
      break;
    }
  }
  if (last < 0) return null;
  const system = typeof body.system === 'string' ? body.system : body.system === undefined ? '' : pyJson(withoutCacheControl(body.system), true);
  const h = createHash('sha256');
  h.update(String(body.model ?? ''));
  h.update('\u0000');
  h.update(system);
  h.update('\u0000');
  h.update(pyJson(msgs.slice(0, last + 1), true));
  return h.digest('hex').slice(0, 16);
}

export interface RecordOptions {
  /** Include request_messages / compressed_messages / response_content (needs `o.messages`). */
  withMessages: boolean;
}

/** The `--log-file` line: the `/stats.request_logs` record plus the bodies when `--log-messages` is on. */
export type LogRecord = RequestLog & { request_messages?: unknown; compressed_messages?: unknown; response_content?: null };

export interface BuiltRecord {
  record: LogRecord;
  imagesRedacted: number;
}

export function requestRecord(o: RequestOutcome, opts: RecordOptions): BuiltRecord {
  const a = accountingOf(o);
  const tags: Record<string, string> = {};
  for (const k in o.tags) tags[k] = redactSecrets(o.tags[k] ?? '');
  if (o.client) tags.client = o.client;
  if (o.project) tags.project = o.project;
  let imagesRedacted = 0;
  let requestBody: Json | null = null;
  let bodies: Pick<LogRecord, 'request_messages' | 'compressed_messages' | 'response_content'> = {};
  if (opts.withMessages) {
    const m = o.messages;
    requestBody = m ? parseBody(m.request, m.contentEncoding) : null;
    const forwarded = m?.forwarded ? parseBody(m.forwarded, null) : null;
    const req = redactImages(messagesOf(requestBody));
    const fwd = redactImages(messagesOf(forwarded));
    imagesRedacted = req.redacted + fwd.redacted;
    bodies = { request_messages: req.value, compressed_messages: fwd.value, response_content: null };
  }
  // Headroom's fields in Headroom's order, then the headroom-ts additions
  const record: LogRecord = {
    request_id: o.requestId,
    timestamp: localIso(o.endedAt),
    provider: o.provider,
    model: a.model,
    input_tokens_original: a.tokensBefore,
    input_tokens_optimized: a.inputTokens,
    output_tokens: a.outputTokens,
    tokens_saved: a.tokensSaved,
    savings_percent: a.tokensBefore > 0 ? (a.tokensSaved / a.tokensBefore) * 100 : 0,
    optimization_latency_ms: o.timing.overheadMs,
    total_latency_ms: o.timing.totalMs,
    tags,
    cache_hit: a.cached,
    transforms_applied: o.compression.transforms,
    waste_signals: o.compression.wasteSignals ?? null,
    ...bodies,
    error: o.errorType ? redactSecrets(`${o.errorType}: ${o.errorMessage ?? ''}`.trim()) : null,
    turn_id: turnId(requestBody),
    kind: o.kind,
    api: o.api,
    status: o.status,
    stream: o.stream,
    ttfb_ms: o.timing.ttfbMs,
    cache_read_tokens: a.cacheReadTokens,
    cache_write_tokens: a.cacheWriteTokens,
    input_cost_usd: round6(a.inputCostUsd),
    output_cost_usd: round6(a.outputCostUsd),
    compression_savings_usd: round6(a.compressionSavingsUsd),
    price_fallback: a.fallbackPriced,
    stack: o.stack,
    project: o.project,
    upstream_ms: o.timing.upstreamMs === null ? null : round2(o.timing.upstreamMs),
    upstream_attempts: o.timing.upstreamAttempts,
    stage_timings_ms: round2Map(o.timing.stagesMs),
    transform_timings_ms: round2Map(o.compression.timingsMs),
  };
  return { record, imagesRedacted };
}


function round2Map(m: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k in m) out[k] = round2(m[k] ?? 0);
  return out;
}

/** The in-memory record (`/stats.request_logs`): the file record without message bodies. */
export function recordWithoutBodies(r: LogRecord): RequestLog {
  const { request_messages: _a, compressed_messages: _b, response_content: _c, ...rest } = r;
  return rest;
}
