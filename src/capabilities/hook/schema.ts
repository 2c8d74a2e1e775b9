/**
 * The wire shapes of the hook protocol (the Aperture `pre_request` hook): the envelope a
 * gateway POSTs, the two answers, and the runtime settings of `GET`/`PUT /config`. The
 * handler answers typed by them (`handler.ts`, `settings.ts`), tests parse real answers with
 * them and docs/wire-shapes.md is generated from them.
 *
 * The envelope schema says what the hook reads; the handler itself never refuses an
 * envelope (it fails open: anything it cannot use is answered `allow`).
 */
import { z } from 'zod';
import { SAVINGS_PROFILES, type SavingsProfile } from '../../compress/options.js';

/** `POST /` body. Other keys (of the envelope, the metadata or the body) are kept as sent. */
export const hookEnvelopeSchema = z.object({
  metadata: z.object({
    provider: z.string().optional().describe('`anthropic` selects Anthropic messages; anything else is detected from the messages'),
    model: z.string().optional().describe('Model for the tokenizer and the context window (else `request_body.model`)'),
    session_id: z.string().optional().describe('Requests of one session go to the same worker (warm caches)'),
  }).optional(),
  request_body: z.object({
    model: z.string().optional(),
    messages: z.array(z.unknown()).describe('The only part the hook may change'),
  }).describe('The provider request as the gateway will send it'),
});

/** Nothing to change: the gateway sends the request as it is. */
export const hookAllowSchema = z.object({ action: z.literal('allow') });

/** `request_body` with only `messages` replaced; every other byte of it as received. */
export const hookModifySchema = z.object({
  action: z.literal('modify'),
  request_body: z.object({ messages: z.array(z.unknown()) }).describe('The received request_body, `messages` compressed'),
});

/** `POST /` answer (HTTP 200, one JSON line). Never `block`: every failure answers `allow`. */
export const hookResponseSchema = z.discriminatedUnion('action', [hookAllowSchema, hookModifySchema]);

/** The runtime settings (`GET /config`, body of `PUT`/`POST /config`, all eight keys in this order). */
export const hookSettingsSchema = z.object({
  compress_user_messages: z.boolean(),
  compress_system_messages: z.boolean(),
  protect_recent: z.number().int().min(0).describe('Newest messages never compressed'),
  protect_analysis_context: z.boolean(),
  target_ratio: z.number().gt(0).max(1).nullable(),
  min_tokens_to_compress: z.number().int().min(0),
  kompress_model: z.string().nullable().describe('Accepted and persisted for compatibility; the engine has no Kompress model'),
  savings_profile: z.enum(SAVINGS_PROFILES as readonly [SavingsProfile, ...SavingsProfile[]]).nullable(),
});

/** `GET /config`: the settings plus the read-only version. */
export const hookConfigSchema = hookSettingsSchema.extend({
  headroom_version: z.string().optional().describe('The headroom-ts version (read-only; absent when unknown)'),
});

export type HookEnvelope = z.infer<typeof hookEnvelopeSchema>;
export type HookResponse = z.infer<typeof hookResponseSchema>;
export type HookSettings = z.infer<typeof hookSettingsSchema>;
export type HookConfig = z.infer<typeof hookConfigSchema>;
