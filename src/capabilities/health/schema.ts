/**
 * The wire shape of `GET /health` (and `/readyz`'s body), declared once: the health
 * capability builds it typed by this, the dashboard takes its types from it, tests parse real
 * responses with it and docs/wire-shapes.md is generated from it. Imports nothing but zod.
 */
import { z } from 'zod';

/** One check; capabilities add their own fields (e.g. the store's `backend`, the upstream's `url`). */
export const healthCheckSchema = z.object({
  enabled: z.boolean(),
  ready: z.boolean().describe('Always true for a disabled check'),
  status: z.enum(['healthy', 'degraded', 'unhealthy', 'disabled']),
  error: z.string().nullable().optional(),
  degraded: z.boolean().optional().describe('Serving, but not as configured (e.g. a store running from memory)'),
});

export const healthSchema = z.object({
  service: z.literal('headroom-proxy'),
  status: z.enum(['healthy', 'degraded', 'unhealthy']),
  ready: z.boolean().describe('Every enabled check is ready'),
  degraded_checks: z.array(z.string()),
  version: z.string(),
  timestamp: z.string(),
  uptime_seconds: z.number(),
  checks: z.record(z.string(), healthCheckSchema).describe('`startup`, `http_client`, `cache`, `rate_limiter`, `memory`, then the checks capabilities register'),
  runtime: z.object({ node_version: z.string(), pid: z.number().int(), funnel: z.record(z.string(), z.unknown()).describe('Sink queue figures') }),
  rust_core: z.literal('disabled'),
  config: z.record(z.string(), z.unknown()).optional().describe('Strict loopback callers only'),
});

export type HealthCheckJson = z.infer<typeof healthCheckSchema>;
export type Health = z.infer<typeof healthSchema>;
