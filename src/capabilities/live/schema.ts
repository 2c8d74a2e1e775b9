/**
 * The wire shapes of the live endpoints, declared once: `/metrics/active-requests` (and the
 * `update` events of its SSE stream), `/metrics/running-totals` (JSON), `/metrics/logs`, and
 * the bodies served while live monitoring is off. The server builds them typed by these
 * (`views.ts`, `totals.ts`, `tracker.ts`, `routes.ts`), the dashboard takes its types from
 * them, tests parse real responses with them and docs/wire-shapes.md is generated from them.
 * This file imports nothing but zod.
 */
import { z } from 'zod';

const num = z.number();
const int = z.number().int();
const str = z.string();
const counts = z.record(z.string(), z.number());

/** Served instead of a view when live monitoring is off (`--no-live-metrics`). */
export const disabledSchema = z.object({
  disabled: z.literal(true),
  message: str,
  suggestion: str,
});

export const activeRowSchema = z.object({
  request_id: str,
  kind: str.describe('`proxy`, `compress` or `hook`'),
  provider: str,
  api: str,
  path: str,
  model: str.nullable().describe('The resolved model when the provider has reported it, else the requested one'),
  requested_model: str.nullable(),
  resolved_model: str.nullable(),
  qualified_model: str.nullable().describe('`provider:model`; split at the FIRST colon only'),
  is_streaming: z.boolean(),
  start_time: num.describe('Epoch seconds (float)'),
  start_time_iso: str,
  duration_ms: num.describe('Elapsed when the snapshot was taken; compute it from start_time instead'),
  ttfb_ms: num.nullable(),
  input_tokens: int,
  output_tokens: int,
  cache_read_tokens: int,
  cache_creation_tokens: int,
  tool_uses: int.describe('Tool calls the model made so far in this response'),
  tool_definitions: int,
  tool_results: int,
  tool_calls: int,
  request_size: int.describe('Request body bytes'),
  response_size: int.describe('Response bytes so far'),
  message_count: int,
  client: str.nullable(),
  project: str.nullable(),
  instance: str.optional().describe('With a fleet Redis (`--redis-url`): the instance serving the request'),
});

/** One instance of a fleet in the live view (`--redis-url`). */
export const fleetInstanceSchema = z.object({
  instance: str,
  self: z.boolean().describe('This is the instance that answered'),
  active_total: int,
  completed: z.object({ since: str, requests: int, errors: int, input_tokens: int, output_tokens: int }),
});

/** `GET /metrics/active-requests` and the data of each `update` event of its stream. */
export const activeSnapshotSchema = z.object({
  disabled: z.literal(false),
  version: int.describe('Changes whenever anything shown changed (the SSE event id carries it)'),
  timestamp: num.describe('Server time, epoch seconds (corrects for clock skew)'),
  timestamp_iso: str,
  active_total: int.describe('Requests in flight (all of them, even when rows were left out)'),
  truncated: z.boolean().describe('Rows beyond 1000 (newest first) were left out'),
  active_requests: z.array(activeRowSchema).describe('Newest first'),
  completed: z.object({ since: str, requests: int, errors: int, input_tokens: int, output_tokens: int }).describe('Cumulative since `since`'),
  fleet: z.object({
    instance: str.describe('The instance that answered'),
    degraded: z.boolean().describe('Redis could not be read: other instances may be missing or stale'),
    instances: z.array(fleetInstanceSchema),
  }).optional().describe('With a fleet Redis: rows and totals of every instance (`active_total` and `active_requests` cover the fleet, `completed` this instance)'),
});

/** `GET /metrics/active-requests` while live monitoring is off. */
export const activeDisabledSchema = disabledSchema.extend({ active_requests: z.array(activeRowSchema).max(0) });

export const totalsSectionSchema = z.object({
  requests: int,
  errors: int,
  input_tokens: int,
  output_tokens: int,
  cache_read_tokens: int,
  cache_creation_tokens: int,
  tool_uses: int.describe('Vandamme\'s name for `tool_calls`'),
  tool_definitions: int,
  tool_results: int,
  tool_calls: int,
  tokens_saved: int,
  active_requests: int,
  total_duration_ms: num,
  average_duration_ms: num,
  error_types: counts.optional().describe('Present in `total` once an error was seen'),
});

export const splitSchema = z.object({
  total: totalsSectionSchema,
  streaming: totalsSectionSchema.optional().describe('Present when a streaming request was counted'),
  non_streaming: totalsSectionSchema.optional().describe('Present when a non-streaming request was counted'),
});

export const modelTotalsSchema = splitSchema.extend({ last_accessed: str.nullable() });

