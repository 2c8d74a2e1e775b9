/** JSON shapes of the live view: active-request rows and the snapshot sent on the SSE stream. */
import type { ActiveEntry, LiveTracker } from './tracker.js';

/** Rows beyond this many (newest first) are left out of a snapshot; `active_total` has the true count. */
export const MAX_SNAPSHOT_ROWS = 1_000;

export interface ActiveRow {
  request_id: string;
  kind: string;
  provider: string;
  api: string;
  path: string;
  /** The resolved model when the provider has reported it, else the requested one. */
  model: string | null;
  requested_model: string | null;
  resolved_model: string | null;
  /** `provider:model`; split it at the FIRST colon only (model ids may contain colons). */
  qualified_model: string | null;
  is_streaming: boolean;
  /** Epoch seconds (float). */
  start_time: number;
  start_time_iso: string;
  /** Elapsed at the time the snapshot was taken; clients should compute it from start_time. */
  duration_ms: number;
  ttfb_ms: number | null;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_creation_tokens: number;
  /** Tool calls (tool_use blocks) the model has made so far in this response (Vandamme's name). */
  tool_uses: number;
  tool_definitions: number;
  tool_results: number;
  tool_calls: number;
  request_size: number;
  response_size: number;
  message_count: number;
  client: string | null;
  project: string | null;
}

export function activeRow(a: ActiveEntry, now: number): ActiveRow {
  const model = a.resolvedModel ?? a.requestedModel;
  return {
    request_id: a.requestId,
    kind: a.kind,
    provider: a.provider,
    api: a.api,
    path: a.path,
    model,
    requested_model: a.requestedModel,
    resolved_model: a.resolvedModel,
    qualified_model: model === null ? null : `${a.provider}:${model}`,
    is_streaming: a.stream,
    start_time: a.startedAt / 1000,
    start_time_iso: new Date(a.startedAt).toISOString(),
    duration_ms: Math.max(0, now - a.startedAt),
    ttfb_ms: a.ttfbMs === null ? null : Math.round(a.ttfbMs * 100) / 100,
    input_tokens: a.inputTokens,
    output_tokens: a.outputTokens,
    cache_read_tokens: a.cacheReadTokens,
    cache_creation_tokens: a.cacheWriteTokens,
    tool_uses: a.toolCalls,
    tool_definitions: a.toolDefinitions,
    tool_results: a.toolResults,
    tool_calls: a.toolCalls,
    request_size: a.bytesIn,
    response_size: a.bytesOut,
    message_count: a.messageCount,
    client: a.client,
    project: a.project,
  };
}

export interface ActiveSnapshot {
  disabled: false;
  version: number;
  /** Server time of the snapshot, epoch seconds (lets clients correct for clock skew). */
  timestamp: number;
  timestamp_iso: string;
  active_total: number;
  truncated: boolean;
  active_requests: ActiveRow[];
  /** Cumulative completed counters since `since`. */
  completed: { since: string; requests: number; errors: number; input_tokens: number; output_tokens: number };
}

/** Active requests, newest first. */
export function activeSnapshot(t: LiveTracker, now: number = Date.now()): ActiveSnapshot {
  const entries = [...t.active.values()];
  entries.sort((a, b) => b.startedAt - a.startedAt);
  const shown = entries.length > MAX_SNAPSHOT_ROWS ? entries.slice(0, MAX_SNAPSHOT_ROWS) : entries;
  const total = t.all.total;
  return {
    disabled: false,
    version: t.version,
    timestamp: now / 1000,
    timestamp_iso: new Date(now).toISOString(),
    active_total: entries.length,
    truncated: shown.length < entries.length,
    active_requests: shown.map((a) => activeRow(a, now)),
    completed: {
      since: new Date(t.since).toISOString(),
      requests: total.completed,
      errors: total.errors,
      input_tokens: total.inputTokens,
      output_tokens: total.outputTokens,
    },
  };
}

export const DISABLED_MESSAGE = 'Live monitoring is disabled';
export const DISABLED_SUGGESTION = 'Start headroom-ts with --live-metrics (or HEADROOM_LIVE_METRICS=true) to enable it';

export const disabledBody = () => ({ disabled: true as const, message: DISABLED_MESSAGE, suggestion: DISABLED_SUGGESTION });
