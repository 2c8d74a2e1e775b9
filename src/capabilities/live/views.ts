/** JSON shapes of the live view: active-request rows and the snapshot sent on the SSE stream. */
import type { ActiveEntry, LiveTracker } from './tracker.js';
import type { ActiveRow, ActiveSnapshot, Disabled } from './schema.js';
import { round2 } from '../../util/round.js';

export type { ActiveRow, ActiveSnapshot } from './schema.js';

/** Rows beyond this many (newest first) are left out of a snapshot; `active_total` has the true count. */
export const MAX_SNAPSHOT_ROWS = 1_000;

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
    ttfb_ms: a.ttfbMs === null ? null : round2(a.ttfbMs),
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

export const disabledBody = (): Disabled => ({ disabled: true, message: DISABLED_MESSAGE, suggestion: DISABLED_SUGGESTION });