export const providerTotalsSchema = z.object({
  last_accessed: str.nullable(),
  rollup: splitSchema.describe('The sum of the provider\'s models'),
  models: z.record(z.string(), modelTotalsSchema),
});

/** `GET /metrics/running-totals?format=json` (the YAML form carries the same tree). */
export const runningTotalsSchema = z.object({
  summary: z.object({
    since: str,
    generated_at: str,
    last_accessed: z.object({ top: str }).nullable().describe('The most recent request start of the whole view'),
    total_requests: int,
    completed_requests: int,
    active_requests: int,
    total_errors: int,
    error_rate: num.describe('Errors / completed requests (0..1, 4 decimals)'),
    total_input_tokens: int,
    total_output_tokens: int,
    total_cache_read_tokens: int,
    total_cache_creation_tokens: int,
    total_tool_uses: int,
    total_tool_definitions: int,
    total_tool_results: int,
    total_tool_calls: int,
    total_tokens_saved: int,
    average_duration_ms: num,
    total_duration_ms: num,
    error_types: counts,
  }),
  filters: z.object({ provider: str.nullable(), model: str.nullable(), include_active: z.boolean() }),
  providers: z.record(z.string(), providerTotalsSchema).describe('provider -> model, sorted by name; a routed request counts under the provider that answered it (requests in flight under their route\'s provider)'),
});

/** One finished request in `/metrics/logs` (errors and traces). Vandamme's fields first. */
export const traceSchema = z.object({
  seq: int,
  ts: num.describe('End time, epoch seconds (float)'),
  ts_iso: str,
  request_id: str,
  kind: z.enum(['proxy', 'compress', 'hook']),
  provider: str,
  api: str,
  path: str,
  model: str,
  requested_model: str.nullable(),
  routed_provider: str.nullable().describe('The provider routing sent it to (the one that answered); null when not routed'),
  routed_model: str.nullable().describe('The model that provider was asked for'),
  is_streaming: z.boolean(),
  status: z.enum(['ok', 'error']),
  http_status: int,
  error_type: str.nullable(),
  error: str.nullable(),
  started_at: str,
  duration_ms: num,
  ttfb_ms: num.nullable(),
  upstream_ms: num.nullable(),
  upstream_attempts: int,
  input_tokens: int,
  output_tokens: int,
  cache_read_tokens: int,
  cache_creation_tokens: int,
  tool_use_count: int,
  tool_call_count: int,
  tool_result_count: int.describe('Tool results sent in the newest turn'),
  tool_definitions: int,
  tool_results: int,
  tool_calls: int,
  tokens_saved: int,
  request_size: int,
  response_size: int,
  finish_reason: str.nullable(),
  client: str.nullable(),
  project: str.nullable(),
});

const bufferSchema = z.object({ capacity: int, held: int, recorded: int.describe('Pushed since start (held + dropped)') });

/** `GET /metrics/logs`. */
export const logsSchema = z.object({
  disabled: z.literal(false),
  systemd: z.object({ requested: z.boolean(), effective: z.boolean(), handler: z.literal('console') }),
  buffers: z.object({ errors: bufferSchema, traces: bufferSchema }),
  errors: z.array(traceSchema).describe('Newest first'),
  traces: z.array(traceSchema).describe('Newest first'),
});

/** `GET /metrics/logs` while live monitoring is off. */
export const logsDisabledSchema = disabledSchema.extend({ errors: z.array(traceSchema).max(0), traces: z.array(traceSchema).max(0) });

/** `POST /metrics/active-requests/stream/session`. */
export const streamSessionSchema = z.object({
  ok: z.literal(true),
  stream: str.describe('The stream path the cookie opens'),
  expires_at: str,
});

export type ActiveRow = z.infer<typeof activeRowSchema>;
export type ActiveSnapshot = z.infer<typeof activeSnapshotSchema>;
export type TotalsSection = z.infer<typeof totalsSectionSchema>;
export type SplitTotals = z.infer<typeof splitSchema>;
export type ModelTotals = z.infer<typeof modelTotalsSchema>;
export type ProviderTotals = z.infer<typeof providerTotalsSchema>;
export type RunningTotals = z.infer<typeof runningTotalsSchema>;
export type Trace = z.infer<typeof traceSchema>;
export type Logs = z.infer<typeof logsSchema>;
export type Disabled = z.infer<typeof disabledSchema>;
export type ActiveDisabled = z.infer<typeof activeDisabledSchema>;
export type LogsDisabled = z.infer<typeof logsDisabledSchema>;
export type StreamSession = z.infer<typeof streamSessionSchema>;
