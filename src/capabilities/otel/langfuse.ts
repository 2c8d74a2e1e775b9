/**
 * Langfuse as a trace backend: OTLP/HTTP to `{base}/api/public/otel/v1/traces` with Basic auth
 * (`public:secret`) and `x-langfuse-ingestion-version: 4`. The request span carries the
 * `gen_ai.*` attributes Langfuse turns into a generation (model, usage, cost).
 */
import type { Config } from '../../config/index.js';

export const LANGFUSE_DEFAULT_BASE_URL = 'https://cloud.langfuse.com';
export const LANGFUSE_TRACES_PATH = '/api/public/otel/v1/traces';
export const LANGFUSE_INGESTION_VERSION = '4';

export interface LangfuseSettings {
  enabled: boolean;
  /** Export runs: enabled and both keys present. */
  active: boolean;
  baseUrl: string;
  endpoint: string;
  serviceName: string;
  publicKey: string | null;
  /** Why an enabled Langfuse export is not running. */
  problem: string | null;
}

export function langfuseSettings(config: Config): LangfuseSettings {
  const baseUrl = (config.langfuseBaseUrl ?? LANGFUSE_DEFAULT_BASE_URL).replace(/\/+$/, '');
  const missing = [
    config.langfusePublicKey ? null : 'LANGFUSE_PUBLIC_KEY',
    config.langfuseSecretKey ? null : 'LANGFUSE_SECRET_KEY',
  ].filter((x): x is string => x !== null);
  const enabled = config.langfuseEnabled;
  return {
    enabled,
    active: enabled && missing.length === 0,
    baseUrl,
    endpoint: `${baseUrl}${LANGFUSE_TRACES_PATH}`,
    serviceName: config.langfuseServiceName,
    publicKey: config.langfusePublicKey,
    problem: enabled && missing.length > 0 ? `${missing.join(' and ')} not set; no traces are sent to Langfuse` : null,
  };
}

/** The export headers (they hold the secret key: never log them). */
export function langfuseHeaders(config: Config): Record<string, string> {
  const token = Buffer.from(`${config.langfusePublicKey ?? ''}:${config.langfuseSecretKey ?? ''}`).toString('base64');
  return { Authorization: `Basic ${token}`, 'x-langfuse-ingestion-version': LANGFUSE_INGESTION_VERSION };
}
