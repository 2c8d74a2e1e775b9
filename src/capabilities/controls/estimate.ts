/**
 * What a request may cost, known before it is forwarded: a conservative estimate of its input
 * tokens, the most output it can produce, and the dollars to reserve for it.
 *
 * - Input tokens: request text bytes / 3 (real tokenizers average 3.5-4.5 bytes per token on
 *   English, code and JSON, so this over-estimates), plus a fixed 1,600 tokens per image
 *   (the largest an image costs at default resolution) instead of its base64 bytes.
 * - Output tokens: `max_tokens` (Anthropic, OpenAI chat), `max_completion_tokens` (chat),
 *   `max_output_tokens` (Responses), times `n` choices; else the configured default.
 * - Dollars: input at the input price, or at the cache-write price when the request asks for
 *   prompt caching (writes cost more than plain input), plus output at the output price,
 *   with the long-context tier the estimated prompt falls in.
 */
import { type ModelPrice, priceFor, ratesAt } from '../../providers/pricing.js';
import type { ApiKind, ProviderId } from '../../core/outcome.js';

export const BYTES_PER_TOKEN = 3;
export const TOKENS_PER_IMAGE = 1600;

export interface RequestEstimate {
  inputTokens: number;
  /** Upper bound of output tokens (all choices). */
  maxOutputTokens: number;
  /** The request marks content for provider prompt caching. */
  cacheControl: boolean;
  images: number;
}

type Json = Record<string, unknown>;

const IMAGE_TYPES = new Set(['image', 'image_url', 'input_image']);

const posInt = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.ceil(v) : null);

/** Walks the body: text bytes (keys and strings), images counted apart, `cache_control` seen. */
function walk(v: unknown, acc: { bytes: number; images: number; cacheControl: boolean }): void {
  if (typeof v === 'string') {
    acc.bytes += Buffer.byteLength(v);
    return;
  }
  if (v === null || typeof v !== 'object') {
    acc.bytes += 2;
    return;
  }
  if (Array.isArray(v)) {
    for (const item of v) walk(item, acc);
    return;
  }
  const o = v as Json;
  if (typeof o.type === 'string' && IMAGE_TYPES.has(o.type)) {
    acc.images++;
    return;
  }
  for (const k in o) {
    if (k === 'cache_control') {
      acc.cacheControl = true;
      continue;
    }
    acc.bytes += k.length + 3;
    walk(o[k], acc);
  }
}

function maxOutput(api: ApiKind, body: Json, fallback: number): number {
  let max: number | null;
  if (api === 'responses') max = posInt(body.max_output_tokens);
  else if (api === 'chat') max = posInt(body.max_completion_tokens) ?? posInt(body.max_tokens);
  else if (api === 'generate_content') max = posInt((body.generationConfig as Json | undefined)?.maxOutputTokens);
  else max = posInt(body.max_tokens);
  const n = api === 'chat' ? (posInt(body.n) ?? 1) : 1;
  return (max ?? fallback) * n;
}

/** Estimates a parsed request (one walk over it: text bytes, images, `cache_control`). */
export function estimateRequest(api: ApiKind, body: Json, defaultMaxOutput: number): RequestEstimate {
  const acc = { bytes: 0, images: 0, cacheControl: false };
  walk(body, acc);
  return {
    inputTokens: Math.ceil(acc.bytes / BYTES_PER_TOKEN) + acc.images * TOKENS_PER_IMAGE,
    maxOutputTokens: maxOutput(api, body, defaultMaxOutput),
    cacheControl: acc.cacheControl,
    images: acc.images,
  };
}

/** The most this request can cost in USD, by the estimate and the model's price. */
export function reservationUsd(est: RequestEstimate, price: ModelPrice): number {
  const rates = ratesAt(price, est.inputTokens);
  const inputRate = est.cacheControl ? Math.max(rates.input, rates.cacheWrite5m, rates.cacheWrite1h) : rates.input;
  return (est.inputTokens * inputRate + est.maxOutputTokens * rates.output) / 1e6;
}

export function reservationFor(provider: ProviderId, model: string | null, est: RequestEstimate): number {
  return reservationUsd(est, priceFor(provider, model));
}
